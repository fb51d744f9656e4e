"""Language-aware views of a text that many rules share, computed once per document.

Rules must work on Chinese, which has no spaces between words: a "word" here is one
CJK character (Han, kana, Hangul) or a run of other non-space characters. This is the
granularity Chinese pipelines use for length and repetition rules, and it leaves the
whitespace tokenization of space-separated languages unchanged.

Rules see thousands of documents per second per core, so no view loops over characters or
words in Python. The text is decoded once into an array of code points and each character
is classed by one table lookup (`char_classes`); counts, word boundaries and word hashes
are numpy operations on those arrays, and what stays in Python (lines, sentences) uses
`str` methods and stdlib `re`, which run in C.

>>> doc = Doc("d", "Hello world.\\n\\n你好，世界。")
>>> doc.words
['Hello', 'world.', '你', '好', '，', '世', '界', '。']
>>> doc.n_words, doc.cjk_chars, doc.non_space_chars, doc.terminal_lines
(8, 4, 17, 2)
"""
from __future__ import annotations

import re
from functools import cache, cached_property

import numpy as np
import regex

CJK_CHAR = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}"
_WORD = regex.compile(rf"[{CJK_CHAR}]|[^\s{CJK_CHAR}]+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")

# Closing quotes and brackets may follow the terminal mark: 他说：“好。” ends a sentence.
CLOSING_MARKS = "\"'”’」』）)]】》〉›»"
_CLOSE = re.escape(CLOSING_MARKS)
# Characters that begin a CJK sentence, for stdlib `re` (no \p{...}): kana, CJK ideographs
# (extension A, compatibility, planes 2-3) and Hangul syllables.
_CJK_START = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0003ffff"
# Western terminal marks that end a sentence when a CJK character follows with no space, as
# Chinese written with ASCII punctuation does (感觉不是太好.服务上总是出现一些小问题.): a run
# starting with ! ? … or with a period that does not follow a digit, so "1.房间" (a list
# number) and "3.5" stay whole; English has a space after its full stops.
# (It starts with a character class, which keeps stdlib `re`'s fast scan for a first character.)
_WESTERN_BEFORE_CJK = rf"[.!?…](?<![\d.]\.)[.!?…]*[{_CLOSE}]*(?=[{_CJK_START}])"
# Sentence ends: Western punctuation (and closing marks) followed by space or by a CJK
# character, or CJK full stops (and closing marks) wherever they are, not inside a run such
# as …… or ！？.
_SENTENCE_END = regex.compile(
    rf"(?<=[.!?…][{_CLOSE}]*)\s+|(?<={_WESTERN_BEFORE_CJK})"
    rf"|(?<=[。！？；…][{_CLOSE}]*)(?![。！？；…{_CLOSE}])"
)
ELLIPSES = ("...", "…")
# One sentence end: a run of CJK full stops, or of Western ones before a space, the end or a
# CJK character.
_SENTENCE_ENDS = re.compile(rf"[。！？；]+[{_CLOSE}]*|[.!?…]+[{_CLOSE}]*(?=\s|$)|{_WESTERN_BEFORE_CJK}")
# A bracketed byline or note after the last sentence of a paragraph: 。（本报专电）,
# 。（据新华社电）, 。（柴茂）, "... in 2023. (Reuters)". Up to 30 characters, unnested.
_BRACKETED_TAIL = re.compile(rf"[(（][^()（）\n]{{1,30}}[)）][{_CLOSE}]*$")

# Character classes (one table lookup per character, see `char_class_table`).
SPACE, CJK, LETTER, DIGIT, PUNCT, SYMBOL, CONTROL, OTHER = range(8)
N_CLASSES = 8
# Punctuation that markup is made of; counted with the symbols (\p{S}).
MARKUP_PUNCTUATION = "#*_{}[]\\/@&%"
_TABLE_SIZE = 0x40000  # planes 0-3: BMP, emoji and symbols, CJK extensions B-H


@cache
def char_class_table() -> np.ndarray:
    """Class of every code point below U+40000 (built once per process, ~0.1 s).

    Later rows win: CJK overrides LETTER, SPACE overrides CONTROL (tab, newline).
    """
    chars = "".join(map(chr, range(_TABLE_SIZE)))
    table = np.full(_TABLE_SIZE, OTHER, dtype=np.uint8)
    for cls, pattern in (
        (CONTROL, r"[\p{Cc}\p{Co}\p{Cs}\p{Cn}]"),
        (PUNCT, r"\p{P}"),
        (SYMBOL, r"\p{S}"),
        (DIGIT, r"\p{Nd}"),
        (LETTER, r"\p{L}"),
        (CJK, rf"[{CJK_CHAR}]"),
        (SPACE, r"\s"),
    ):
        table[[m.start() for m in regex.finditer(pattern, chars)]] = cls
    table[[ord(c) for c in MARKUP_PUNCTUATION]] = SYMBOL
    return table


# Unicode's Sentence_Terminal property (., !, ?, 。, ！, ？, ｡, ।, ...): the set FineWeb's
# terminal-punctuation list was drawn from.
TERMINAL_PUNCTUATION = frozenset(
    regex.findall(r"\p{Sentence_Terminal}", "".join(map(chr, range(0x20000))))
)

# Word hashing: a polynomial hash of each word's code points (mod 2**64), made independent
# of the word's position, then mixed. Equal words get equal hashes; distinct words collide
# with probability ~2**-64 per pair.
_BASE = np.uint64(0x100000001B3)
_BASE_INV = np.uint64(pow(0x100000001B3, -1, 2**64))


_CACHED_POWERS = 1 << 16  # documents up to 64K characters share cached power tables


def hash_powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    """BASE**j and BASE**-j mod 2**64 for j < size (cached for power-of-two sizes up to 64K)."""
    if size <= _CACHED_POWERS:
        return _hash_powers(size)
    return _hash_powers.__wrapped__(size)


@cache
def _hash_powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    powers, inverse = np.ones(size, dtype=np.uint64), np.ones(size, dtype=np.uint64)
    np.cumprod(np.full(size - 1, _BASE, dtype=np.uint64), out=powers[1:])
    np.cumprod(np.full(size - 1, _BASE_INV, dtype=np.uint64), out=inverse[1:])
    return powers, inverse


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer, elementwise (uint64 arithmetic wraps)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def split_words(text: str) -> list[str]:
    return _WORD.findall(text)


def split_sentences(text: str) -> list[str]:
    return [s for s in (p.strip() for p in _SENTENCE_END.split(text)) if s]


def count_sentences(text: str) -> int:
    """Sentence ends in `text`, a cheap stand-in for `len(split_sentences(text))` on text
    whose lines end with terminal punctuation.

    >>> count_sentences("Dr. Who left. 他说：“好。”然后走了！")
    4
    """
    return len(_SENTENCE_ENDS.findall(text))


def split_paragraphs(text: str) -> list[str]:
    return [p for p in (p.strip() for p in _PARAGRAPH_BREAK.split(text)) if p]


def classify(text: str) -> np.ndarray:
    """The class (SPACE, CJK, LETTER...) of each character of `text`."""
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return char_class_table()[np.minimum(cp, _TABLE_SIZE - 1)]


def cjk_count(text: str) -> int:
    return int(np.count_nonzero(classify(text) == CJK))


def han_count(text: str) -> int:
    return len("".join(regex.findall(r"\p{Han}+", text)))


def duplicate_stats(items: list[str]) -> tuple[int, int]:
    """How many items repeat an earlier one, and how many characters those repeats hold.

    Equal to Gopher's left-to-right `find_duplicates` loop, computed with sets in C.

    >>> duplicate_stats(["a b", "c", "a b", "a b"])
    (2, 6)
    """
    unique = set(items)
    return len(items) - len(unique), sum(map(len, items)) - sum(map(len, unique))


def ends_with_terminal(line: str) -> bool:
    """True when a (right-stripped) line ends a sentence, closing quotes allowed.

    A bracketed byline or note after the terminal mark is allowed too: Chinese news ends its
    last paragraph with one (。（本报专电）, 。（据新华社电）, 。（柴茂）), and that paragraph
    is as finished as the others. The bracket must follow the terminal mark, so a heading
    such as "韩素云先进模范近如何(2)（附图片1张）" stays unterminated.

    >>> ends_with_terminal("他说：“好。”"), ends_with_terminal("Home | About")
    (True, False)
    >>> ends_with_terminal("公司人员无所谓。（柴茂）"), ends_with_terminal("附图片（1张）")
    (True, False)
    """
    end = line.rstrip(CLOSING_MARKS)  # the same object when nothing was stripped
    return end[-1:] in TERMINAL_PUNCTUATION or (end is not line and line[-1] in ")）" and _ends_with_note(line))


def _ends_with_note(line: str) -> bool:
    """Does a line ending in ")" end with a bracketed note right after a sentence end?"""
    # Cheap test first (code lines end in "f(x)"): is there a sentence end before the last "("?
    start = max(line.rfind("(", -40), line.rfind("（", -40))
    if start <= 0 or line[:start].rstrip().rstrip(CLOSING_MARKS)[-1:] not in TERMINAL_PUNCTUATION:
        return False
    return _BRACKETED_TAIL.match(line, start) is not None


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

    @property
    def is_zh_labelled(self) -> bool:
        """True when the language label says Chinese (`zh`, `zh-Hans`, `zho`, `cmn`...)."""
        return bool(self.lang) and self.lang.lower().startswith(("zh", "cmn", "zho", "chi"))

    # --- lines, paragraphs, sentences (str methods) ---

    @cached_property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    @cached_property
    def non_empty_lines(self) -> list[str]:
        """Lines stripped of surrounding whitespace, blank ones left out."""
        return [line for line in map(str.strip, self.lines) if line]

    @cached_property
    def paragraphs(self) -> list[str]:
        return split_paragraphs(self.text)

    @cached_property
    def sentences(self) -> list[str]:
        return split_sentences(self.text)

    @cached_property
    def text_lower(self) -> str:
        return self.text.lower()

    @cached_property
    def duplicate_lines(self) -> tuple[int, int]:
        """(lines, characters) repeating an earlier non-empty line: Gopher's `find_duplicates`."""
        return duplicate_stats(self.non_empty_lines)

    @cached_property
    def duplicate_paragraphs(self) -> tuple[int, int]:
        """(paragraphs, characters) repeating an earlier paragraph."""
        return duplicate_stats(self.paragraphs)

    @cached_property
    def terminal_flags(self) -> list[bool]:
        """Per non-empty line: does it end with terminal punctuation (closing quotes allowed)?"""
        return list(map(ends_with_terminal, self.non_empty_lines))

    @cached_property
    def terminal_lines(self) -> int:
        """How many non-empty lines end with terminal punctuation."""
        return sum(self.terminal_flags)

    # --- characters (one class per character) ---

    @cached_property
    def codepoints(self) -> np.ndarray:
        return np.frombuffer(self.text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)

    @cached_property
    def char_classes(self) -> np.ndarray:
        return char_class_table()[np.minimum(self.codepoints, _TABLE_SIZE - 1)]

    @cached_property
    def class_counts(self) -> np.ndarray:
        """Characters per class: `doc.class_counts[DIGIT]`."""
        return np.bincount(self.char_classes, minlength=N_CLASSES)

    @cached_property
    def non_space_chars(self) -> int:
        return len(self.text) - int(self.class_counts[SPACE])

    @cached_property
    def cjk_chars(self) -> int:
        return int(self.class_counts[CJK])

    @cached_property
    def cjk_fraction(self) -> float:
        return self.cjk_chars / self.non_space_chars if self.non_space_chars else 0.0

    # --- words (arrays: one entry per word, in text order) ---

    @cached_property
    def words(self) -> list[str]:
        return split_words(self.text)

    @cached_property
    def word_spans(self) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends): character offsets of each word, as `words` splits them."""
        cls = self.char_classes
        cjk = cls == CJK
        run = (cls != SPACE) & ~cjk  # characters of non-CJK words
        before, after = np.zeros_like(run), np.zeros_like(run)
        before[1:], after[:-1] = run[:-1], run[1:]
        starts = np.flatnonzero(cjk | (run & ~before))
        ends = np.flatnonzero(cjk | (run & ~after)) + 1
        return starts, ends

    @cached_property
    def n_words(self) -> int:
        return len(self.word_spans[0])

    @cached_property
    def word_lengths(self) -> np.ndarray:
        starts, ends = self.word_spans
        return ends - starts

    @cached_property
    def word_hashes(self) -> np.ndarray:
        """A 64-bit hash per word; equal words hash equal wherever they are."""
        starts, ends = self.word_spans
        n = len(self.codepoints)
        powers, inverse = hash_powers(1 << n.bit_length() if n < _CACHED_POWERS else n + 1)
        prefix = np.zeros(n + 1, dtype=np.uint64)
        np.cumsum(self.codepoints.astype(np.uint64) * powers[:n], out=prefix[1:])
        raw = (prefix[ends] - prefix[starts]) * inverse[starts]  # = sum(cp[s+k] * BASE**k)
        return mix64(raw ^ (ends - starts).astype(np.uint64))

    @cached_property
    def words_per_line(self) -> dict[str, int]:
        """Line (as in `lines`, and stripped) -> how many words it holds; a word never spans a
        line break."""
        lengths = np.fromiter(map(len, self.lines), dtype=np.int64, count=len(self.lines))
        ends = np.cumsum(lengths + 1) - 1  # offset of each line's "\n" (or of the text's end)
        starts = self.word_spans[0]
        counts = np.searchsorted(starts, ends) - np.searchsorted(starts, ends - lengths)
        per_line = dict(zip(self.lines, counts.tolist()))
        for line, n in zip(self.lines, counts.tolist()):  # also under the stripped line
            per_line.setdefault(line.strip(), n)
        return per_line

    def words_with(self, classes: tuple[int, ...]) -> np.ndarray:
        """Per word, how many of its characters are in `classes`."""
        wanted = np.zeros(N_CLASSES, dtype=np.int64)
        wanted[list(classes)] = 1
        inside = wanted[self.char_classes]  # a table lookup: np.isin costs ~100 us a call
        prefix = np.zeros(len(inside) + 1, dtype=np.int64)
        np.cumsum(inside, out=prefix[1:])
        starts, ends = self.word_spans
        return prefix[ends] - prefix[starts]

    # --- runs of one repeated character ---

    @cached_property
    def char_runs(self) -> tuple[np.ndarray, np.ndarray]:
        """(starts, lengths) of every run of 3 or more of one non-space character."""
        cp = self.codepoints
        if len(cp) < 3:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        same = (cp[1:] == cp[:-1]) & (self.char_classes[1:] != SPACE)
        if not np.any(same[1:] & same[:-1]):  # no three in a row: the common case
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        edges = np.diff(same.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
        starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        lengths = stops - starts + 1
        keep = lengths >= 3
        return starts[keep], lengths[keep]
