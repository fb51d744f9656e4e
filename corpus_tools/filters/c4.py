"""C4 rules (Raffel et al. 2020, "Exploring the Limits of Transfer Learning", section 2.2).

Values are those of the reference code (TFDS `c4_utils`, DataTrove `C4QualityFilter`): pages
need 5 sentences and lines 3 words. The paper's text says 3 sentences and 5 words; the
released C4 was built with the code's values.

C4 cleans line by line and drops whole pages for a few findings. Here the line rules are
`LineFilter`s (each counted on its own) and the page rules a `DocumentFilter` that, like
C4, looks only at the lines C4 keeps: lines ending in terminal punctuation, with at least 3
words and no word over 1,000 characters (the code checks for lorem ipsum and "{" after those
line tests, so a "{" in a dropped code line does not cost the page).

Chinese: words are CJK characters or runs of other non-space characters (as `Doc.words`;
C4 counts whitespace tokens, punctuation included); terminal punctuation includes 。！？ (a
closing quote may follow); the policy phrases include their Chinese equivalents (our
addition, marked below). C4's citation-marker removal ([1], [edit]) rewrites text rather
than dropping lines, and is not done here.

Two more Chinese forms, both ours (see `corpus_tools.text`):
- a line ending in terminal punctuation and then a bracketed byline or note is terminated:
  Chinese news ends its last paragraph so (。（本报专电）, 。（据新华社电）, 。（柴茂）), and
  C4's test cut those paragraphs and left their sentences uncounted;
- a sentence also ends at an ASCII . ! ? directly followed by a CJK character, as Chinese
  typed with ASCII punctuation has it (感觉不是太好.服务上总是出现一些小问题.); a period
  after a digit does not count ("1.房间", "3.5"), and English, which puts a space after its
  full stops, counts as before.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from corpus_tools.config import NonNegativeInt
from corpus_tools.filters.base import DocumentFilter, LineFilter
from corpus_tools.text import ELLIPSES, Doc, count_sentences, ends_with_terminal, split_words

MIN_WORDS_PER_LINE = 3
MAX_WORD_CHARS = 1000
POLICY_PHRASES = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
POLICY_PHRASES_ZH = ("使用条款", "服务条款", "隐私政策", "隐私条款", "隐私声明", "cookie政策", "使用cookie")  # ours


def line_words(line: str, doc: Doc) -> int:
    """Words on a line of `doc` (CJK characters count one each), from the document's word spans."""
    n = doc.words_per_line.get(line)
    return len(split_words(line)) if n is None else n


def longest_word(line: str) -> int:
    """Characters in the line's longest word (a CJK character is a word of one)."""
    return max(map(len, split_words(line)), default=0)


def ends_sentence(line: str) -> bool:
    """C4's test: ends with terminal punctuation and not with an ellipsis."""
    line = line.rstrip()
    return ends_with_terminal(line) and not line.endswith(ELLIPSES)


@dataclass
class C4Quality(DocumentFilter):
    """C4's page rules; None (or False) disables a rule.

    - "lorem ipsum" on a kept line drops the page; so does "{" (code);
    - fewer than 5 sentences in the kept lines (without javascript and policy lines) drops it.
    """

    name: ClassVar[str] = "c4_quality"
    reasons: ClassVar[tuple[str, ...]] = ("c4_lorem_ipsum", "c4_curly_bracket", "c4_too_few_sentences")

    lorem_ipsum: bool | None = True
    curly_bracket: bool | None = True
    min_sentences: NonNegativeInt | None = 5

    def check(self, doc: Doc) -> str | None:
        lower = doc.text_lower
        lorem = bool(self.lorem_ipsum) and "lorem ipsum" in lower
        curly = bool(self.curly_bracket) and "{" in doc.text
        javascript = "javascript" in lower
        policy = any(p in lower for p in POLICY_PHRASES + POLICY_PHRASES_ZH)
        long_words = doc.n_words > 0 and int(doc.word_lengths.max()) > MAX_WORD_CHARS
        kept, words = [], doc.words_per_line
        for line, terminal in zip(doc.non_empty_lines, doc.terminal_flags):
            if not terminal or line.endswith(ELLIPSES) or words[line] < MIN_WORDS_PER_LINE:
                continue
            if long_words and longest_word(line) > MAX_WORD_CHARS:
                continue
            line_lower = line.lower() if lorem or javascript or policy else ""
            if lorem and "lorem ipsum" in line_lower:
                return "c4_lorem_ipsum"
            if javascript and "javascript" in line_lower:
                continue
            if curly and "{" in line:
                return "c4_curly_bracket"
            if not (policy and any(p in line_lower for p in POLICY_PHRASES + POLICY_PHRASES_ZH)):
                kept.append(line)
        doc.signals["c4_sentences"] = n = count_sentences("\n".join(kept))
        if self.min_sentences is not None and n < self.min_sentences:
            return "c4_too_few_sentences"
        return None


@dataclass
class C4LongWordLines(LineFilter):
    """Remove lines with a word longer than 1,000 characters (C4 code, `max_word_length`)."""

    name: ClassVar[str] = "c4_long_word_lines"
    max_word_chars: NonNegativeInt | None = MAX_WORD_CHARS

    def may_drop(self, doc: Doc) -> bool:
        return self.max_word_chars is not None and doc.n_words > 0 and int(doc.word_lengths.max()) > self.max_word_chars

    def drops_line(self, line: str, doc: Doc) -> bool:
        return longest_word(line) > self.max_word_chars


@dataclass
class C4UnterminatedLines(LineFilter):
    """Remove lines not ending in terminal punctuation, or ending in an ellipsis (C4).

    Headings, menus, captions and list items go; on web text, where a line is a paragraph,
    prose stays. Hard-wrapped text (a line per 72 columns) must be unwrapped before this rule.
    A closing quote or a bracketed byline may follow the terminal mark (他说：“好。”,
    。（据新华社电）): see `corpus_tools.text.ends_with_terminal`.
    """

    name: ClassVar[str] = "c4_unterminated_lines"

    def drops_line(self, line: str, doc: Doc) -> bool:
        return not ends_sentence(line)


@dataclass
class C4ShortLines(LineFilter):
    """Remove lines with fewer than 3 words (C4 code, `min_words_per_line`)."""

    name: ClassVar[str] = "c4_short_lines"
    min_words: NonNegativeInt | None = MIN_WORDS_PER_LINE

    def may_drop(self, doc: Doc) -> bool:
        return self.min_words is not None

    def drops_line(self, line: str, doc: Doc) -> bool:
        return line_words(line, doc) < self.min_words


@dataclass
class C4JavascriptLines(LineFilter):
    """Remove lines containing the word "javascript" (C4: "please enable Javascript" notices)."""

    name: ClassVar[str] = "c4_javascript_lines"

    def may_drop(self, doc: Doc) -> bool:
        return "javascript" in doc.text_lower

    def drops_line(self, line: str, doc: Doc) -> bool:
        return "javascript" in line.lower()


@dataclass
class C4PolicyLines(LineFilter):
    """Remove lines with a policy phrase: C4's six ("terms of use", "privacy policy", "cookie
    policy", "uses cookies", "use of cookies", "use cookies") and Chinese equivalents (ours:
    使用条款, 服务条款, 隐私政策, 隐私条款, 隐私声明, cookie政策, 使用cookie). Case-insensitive."""

    name: ClassVar[str] = "c4_policy_lines"
    phrases: tuple[str, ...] = POLICY_PHRASES + POLICY_PHRASES_ZH

    def may_drop(self, doc: Doc) -> bool:
        return any(p in doc.text_lower for p in self.phrases)

    def drops_line(self, line: str, doc: Doc) -> bool:
        lower = line.lower()
        return any(p in lower for p in self.phrases)
