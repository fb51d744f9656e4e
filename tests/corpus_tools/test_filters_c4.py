"""C4 page rules and line rules, in English and Chinese."""
from __future__ import annotations

import pytest

from corpus_tools.filters.c4 import (
    C4JavascriptLines,
    C4LongWordLines,
    C4PolicyLines,
    C4Quality,
    C4ShortLines,
    C4UnterminatedLines,
)
from corpus_tools.text import Doc

# Python Language Reference ("booleans") and People's Daily, 1 Jan 1998: five sentences each.
EN = (
    "In the context of Boolean operations, the following values are interpreted as false. "
    "All other values are interpreted as true.\n"
    "User-defined objects can customize their truth value by providing a method.\n"
    "Note that neither and nor or restrict the value and type they return. "
    "This is sometimes useful."
)
ZH = (
    "越南总理潘文凯今天在这里说，越南将大力挖掘自身潜力。他说，越南的经济既取得了巨大成就。\n"
    "他强调，当务之急是继续革新经济机制和政策。潘文凯强调要解决好各种社会问题。\n"
    "解决好农业和农村问题也就是解决市场问题。"
)


def test_real_text_passes():
    for text in (EN, ZH):
        doc = Doc("d", text)
        assert C4Quality().check(doc) is None and doc.signals["c4_sentences"] >= 5


@pytest.mark.parametrize("base, line", [
    (EN, "Lorem ipsum dolor sit amet, consectetur adipiscing elit."),
    (ZH, "Lorem ipsum dolor sit amet, 占位文字在这里显示。"),
])
def test_lorem_ipsum(base, line):
    assert C4Quality().check(Doc("d", base + "\n" + line)) == "c4_lorem_ipsum"


@pytest.mark.parametrize("base, line", [
    (EN, "Use the syntax {name} to format the values."),
    (ZH, "使用 {name} 来格式化字符串中的值。"),
])
def test_curly_bracket(base, line):
    assert C4Quality().check(Doc("d", base + "\n" + line)) == "c4_curly_bracket"


def test_curly_bracket_on_a_line_c4_drops_anyway_keeps_the_page():
    assert C4Quality().check(Doc("d", EN + "\nfunction show() {")) is None


@pytest.mark.parametrize("text", ["One sentence here. And a second one.", "今天天气很好。我们去公园散步。"])
def test_too_few_sentences(text):
    assert C4Quality().check(Doc("d", text)) == "c4_too_few_sentences"


def test_none_disables_a_page_rule():
    assert C4Quality(curly_bracket=None).check(Doc("d", EN + "\nUse {name} to format the values.")) is None
    assert C4Quality(min_sentences=None).check(Doc("d", "One sentence here.")) is None


def removed(rule, text):
    return [line for line in text.split("\n") if line not in rule.apply(Doc("d", text))[0].split("\n")]


def test_long_word_lines():
    text = "A fine line of words.\nThe blob " + "x" * 1001 + " ends here.\n网址 " + "a" * 1001 + " 结束。"
    assert removed(C4LongWordLines(), text) == text.split("\n")[1:]
    assert C4LongWordLines().apply(Doc("d", ZH))[1] == 0  # long Chinese lines have one-character words


def test_unterminated_lines():
    text = "Breaking news today\nThe story ends with a full stop.\n新闻标题\n他说：“好。”\n这是一个句子。\nWait for it..."
    assert removed(C4UnterminatedLines(), text) == ["Breaking news today", "新闻标题", "Wait for it..."]


def test_short_lines():
    text = "Hi there.\nThis line has enough words.\n好。\n我很好。"
    assert removed(C4ShortLines(), text) == ["Hi there.", "好。"]


def test_javascript_lines():
    text = EN + "\nPlease enable JavaScript to view this page.\n请启用JavaScript以正常浏览本页面。"
    assert removed(C4JavascriptLines(), text) == text.split("\n")[-2:]


def test_policy_lines():
    text = EN + "\nBy using this site you agree to our Privacy Policy.\n请阅读我们的隐私政策。"
    assert removed(C4PolicyLines(), text) == text.split("\n")[-2:]


def test_line_rules_count_removed_characters():
    text = "Keep this sentence here.\nHi.\nAnd keep this one too."
    new_text, n = C4ShortLines().apply(Doc("d", text))
    assert new_text == "Keep this sentence here.\nAnd keep this one too." and n == len("Hi.\n")


def test_none_disables_a_line_rule():
    assert C4ShortLines(min_words=None).apply(Doc("d", "Hi.\nOk."))[1] == 0
    assert C4LongWordLines(max_word_chars=None).apply(Doc("d", "x" * 2000))[1] == 0
