"""C4 page rules and line rules, in English and Chinese."""
from __future__ import annotations

import pytest

from corpus_tools.filters import apply_filters
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


# People's Daily, 24 January 1998 (sample news-f16c2863c3d1d63e, abridged): the last paragraph
# ends with the reporter's byline.
ZH_BYLINE = (
    "九七十大财税新闻揭晓\n"
    "本报讯由中国财经报社主办、北京安易电脑会计公司协办的“安易”杯’97十大财税新闻评选23日在京揭晓。"
    "这十大新闻是：（一）江泽民总书记在十五大报告中，对财政、税务、国资等工作做了重要论述。"
    "（二）我国第四次大幅度降低关税税率，平均降幅达26%。（三）世界银行和国际货币基金组织’97年会在香港召开。"
    "（四）全国工商税收连续五年年均增收近1000亿元。（五）财政部采取一系列措施，改进和加强财政管理。（柴茂）"
)


def test_a_paragraph_ending_in_a_byline_is_kept_and_its_sentences_counted():
    assert removed(C4UnterminatedLines(), ZH_BYLINE) == ["九七十大财税新闻揭晓"]
    doc = Doc("d", ZH_BYLINE)
    assert C4Quality().check(doc) is None and doc.signals["c4_sentences"] == 6


# A shopping review (sample reviews-9cf325aa3fdaaa2b, abridged): ASCII full stops, no spaces.
ZH_ASCII_STOPS = (
    "在当当网买了几次东西了,感觉不是太好.服务上总是出现一些小问题.我19日下的订单,到了24日打电话还在配货,"
    "而贵网明明白白说按规定在2_5天内发货.记录显示直到30日才发出来,这是一种什么服务,糟糕透顶."
    "上次东西有问题要退货,我问能否早些退货,客服人员回答不能,只能在5个(7个)工作日内办理."
)


def test_ascii_full_stops_between_chinese_sentences_count():
    doc = Doc("d", ZH_ASCII_STOPS)
    assert C4Quality().check(doc) is None and doc.signals["c4_sentences"] == 5


# --- every threshold at its published limit ---
# Each pair differs only in the measured quantity: inside sits on the limit, outside one step beyond.

FOUR = EN.removesuffix(" This is sometimes useful.")  # EN without its fifth sentence
WORD = "x" * 1000  # C4's longest word


PAGE_LIMITS = [  # (threshold, inside, outside): C4Quality() passes inside and fails outside
    ("min_sentences", EN, FOUR),
    # a line needs 3 words for its sentence to count
    ("MIN_WORDS_PER_LINE", FOUR + "\nThis is useful.", FOUR + "\nVery useful."),
    # and no word over 1,000 characters
    ("MAX_WORD_CHARS", FOUR + f"\nThe blob {WORD} ends here.", FOUR + f"\nThe blob {WORD}x ends here."),
]


@pytest.mark.parametrize("limit, inside, outside", PAGE_LIMITS, ids=[r[0] for r in PAGE_LIMITS])
def test_page_rule_at_its_published_limit(limit, inside, outside):
    assert C4Quality().check(Doc("d", inside)) is None
    assert C4Quality().check(Doc("d", outside)) == "c4_too_few_sentences"


LINE_LIMITS = [  # (rule, inside, outside): the rule keeps the inside line and removes the outside one
    (C4LongWordLines(), f"The blob {WORD} ends here.", f"The blob {WORD}x ends here."),
    (C4ShortLines(), "This is useful.", "Very useful."),
]


@pytest.mark.parametrize("rule, inside, outside", LINE_LIMITS, ids=[r[0].name for r in LINE_LIMITS])
def test_line_rule_at_its_published_limit(rule, inside, outside):
    def removed_chars(line):
        return apply_filters(Doc("d", EN + "\n" + line), [], [rule]).removed_chars

    assert removed_chars(inside) == {}
    assert removed_chars(outside) == {rule.name: len(outside) + 1}
