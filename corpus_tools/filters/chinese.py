"""Chinese-specific document rules: CJK share, punctuation, sentence length.

They apply to Chinese documents: labelled Chinese (`zh...`), or unlabelled and mostly CJK
(`Doc.is_cjk`). Punctuation is counted in both full-width (，。) and ASCII (,.) forms, so
width normalization before or after this stage changes nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from corpus_tools.config import NonNegativeFloat, Share
from corpus_tools.filters.base import DocumentFilter
from corpus_tools.text import Doc

# Clause and sentence punctuation, full-width and ASCII (a decimal point is no punctuation).
PUNCTUATION = "，。！？；：、,.!?;:…．｡､"
_DECIMAL_POINT = re.compile(r"\.\d")
# Sentence ends: runs of terminal marks (。！？ ；… and ASCII ! ? ; and a non-decimal period).
_SENTENCE_END = re.compile(r"(?:[。！？；!?;…．｡]|\.(?!\d))+")


def punctuation_count(text: str) -> int:
    return sum(map(text.count, PUNCTUATION)) - len(_DECIMAL_POINT.findall(text))


def is_chinese(doc: Doc) -> bool:
    return doc.is_zh_labelled or (doc.lang is None and doc.is_cjk)


@dataclass
class ChineseQuality(DocumentFilter):
    """Rules for Chinese documents; None disables a rule.

    - `min_cjk_fraction` 0.3: CJK characters among non-space characters, for documents
      labelled Chinese (a wrong label, or a page of code, markup or numbers): ChineseWebText's
      preprocessing value (Chen et al. 2023, EvalWeb `min_zh_percent=0.3`, there of all
      characters).
    - `min_punctuation_ratio` 0.02: clause/sentence marks per CJK character. Running Chinese
      has one every 8-12 characters (2-5 KB documents of People's Daily 1998: median 0.087,
      1st percentile 0.054; shopping reviews: median 0.114, smallest 0.059); keyword lists,
      strung-together titles and SEO spam have almost none (a list of work units: 0.0005).
      Project default.
    - `min_mean_sentence_chars` 5 and `max_mean_sentence_chars` 300: non-space characters
      per sentence (a sentence ends at 。！？；．… or at a line break). Measured: news median
      39, reviews 35 (99th percentiles 75 and 219: a review can be one comma-spliced sentence
      of 250 characters); above 300 are name lists punctuated only with 、 and text without
      sentence punctuation. Below 5 is interjection or list spam (好！好！). Project defaults.
    """

    name: ClassVar[str] = "zh_quality"
    reasons: ClassVar[tuple[str, ...]] = (
        "zh_too_few_cjk_chars",
        "zh_too_little_punctuation",
        "zh_sentences_too_short",
        "zh_sentences_too_long",
    )

    min_cjk_fraction: Share | None = 0.3
    min_punctuation_ratio: NonNegativeFloat | None = 0.02
    min_mean_sentence_chars: NonNegativeFloat | None = 5
    max_mean_sentence_chars: NonNegativeFloat | None = 300

    def check(self, doc: Doc) -> str | None:
        if not is_chinese(doc):
            return None
        s = doc.signals
        s["zh_cjk_fraction"] = doc.cjk_fraction
        if doc.is_zh_labelled and self.min_cjk_fraction is not None and doc.cjk_fraction < self.min_cjk_fraction:
            return "zh_too_few_cjk_chars"

        ratio = punctuation_count(doc.text) / doc.cjk_chars if doc.cjk_chars else 0.0
        s["zh_punctuation_ratio"] = ratio
        if self.min_punctuation_ratio is not None and ratio < self.min_punctuation_ratio:
            return "zh_too_little_punctuation"

        lines = doc.non_empty_lines
        n_sentences = len(_SENTENCE_END.findall(doc.text)) + len(lines) - doc.terminal_lines
        mean = doc.non_space_chars / n_sentences if n_sentences else float(doc.non_space_chars)
        s["zh_mean_sentence_chars"] = mean
        if self.min_mean_sentence_chars is not None and mean < self.min_mean_sentence_chars:
            return "zh_sentences_too_short"
        if self.max_mean_sentence_chars is not None and mean > self.max_mean_sentence_chars:
            return "zh_sentences_too_long"
        return None
