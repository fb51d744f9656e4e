"""FineWeb's own quality rules (Penedo et al. 2024, "The FineWeb Datasets", section 3.3.4).

Defaults are the published values as DataTrove's `FineWebQualityFilter` implements them.
Chinese: terminal punctuation is Unicode's Sentence_Terminal set (。！？ included) and a
closing quote or a bracketed byline may follow it (他说：“好。”, 。（本报专电）); a short line on CJK text is one of at most
`short_line_chars_cjk` characters, because a CJK character carries far more than a Latin
letter does (see the field).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from corpus_tools.config import NonNegativeFloat, NonNegativeInt, Share
from corpus_tools.filters.base import DocumentFilter
from corpus_tools.text import Doc


@dataclass
class FineWebQuality(DocumentFilter):
    """FineWeb's line rules; None disables a rule.

    - at least 12% of lines end with terminal punctuation;
    - at most 67% of lines are short (at most 30 characters);
    - characters in duplicated lines at most 1% of the (newline-free) text;
    - at most 0.3 newlines per word (list-like pages).

    Duplicated lines are DataTrove's `char_duplicates_ratio`: over the non-blank lines
    (blank and whitespace-only lines are left out, as DataTrove's `line.strip() != ""`),
    the characters of every line that repeats an earlier one (Gopher's `find_duplicates`),
    over the characters of the text without its newlines. Ours compares lines stripped of
    surrounding whitespace; the clean job's whitespace normalization leaves no such
    whitespace, and on the sample corpus both give the same value for every document.
    1% is strict on documentation: three "New in version 3.10." notes in a 1 KB section
    are 4%. On the sample corpus the rule alone fails 28% of the Python and kernel
    documentation pages (a quarter of those repeat 2% of their characters or less) and
    22 of 40 pages of poems and sayings (a "--《论语》" line under each quote). It is kept
    at the published value: removing repeated lines instead would be a different rule.
    """

    name: ClassVar[str] = "fineweb_quality"
    reasons: ClassVar[tuple[str, ...]] = (
        "fineweb_too_few_terminal_punctuation_lines",
        "fineweb_too_many_short_lines",
        "fineweb_too_many_duplicate_line_chars",
        "fineweb_too_many_newlines",
    )

    min_terminal_line_fraction: Share | None = 0.12
    max_short_line_fraction: Share | None = 0.67
    max_duplicate_line_char_fraction: Share | None = 0.01
    max_newline_word_ratio: NonNegativeFloat | None = 0.3
    short_line_chars: NonNegativeInt = 30
    # 30 characters of English are about 5 words; 15 CJK characters are about 9 Chinese words
    # (1.64 characters each, see GopherRepetition), already a short sentence. Measured on 2-5 KB
    # People's Daily 1998 documents: 30 drops 1.4% of them (news with title and byline lines)
    # as short-lined, 15 drops 0.6% (mostly tables and name lists).
    short_line_chars_cjk: NonNegativeInt = 15

    def check(self, doc: Doc) -> str | None:
        lines, s = doc.non_empty_lines, doc.signals
        if not lines:
            return None
        s["fineweb_terminal_line_fraction"] = frac = doc.terminal_lines / len(lines)
        if self.min_terminal_line_fraction is not None and frac < self.min_terminal_line_fraction:
            return "fineweb_too_few_terminal_punctuation_lines"

        short = self.short_line_chars_cjk if doc.is_cjk else self.short_line_chars
        frac = sum(len(line) <= short for line in lines) / len(lines)
        s["fineweb_short_line_fraction"] = frac
        if self.max_short_line_fraction is not None and frac > self.max_short_line_fraction:
            return "fineweb_too_many_short_lines"

        n_chars = len(doc.text) - doc.text.count("\n")
        frac = doc.duplicate_lines[1] / n_chars if n_chars else 0.0
        s["fineweb_duplicate_line_char_fraction"] = frac
        if self.max_duplicate_line_char_fraction is not None and frac > self.max_duplicate_line_char_fraction:
            return "fineweb_too_many_duplicate_line_chars"

        ratio = doc.text.count("\n") / doc.n_words if doc.n_words else 0.0
        s["fineweb_newline_word_ratio"] = ratio
        if self.max_newline_word_ratio is not None and ratio > self.max_newline_word_ratio:
            return "fineweb_too_many_newlines"
        return None
