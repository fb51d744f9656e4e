"""Basic document rules: length, and characters that signal markup, tables, spam or bad decoding.

Where a published pipeline gives a value it is the default and cited; the others are
project defaults, set from what real text measures (the benchmark corpus of
benchmarks/bench_filters.py and the documents of data/sample) with a wide margin, so each
fires on junk and not on prose. Measures are fractions of characters, or counts per word
for URLs and e-mail addresses (a CJK character is a word), so they mean the same for Chinese
and English.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from corpus_tools.config import NonNegativeFloat, NonNegativeInt, Share
from corpus_tools.filters.base import DocumentFilter
from corpus_tools.text import CONTROL, DIGIT, PUNCT, SYMBOL, Doc

URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'，。、；！？”“）（]+")  # on lower-cased text
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", flags=re.ASCII)


# Characters that draw rules, tables and headings (----, ====, ____, ****, ~~~, ####, ────):
# runs of them are layout, removed line by line (`lines.RepeatedCharLines`), not junk.
RULE_CHARS = "-=_*#+|~" + "".join(map(chr, range(0x2500, 0x2580)))
_IS_RULE = np.zeros(0x2581, dtype=bool)  # indexed by code point; the last entry stands for all above
_IS_RULE[[ord(c) for c in RULE_CHARS]] = True


def url_count(lower: str) -> int:
    """URLs in lower-cased text (the search skips texts without one)."""
    return len(URL.findall(lower)) if "http" in lower or "www." in lower else 0


def email_count(text: str) -> int:
    return len(EMAIL.findall(text)) if "@" in text else 0


def mark_run_chars(doc: Doc, min_run: int = 4) -> int:
    """Characters in runs of `min_run` or more of one punctuation mark or symbol (!!!!, ？？？？,
    。。。。, ～～～～), rule and table characters (RULE_CHARS) left out."""
    starts, lengths = doc.char_runs
    long = lengths >= min_run
    if not long.any():
        return 0
    starts, lengths = starts[long], lengths[long]
    classes = doc.char_classes[starts]
    rule = _IS_RULE[np.minimum(doc.codepoints[starts], len(_IS_RULE) - 1)]
    marks = ((classes == PUNCT) | (classes == SYMBOL)) & ~rule
    return int(lengths[marks].sum())


@dataclass
class DocumentLength(DocumentFilter):
    """Length bounds; None disables a rule.

    - `min_chars` 200 and `min_mean_line_chars` 10 (characters per line, newlines
      counted as in `len(text) / len(text.split("\\n"))`): ChineseWebText's preprocessing
      (Chen et al. 2023, EvalWeb `preprocess.py`: `min_len=200`, `min_line_len=10`).
    - `max_chars`: off by default; Gopher's 100,000-word bound already caps length and
      Ziya2 splits over-long documents in preprocessing.
    """

    name: ClassVar[str] = "length"
    reasons: ClassVar[tuple[str, ...]] = ("too_few_chars", "too_many_chars", "mean_line_length_too_short")

    min_chars: NonNegativeInt | None = 200
    max_chars: NonNegativeInt | None = None
    min_mean_line_chars: NonNegativeFloat | None = 10

    def check(self, doc: Doc) -> str | None:
        n = doc.signals["chars"] = len(doc.text)
        if self.min_chars is not None and n <= self.min_chars:
            return "too_few_chars"
        if self.max_chars is not None and n > self.max_chars:
            return "too_many_chars"
        mean = doc.signals["mean_line_chars"] = n / len(doc.lines)
        if self.min_mean_line_chars is not None and mean < self.min_mean_line_chars:
            return "mean_line_length_too_short"
        return None


@dataclass
class CharacterQuality(DocumentFilter):
    """Character-level junk; None disables a rule.

    Fractions are of non-space characters; URLs and e-mail addresses are counted per word
    (a CJK character is a word), so a link weighs the same in Chinese as in English, where a
    character fraction would weigh it about six times more. Measured on 2-5 KB documents of
    Python documentation, People's Daily 1998 and shopping reviews (median / largest) and on
    the documents of data/sample (kernel and man-page documentation, Debian descriptions):
    - control, private-use or unassigned code points: at most 1% (bad decoding, binary);
      prose 0 / 1.3% (a review pasted with private-use glyphs: dropped);
    - U+FFFD replacement characters: at most 0.5% (text decoded with the wrong codec);
    - symbols (\\p{S} and the markup punctuation # * _ { } [ ] \\ / @ & %): at most 20%;
      Python docs 1.9% / 20.7% (an RST table), Chinese 0.1% / 3.9%;
    - digits: at most 30%; People's Daily 2.4% / 47% (a stock table), reviews 1.8% / 10%;
    - URLs: at most 0.1 per word (a link list); documentation at most 0.026 per word, but
      for one English page of links (0.12); e-mail addresses: at most 0.05 per word
      (contact lists); documentation at most 0.021 (translator and author headers);
    - characters in runs of 4 or more of one punctuation mark or symbol (!!!!, ？？？？,
      。。。。): at most 10%; prose 0 / 4.5%. Rule and table characters (- = _ * # + | ~ and
      box drawing) are left out: their runs are layout, removed line by line.
    Runs of ten or more of any one character (哈哈哈…, !!!!…, ====…) are removed line by line
    (`lines.RepeatedCharLines`): one such line should not cost a whole page.
    """

    name: ClassVar[str] = "characters"
    reasons: ClassVar[tuple[str, ...]] = (
        "too_many_control_chars",
        "too_many_replacement_chars",
        "too_many_symbols",
        "too_many_digits",
        "too_many_urls",
        "too_many_emails",
        "too_many_punctuation_runs",
    )

    max_control_char_fraction: Share | None = 0.01
    max_replacement_char_fraction: Share | None = 0.005
    max_symbol_fraction: Share | None = 0.2
    max_digit_fraction: Share | None = 0.3
    max_url_word_ratio: NonNegativeFloat | None = 0.1
    max_email_word_ratio: NonNegativeFloat | None = 0.05
    max_punctuation_run_fraction: Share | None = 0.1

    def check(self, doc: Doc) -> str | None:
        counts, chars, words = doc.class_counts, doc.non_space_chars or 1, doc.n_words or 1
        for field, signal, measure, reason in (
            ("max_control_char_fraction", "control_char_fraction",
             lambda: counts[CONTROL] / chars, "too_many_control_chars"),
            ("max_replacement_char_fraction", "replacement_char_fraction",
             lambda: doc.text.count("\ufffd") / chars, "too_many_replacement_chars"),
            ("max_symbol_fraction", "symbol_fraction", lambda: counts[SYMBOL] / chars, "too_many_symbols"),
            ("max_digit_fraction", "digit_fraction", lambda: counts[DIGIT] / chars, "too_many_digits"),
            ("max_url_word_ratio", "url_word_ratio", lambda: url_count(doc.text_lower) / words, "too_many_urls"),
            ("max_email_word_ratio", "email_word_ratio", lambda: email_count(doc.text) / words, "too_many_emails"),
            ("max_punctuation_run_fraction", "punctuation_run_fraction",
             lambda: mark_run_chars(doc) / chars, "too_many_punctuation_runs"),
        ):
            doc.signals[signal] = value = float(measure())
            limit = getattr(self, field)
            if limit is not None and value > limit:
                return reason
        return None
