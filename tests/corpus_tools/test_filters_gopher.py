"""Gopher quality and repetition rules: one case per drop reason, in English and Chinese."""
from __future__ import annotations

import random
from collections import Counter

import pytest

from corpus_tools.filters.gopher import GopherQuality, GopherRepetition
from corpus_tools.text import Doc

# Python Language Reference ("booleans", as help() ships it) and People's Daily, 1 Jan 1998.
EN = (
    "In the context of Boolean operations, and also when expressions are used by control flow statements, "
    "the following values are interpreted as false: False, None, numeric zero of all types, and empty strings "
    "and containers (including strings, tuples, lists, dictionaries, sets and frozensets). All other values are "
    "interpreted as true. User-defined objects can customize their truth value by providing a __bool__() method."
)
ZH = (
    "新华社河内１２月３１日电（记者凌德权）越南总理潘文凯今天在这里说，从１９９８年开始，越南将大力挖掘自身潜力，"
    "厉行节俭，同时吸收外部资金，努力提高经济效益和竞争力，注重发展文化，实现公平和社会进步。\n"
    "他说，越南的经济既取得了巨大成就，也存在薄弱的方面；既存在继续迅速发展的可能，又存在抑制增长速度的因素。"
)


def off(cls, *keep):
    """The filter with every threshold disabled except `keep` (at its published default)."""
    return cls(**{p: None for p in cls.params() if p.startswith(("min_", "max_")) and p not in keep})


def test_real_text_passes():
    for text in (EN, ZH):
        assert GopherQuality().check(Doc("d", text)) is None
        assert GopherRepetition().check(Doc("d", text)) is None


# --- quality ---

@pytest.mark.parametrize("text", ["Just a few words here.", "今天天气很好。"])
def test_too_few_words(text):
    assert GopherQuality().check(Doc("d", text)) == "gopher_too_few_words"


@pytest.mark.parametrize("text", [EN, ZH])
def test_too_many_words(text):
    assert GopherQuality(max_words=20).check(Doc("d", text)) == "gopher_too_many_words"


def test_mean_word_length_too_short():
    text = "I am to go on as we do so it is. " * 10
    assert GopherQuality().check(Doc("d", text)) == "gopher_mean_word_length_too_short"


def test_mean_word_length_is_not_checked_on_cjk_text():
    # By design: every CJK character is a one-character word, so the mean says nothing there.
    doc = Doc("d", ZH + " a b c d e f g h")
    assert GopherQuality().check(doc) is None and doc.signals["gopher_mean_word_length"] < 3


def test_mean_word_length_too_long():
    text = "Internationalization characterization responsibilities notwithstanding. " * 15
    assert GopherQuality().check(Doc("d", text)) == "gopher_mean_word_length_too_long"


@pytest.mark.parametrize("text", [EN + " #python #code #tips" * 12, ZH + "#新闻#话题#热点" * 20])
def test_too_many_hashes(text):
    assert GopherQuality().check(Doc("d", text)) == "gopher_too_many_hashes"


@pytest.mark.parametrize("text", [EN + " and so on..." * 25, ZH + "等等……" * 60])
def test_too_many_ellipses(text):
    assert GopherQuality().check(Doc("d", text)) == "gopher_too_many_ellipses"


@pytest.mark.parametrize("text", [
    "\n".join(f"- item number {i} of the list with the words in it" for i in range(20)),
    "\n".join(f"• 第{i}项是越南经济的发展和增长的情况" for i in range(20)),
])
def test_too_many_bullet_lines(text):
    assert GopherQuality().check(Doc("d", text)) == "gopher_too_many_bullet_lines"


@pytest.mark.parametrize("text", [
    "\n".join(f"The story number {i} of the day goes on and on..." for i in range(10)),
    "\n".join(f"越南经济的第{i}个问题在于发展的速度……" for i in range(10)),
])
def test_too_many_ellipsis_lines(text):
    assert off(GopherQuality, "max_ellipsis_line_fraction").check(Doc("d", text)) == "gopher_too_many_ellipsis_lines"


@pytest.mark.parametrize("text", [
    "The values are 12 34 56 78 90 12.5 33.1 and 44 55 66 77 88 99 10 20 30 40 50 60 70 80 90 100 "
    "110 120 130 140 150 160 170 180 190 200 210 220 230 240 250 and the rest.",
    "价格：１２３，４５６，７８９，１０１，１１２，１３１，４１５，１６１，７１８，１９２，０２１，２２２。" * 3,
])
def test_too_few_alphabetic_words(text):
    assert off(GopherQuality, "min_alphabetic_word_fraction").check(Doc("d", text)) == "gopher_too_few_alphabetic_words"


@pytest.mark.parametrize("text", [
    "Python programs compile source into bytecode; interpreters execute instructions sequentially. " * 6,
    "北京 上海 广州 深圳 杭州 南京 武汉 成都 重庆 天津 西安 苏州 长沙 郑州 青岛 沈阳 大连 厦门 " * 2,
])
def test_too_few_stop_words(text):
    assert GopherQuality().check(Doc("d", text)) == "gopher_too_few_stop_words"


def test_stop_words_are_configurable_and_none_disables_the_rule():
    text = "Python programs compile source into bytecode; interpreters execute instructions sequentially. " * 6
    assert GopherQuality(stop_words=("into",)).check(Doc("d", text)) is None
    assert GopherQuality(min_stop_words=None).check(Doc("d", text)) is None


# --- repetition ---

EN_LINES = [
    "All other values are interpreted as true.",
    "User-defined objects can customize their truth value.",
    "Note that neither and nor or restrict the value they return.",
    "Because not has to create a new value, it returns a boolean value.",
]
ZH_LINES = [
    "越南总理潘文凯今天在这里说，越南将大力挖掘自身潜力。",
    "他说，越南的经济既取得了巨大成就，也存在薄弱的方面。",
    "他强调，当务之急是继续革新经济机制和政策。",
    "解决好农业和农村问题也就是解决市场问题。",
]


@pytest.mark.parametrize("lines", [EN_LINES, ZH_LINES])
def test_too_many_duplicate_paragraphs(lines):
    text = "\n\n".join(lines[:2] * 3)
    assert GopherRepetition().check(Doc("d", text)) == "gopher_too_many_duplicate_paragraphs"


@pytest.mark.parametrize("lines", [EN_LINES, ZH_LINES])
def test_too_many_duplicate_paragraph_chars(lines):
    text = "\n\n".join([lines[0] * 4, lines[1], lines[2], lines[3], lines[0] * 4])
    assert GopherRepetition().check(Doc("d", text)) == "gopher_too_many_duplicate_paragraph_chars"


@pytest.mark.parametrize("lines", [EN_LINES, ZH_LINES])
def test_too_many_duplicate_lines(lines):
    text = "\n".join(lines[:2] * 3)
    assert GopherRepetition().check(Doc("d", text)) == "gopher_too_many_duplicate_lines"


@pytest.mark.parametrize("lines", [EN_LINES, ZH_LINES])
def test_too_many_duplicate_line_chars(lines):
    text = "\n".join([lines[0] * 4, lines[1], lines[2], lines[3], lines[0] * 4])
    assert GopherRepetition().check(Doc("d", text)) == "gopher_too_many_duplicate_line_chars"


SPAM_EN = "buy cheap watches online today " * 30
SPAM_ZH = "便宜手表在线购买今天下单" * 30


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("text", [SPAM_EN, SPAM_ZH])
def test_top_ngram_too_frequent(n, text):
    # Disabling the smaller n-grams' rules (None) lets the next one fire on the same text.
    rule = off(GopherRepetition, f"max_top_{n}gram_char_fraction")
    assert rule.check(Doc("d", text)) == f"gopher_top_{n}gram_too_frequent"


@pytest.mark.parametrize("n", range(5, 11))
@pytest.mark.parametrize("text", [SPAM_EN, SPAM_ZH])
def test_too_many_duplicate_ngram_chars(n, text):
    rule = off(GopherRepetition, f"max_duplicate_{n}gram_char_fraction")
    assert rule.check(Doc("d", text)) == f"gopher_too_many_duplicate_{n}gram_chars"


def test_cjk_ngrams_are_scaled_to_chinese_word_length():
    doc = Doc("d", SPAM_ZH)
    off(GopherRepetition).check(doc)
    # 2-word n-grams are 3 characters on CJK text: each of the 30 copies holds the top one once.
    assert doc.signals["gopher_top_2gram_char_fraction"] == pytest.approx(30 * 3 / len(SPAM_ZH))


def reference_signals(words: list[str], n_chars: int, sizes: dict[int, int], sep: int) -> dict[str, float]:
    """DataTrove's GopherRepetitionFilter n-gram loops, on tuples of words."""
    out = {}
    for n in (2, 3, 4):
        m = sizes[n]
        grams = [tuple(words[i : i + m]) for i in range(len(words) - m + 1)]
        gram, count = Counter(grams).most_common(1)[0] if grams else ((), 0)
        out[f"gopher_top_{n}gram_char_fraction"] = (sum(map(len, gram)) + sep * (m - 1)) * count / n_chars if count > 1 else 0.0
    for n in range(5, 11):
        m, seen, chars, i = sizes[n], set(), 0, 0
        while i < len(words) - m + 1:
            gram = tuple(words[i : i + m])
            if gram in seen:
                chars, i = chars + sum(map(len, gram)), i + m
            else:
                seen.add(gram)
                i += 1
        out[f"gopher_duplicate_{n}gram_char_fraction"] = chars / n_chars
    return out


@pytest.mark.parametrize("seed", range(25))
def test_ngram_fractions_equal_datatroves_loops(seed):
    rng = random.Random(seed)
    cjk = seed % 2 == 1
    vocab = list("的了是在我有他这中大来上国个到说") if cjk else "the cat sat on a mat and it was good".split()
    words = [rng.choice(vocab[: rng.randint(2, len(vocab))]) for _ in range(rng.randint(20, 400))]
    text = ("" if cjk else " ").join(words)
    doc = Doc("d", text)
    rule = off(GopherRepetition)
    rule.check(doc)
    sizes = {n: max(n, round(n * 1.64)) if cjk else n for n in range(2, 11)}
    expected = reference_signals(doc.words, len(text), sizes, 0 if cjk else 1)
    for name, value in expected.items():
        assert doc.signals[name] == pytest.approx(value, abs=1e-12), name
