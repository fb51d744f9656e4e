"""Language-aware views of a text that many rules share, computed once per document.

Rules must work on Chinese, which has no spaces between words: a "word" here is one
CJK character (Han, kana, Hangul) or a run of other non-space characters. This is the
granularity Chinese pipelines use for length and repetition rules, and it leaves the
whitespace tokenization of space-separated languages unchanged.
"""
from __future__ import annotations

from functools import cached_property

import regex

CJK_CHAR = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}"
_WORD = regex.compile(rf"[{CJK_CHAR}]|[^\s{CJK_CHAR}]+")
_CJK = regex.compile(rf"[{CJK_CHAR}]")
_HAN = regex.compile(r"\p{Han}")
# Sentence ends: Western punctuation followed by space or end, or CJK full stops.
_SENTENCE_END = regex.compile(r"(?<=[.!?…])\s+|(?<=[。！？；…])")
_PARAGRAPH_BREAK = regex.compile(r"\n\s*\n")


def split_words(text: str) -> list[str]:
    return _WORD.findall(text)


def split_sentences(text: str) -> list[str]:
    return [s for s in (p.strip() for p in _SENTENCE_END.split(text)) if s]


def split_paragraphs(text: str) -> list[str]:
    return [p for p in (p.strip() for p in _PARAGRAPH_BREAK.split(text)) if p]


def cjk_count(text: str) -> int:
    return len(_CJK.findall(text))


def han_count(text: str) -> int:
    return len(_HAN.findall(text))


class Doc:
    """One document as the rules see it: its text, language, and cached derived views.

    Rules record what they measured in `signals` (name -> number), so a notebook can tune
    thresholds without recomputing. Views are cached, so a document's text must not change
    once rules have looked at it: line-level rules produce a new `Doc`.
    """

    def __init__(self, id: str, text: str, lang: str | None = None, lang_score: float = 0.0):
        self.id = id
        self.text = text
        self.lang = lang
        self.lang_score = lang_score
        self.signals: dict[str, float] = {}

    @property
    def is_cjk(self) -> bool:
        """True when the text is written mostly in CJK characters (judged by content, not label)."""
        return self.cjk_fraction >= 0.3

    @cached_property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    @cached_property
    def non_empty_lines(self) -> list[str]:
        return [line for line in (l.strip() for l in self.lines) if line]

    @cached_property
    def paragraphs(self) -> list[str]:
        return split_paragraphs(self.text)

    @cached_property
    def sentences(self) -> list[str]:
        return split_sentences(self.text)

    @cached_property
    def words(self) -> list[str]:
        return split_words(self.text)

    @cached_property
    def non_space_chars(self) -> int:
        return len("".join(self.text.split()))  # str.split() runs in C; a per-char loop does not

    @cached_property
    def cjk_chars(self) -> int:
        return cjk_count(self.text)

    @cached_property
    def cjk_fraction(self) -> float:
        return self.cjk_chars / self.non_space_chars if self.non_space_chars else 0.0
