"""Length and character rules, in English and Chinese."""
from __future__ import annotations

import pytest

from corpus_tools.filters.basic import CharacterQuality, DocumentLength
from corpus_tools.text import Doc

# Python Language Reference ("booleans") and People's Daily, 1 Jan 1998.
EN = (
    "In the context of Boolean operations, and also when expressions are used by control flow statements, "
    "the following values are interpreted as false: False, None, numeric zero of all types, and empty strings "
    "and containers. All other values are interpreted as true. User-defined objects can customize their truth "
    "value by providing a method."
)
ZH = (
    "新华社河内１２月３１日电（记者凌德权）越南总理潘文凯今天在这里说，从１９９８年开始，越南将大力挖掘自身潜力，"
    "厉行节俭，同时吸收外部资金，努力提高经济效益和竞争力，注重发展文化，实现公平和社会进步。\n"
    "他说，越南的经济既取得了巨大成就，也存在薄弱的方面；既存在继续迅速发展的可能，又存在抑制增长速度的因素。\n"
    "他强调，当务之急是继续革新经济机制和政策，优先发展生产力，同时按社会主义方向建立适当的生产关系。\n"
    "潘文凯在阐述１９９８年的任务时强调要解决好各种社会问题，首先是农民、农村和农业问题。"
)


def test_real_text_passes():
    for text in (EN, ZH):
        assert DocumentLength().check(Doc("d", text)) is None
        assert CharacterQuality().check(Doc("d", text)) is None


@pytest.mark.parametrize("text", ["A short note.", "今天天气很好。"])
def test_too_few_chars(text):
    assert DocumentLength().check(Doc("d", text)) == "too_few_chars"


@pytest.mark.parametrize("text", [EN, ZH])
def test_too_many_chars(text):
    assert DocumentLength(max_chars=len(text) - 1).check(Doc("d", text)) == "too_many_chars"
    assert DocumentLength().check(Doc("d", text * 100)) is None  # off by default


@pytest.mark.parametrize("text", ["\n".join(["Menu", "Home", "News"] * 30), "\n".join(["首页", "新闻", "体育"] * 40)])
def test_mean_line_length_too_short(text):
    assert DocumentLength().check(Doc("d", text)) == "mean_line_length_too_short"


@pytest.mark.parametrize("base", [EN, ZH])
def test_too_many_control_chars(base):
    assert CharacterQuality().check(Doc("d", base + "\x00\x01\x02\ue000" * 5)) == "too_many_control_chars"


@pytest.mark.parametrize("base", [EN, ZH])
def test_too_many_replacement_chars(base):
    assert CharacterQuality().check(Doc("d", base + "\ufffd" * 5)) == "too_many_replacement_chars"


@pytest.mark.parametrize("text", [
    EN + " <div class=\"x\">{{ $var }}</div> @@ && %% || [] \\\\ ## ** " * 10,
    ZH + "★☆♥♦§©®™◆◇■□▲△※→←↑↓" * 10,
])
def test_too_many_symbols(text):
    assert CharacterQuality().check(Doc("d", text)) == "too_many_symbols"


@pytest.mark.parametrize("text", [
    EN + " 3.14159 2.71828 1.41421 1.73205 2.23606 " * 12,
    ZH + "\n上证指数３１２１．４５ ３１０８．２２ ２９８７．６６ ３００５．１２ " * 12,
])
def test_too_many_digits(text):
    assert CharacterQuality().check(Doc("d", text)) == "too_many_digits"


@pytest.mark.parametrize("text", [
    EN + "\n" + "\n".join(f"Link https://example.com/page/{i}" for i in range(40)),
    ZH + "\n" + "\n".join(f"链接 http://www.example.cn/{i}.html" for i in range(40)),
])
def test_too_many_urls(text):
    assert CharacterQuality().check(Doc("d", text)) == "too_many_urls"


@pytest.mark.parametrize("text", [
    EN + "\n" + "\n".join(f"Contact sales{i}@example.com" for i in range(20)),
    ZH + "\n" + "\n".join(f"联系 shop{i}@example.cn" for i in range(20)),
])
def test_too_many_emails(text):
    assert CharacterQuality().check(Doc("d", text)) == "too_many_emails"


def test_links_weigh_the_same_in_chinese_and_english():
    en = Doc("d", EN + " See https://docs.python.org/3/reference/expressions.html for more.")
    zh = Doc("d", ZH + "详见 https://docs.python.org/3/reference/expressions.html 。")
    CharacterQuality().check(en), CharacterQuality().check(zh)
    assert 0 < zh.signals["url_word_ratio"] < 2 * en.signals["url_word_ratio"]


@pytest.mark.parametrize("text", [
    EN + " Wow!!!! Really???? Yes!!!!!!" * 8,
    ZH + "太好了！！！！！真的吗？？？？？。。。。。。" * 8,
])
def test_too_many_punctuation_runs(text):
    assert CharacterQuality().check(Doc("d", text)) == "too_many_punctuation_runs"


def test_rule_and_table_characters_are_layout_not_junk():
    table = "\n".join(["=========  ==========", "Name       Meaning", "=========  ==========", EN])
    doc = Doc("d", table)
    assert CharacterQuality().check(doc) is None and doc.signals["punctuation_run_fraction"] == 0


def test_none_disables_a_rule():
    assert CharacterQuality(max_replacement_char_fraction=None).check(Doc("d", EN + "\ufffd" * 5)) is None
    assert DocumentLength(min_chars=None).check(Doc("d", "A short but fine note.")) is None
