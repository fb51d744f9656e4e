"""Basic document rules: length, and characters that signal markup, tables, spam or bad decoding.

Where a published pipeline gives a value it is the default and cited; the others are
project defaults, set from what real text measures (stdlib docstrings for English, People's
Daily 1998 and shopping reviews for Chinese, as in benchmarks/bench_filters.py) with a wide
margin, so each fires on junk and not on prose. Every measure is a character fraction, so it
means the same for Chinese and English.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from corpus_tools.filters.base import DocumentFilter
from corpus_tools.text import CONTROL, DIGIT, PUNCT, SYMBOL, Doc

URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'，。、；！？”“）（]+")  # on lower-cased text
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", flags=re.ASCII)


def url_chars(lower: str) -> int:
    """Characters inside URLs, in lower-cased text (the search skips texts without one)."""
    if "http" not in lower and "www." not in lower:
        return 0
    return len("".join(URL.findall(lower)))


def email_chars(text: str) -> int:
    return len("".join(EMAIL.findall(text))) if "@" in text else 0


def mark_run_chars(doc: Doc, min_run: int = 4) -> int:
    """Characters in runs of `min_run` or more of one punctuation mark or symbol (!!!!, ====)."""
    starts, lengths = doc.char_runs
    marks = np.isin(doc.char_classes[starts], (PUNCT, SYMBOL)) & (lengths >= min_run)
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

    min_chars: int | None = 200
    max_chars: int | None = None
    min_mean_line_chars: float | None = 10

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
    """Character-level junk; None disables a rule. Fractions are of non-space characters.

    Measured on the benchmark corpus (2-5 KB documents; median / largest):
    - control, private-use or unassigned code points: at most 1% (bad decoding, binary);
      prose 0 / 1.3% (a review pasted with private-use glyphs: dropped);
    - U+FFFD replacement characters: at most 0.5% (text decoded with the wrong codec);
    - symbols (\\p{S} and the markup punctuation # * _ { } [ ] \\ / @ & % | ~ ^ < > =): at
      most 20%; docstrings 1.9% / 20.7% (an RST table), Chinese 0.1% / 3.9%;
    - digits: at most 30%; People's Daily 2.4% / 47% (a stock table), reviews 1.8% / 10%;
    - characters in URLs at most 20%, in e-mail addresses at most 5% (largest seen: 6%, 2.8%);
    - characters in runs of 4 or more of one mark (!!!!, ？？？？, ~~~~, ====, ____): at most
      10%; docstrings 0 / 21.6% (the RST table), reviews 0 / 10.1% (a row of 90 dots).
    Runs of one letter or CJK character (哈哈哈哈哈哈哈哈哈哈) are removed line by line
    (`lines.RepeatedCharLines`): one such line should not cost a whole page.
    """

    name: ClassVar[str] = "characters"
    reasons: ClassVar[tuple[str, ...]] = (
        "too_many_control_chars",
        "too_many_replacement_chars",
        "too_many_symbols",
        "too_many_digits",
        "too_many_url_chars",
        "too_many_email_chars",
        "too_many_punctuation_runs",
    )

    max_control_char_fraction: float | None = 0.01
    max_replacement_char_fraction: float | None = 0.005
    max_symbol_fraction: float | None = 0.2
    max_digit_fraction: float | None = 0.3
    max_url_char_fraction: float | None = 0.2
    max_email_char_fraction: float | None = 0.05
    max_punctuation_run_fraction: float | None = 0.1

    def check(self, doc: Doc) -> str | None:
        counts, total = doc.class_counts, doc.non_space_chars or 1
        for field, signal, measure, reason in (
            ("max_control_char_fraction", "control_char_fraction", lambda: counts[CONTROL], "too_many_control_chars"),
            ("max_replacement_char_fraction", "replacement_char_fraction",
             lambda: doc.text.count("\ufffd"), "too_many_replacement_chars"),
            ("max_symbol_fraction", "symbol_fraction", lambda: counts[SYMBOL], "too_many_symbols"),
            ("max_digit_fraction", "digit_fraction", lambda: counts[DIGIT], "too_many_digits"),
            ("max_url_char_fraction", "url_char_fraction", lambda: url_chars(doc.text_lower), "too_many_url_chars"),
            ("max_email_char_fraction", "email_char_fraction", lambda: email_chars(doc.text), "too_many_email_chars"),
            ("max_punctuation_run_fraction", "punctuation_run_fraction",
             lambda: mark_run_chars(doc), "too_many_punctuation_runs"),
        ):
            doc.signals[signal] = value = int(measure()) / total
            limit = getattr(self, field)
            if limit is not None and value > limit:
                return reason
        return None
