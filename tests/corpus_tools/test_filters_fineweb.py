"""FineWeb line rules, in English and Chinese."""
from __future__ import annotations

import pytest

from corpus_tools.filters.fineweb import FineWebQuality
from corpus_tools.text import Doc

EN_LINES = [
    "In the context of Boolean operations, the following values are interpreted as false.",
    "User-defined objects can customize their truth value by providing a method.",
    "Note that neither and nor or restrict the value and type they return to False and True.",
    "Because not has to create a new value, it returns a boolean value regardless of its argument.",
]
ZH_LINES = [
    "越南总理潘文凯今天在这里说，从１９９８年开始，越南将大力挖掘自身潜力，厉行节俭。",
    "潘文凯在接受越通社记者采访时说，近两年来，越南经济继续以较高速度增长。",
    "他说，越南的经济既取得了巨大成就，也存在薄弱的方面。",
    "他强调，当务之急是继续革新经济机制和政策，优先发展生产力。",
]


@pytest.mark.parametrize("lines", [EN_LINES, ZH_LINES])
def test_real_text_passes(lines):
    assert FineWebQuality().check(Doc("d", "\n".join(lines))) is None


@pytest.mark.parametrize("text", [
    "\n".join(f"Chapter {i}: the meaning of the values in Python" for i in range(12)),
    "\n".join(f"第{i}章 越南经济的发展和增长的情况" for i in range(12)),
])
def test_too_few_terminal_punctuation_lines(text):
    assert FineWebQuality().check(Doc("d", text)) == "fineweb_too_few_terminal_punctuation_lines"


@pytest.mark.parametrize("text", [
    "\n".join(f"Yes, item {i} is done." for i in range(10)),
    "\n".join(f"第{i}项已经完成。" for i in range(10)),
])
def test_too_many_short_lines(text):
    assert FineWebQuality().check(Doc("d", text)) == "fineweb_too_many_short_lines"


def test_short_lines_on_cjk_text_are_at_most_15_characters():
    text = "\n".join(f"越南经济的第{i}个问题是增长速度。" for i in range(10))  # 17 characters
    assert FineWebQuality().check(Doc("d", text)) is None
    assert FineWebQuality(short_line_chars_cjk=30).check(Doc("d", text)) == "fineweb_too_many_short_lines"


@pytest.mark.parametrize("lines", [EN_LINES, ZH_LINES])
def test_too_many_duplicate_line_chars(lines):
    text = "\n".join(lines + lines[:1])
    assert FineWebQuality().check(Doc("d", text)) == "fineweb_too_many_duplicate_line_chars"


@pytest.mark.parametrize("text, rule", [
    ("\n".join(f"Supercalifragilistic{i} antidisestablishmentarianism." for i in range(10)), FineWebQuality()),
    # One CJK character is one word, so only very short lines reach 0.3 newlines per word.
    ("\n".join(f"好{i}。" for i in range(10)), FineWebQuality(max_short_line_fraction=None)),
])
def test_too_many_newlines(text, rule):
    assert rule.check(Doc("d", text)) == "fineweb_too_many_newlines"


# Python 3.11 documentation, dataclasses (sample docs-a88780612c7b5bf7): each new parameter is
# followed by the same version note.
DATACLASS_PARAMETERS = """\
- match_args: If true (the default is True), the __match_args__ tuple will be created from the list of parameters to the generated __init__ method (even if __init__ is not generated, see above). If false, or if __match_args__ is already defined in the class, then __match_args__ will not be generated.

New in version 3.10.

- kw_only: If true (the default value is False), then all fields will be marked as keyword-only. If a field is marked as keyword-only, then the only effect is that the __init__ parameter generated from a keyword-only field must be specified with a keyword when __init__ is called. There is no effect on any other aspect of dataclasses.

New in version 3.10.

- slots: If true (the default is False), __slots__ attribute will be generated and new class will be returned instead of the original one. If __slots__ is already defined in the class, then TypeError is raised.

New in version 3.10."""


def datatrove_char_duplicates_ratio(text: str) -> float:
    """DataTrove's FineWebQualityFilter: find_duplicates over the non-blank lines, unstripped."""
    seen, chars = set(), 0
    for line in (line for line in text.split("\n") if line.strip() != ""):
        if line in seen:
            chars += len(line)
        seen.add(line)
    return chars / len(text.replace("\n", ""))


def test_duplicate_line_chars_are_datatroves_and_repeated_version_notes_fail():
    # Two repeats of a 20-character note in 900 characters: 4.4%, over FineWeb's 1%.
    doc = Doc("d", DATACLASS_PARAMETERS)
    assert FineWebQuality().check(doc) == "fineweb_too_many_duplicate_line_chars"
    assert doc.signals["fineweb_duplicate_line_char_fraction"] == pytest.approx(
        datatrove_char_duplicates_ratio(DATACLASS_PARAMETERS)
    ) == pytest.approx(40 / len(DATACLASS_PARAMETERS.replace("\n", "")))


# --- every threshold at its published limit ---
# Each pair differs only in the measured quantity: inside sits on the limit (a `>` or `<` check
# passes it), outside one step beyond it. The rule runs alone, at its default.

def alone(field: str) -> FineWebQuality:
    """FineWebQuality with every threshold but `field` disabled."""
    return FineWebQuality(**{p: None for p in FineWebQuality.params() if p.startswith(("min_", "max_")) and p != field})


def page(lines: list[str], n: int, k: int = 0, edit=lambda line: line) -> str:
    """n lines cycled from `lines`, the first k passed through `edit`."""
    return "\n".join(edit(lines[i % len(lines)]) if i < k else lines[i % len(lines)] for i in range(n))


def wrapped(n_words: int, n_lines: int) -> str:
    """n_words words of EN_LINES (cycled) on n_lines lines."""
    words = " ".join(EN_LINES).split()
    words = [words[i % len(words)] for i in range(n_words)]
    return "\n".join(" ".join(words[j * n_words // n_lines:(j + 1) * n_words // n_lines]) for j in range(n_lines))


def with_version_notes(n_chars: int) -> str:
    """DATACLASS_PARAMETERS (its two repeated version notes: 40 characters) and a line of prose,
    n_chars characters in all without the newlines."""
    rest = n_chars - len(DATACLASS_PARAMETERS.replace("\n", ""))
    return DATACLASS_PARAMETERS + "\n\n" + (" ".join(EN_LINES) * 10)[:rest]


UNTERMINATED = [line.removesuffix(".") for line in EN_LINES]
LIMITS = [  # (threshold field, reason, inside, outside)
    # 120 and 119 of 1000 lines end a sentence
    ("min_terminal_line_fraction", "fineweb_too_few_terminal_punctuation_lines",
     page(UNTERMINATED, 1000, 120, lambda l: l + "."), page(UNTERMINATED, 1000, 119, lambda l: l + ".")),
    # 670 and 671 of 1000 lines have at most 30 characters
    ("max_short_line_fraction", "fineweb_too_many_short_lines",
     page(EN_LINES, 1000, 670, lambda l: l[:30]), page(EN_LINES, 1000, 671, lambda l: l[:30])),
    # a short line has at most 30 characters, 15 on CJK text: every line 31 (16) vs 30 (15)
    ("short_line_chars", "fineweb_too_many_short_lines", page([l[:31] for l in EN_LINES], 4), page([l[:30] for l in EN_LINES], 4)),
    ("short_line_chars_cjk", "fineweb_too_many_short_lines", page([l[:16] for l in ZH_LINES], 4), page([l[:15] for l in ZH_LINES], 4)),
    # 40 repeated characters in 4000 and 3999
    ("max_duplicate_line_char_fraction", "fineweb_too_many_duplicate_line_chars", with_version_notes(4000), with_version_notes(3999)),
    # 300 and 301 newlines per 1000 words
    ("max_newline_word_ratio", "fineweb_too_many_newlines", wrapped(1000, 301), wrapped(1000, 302)),
]


@pytest.mark.parametrize("field, reason, inside, outside", LIMITS, ids=[r[0] for r in LIMITS])
def test_threshold_at_its_published_limit(field, reason, inside, outside):
    rule = alone("max_short_line_fraction" if field.startswith("short_line_chars") else field)
    assert rule.check(Doc("d", inside)) is None
    assert rule.check(Doc("d", outside)) == reason
