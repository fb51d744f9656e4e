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


# --- every threshold at its published limit ---
# Each pair differs only in the measured quantity: inside sits on the limit (a `>` or `<` check
# passes it), outside one step beyond it. The rule runs alone, at its default.

def alone(cls, field: str):
    """The rule with every threshold but `field` disabled."""
    return cls(**{p: None for p in cls.params() if p.startswith(("min_", "max_")) and p != field})


def lined(n_chars: int, n_lines: int) -> str:
    """The start of EN on n_lines lines of about equal length, n_chars characters with the newlines."""
    text = EN[: n_chars - n_lines + 1]
    return "\n".join(text[j * len(text) // n_lines:(j + 1) * len(text) // n_lines] for j in range(n_lines))


def non_space(text: str) -> int:
    return len("".join(text.split()))


def with_junk(junk: str, n: int) -> str:
    """EN (cycled) and then `junk`, n non-space characters in all."""
    text, count = [], non_space(junk)
    for c in EN * 10:
        if count == n:
            return "".join(text).rstrip() + " " + junk
        text.append(c)
        count += not c.isspace()


def with_words(extra: list[str], n: int) -> str:
    """EN's words (cycled) and then `extra`, n words in all."""
    words = EN.split() * (n // 50 + 1)
    return " ".join(words[: n - len(extra)] + extra)


LENGTH_LIMITS = [  # (threshold field, reason, inside, outside)
    # more than 200 characters: 201 pass and 200 fail (EvalWeb drops `text_length <= min_len`)
    ("min_chars", "too_few_chars", EN[:201], EN[:200]),
    # 200 and 199 characters on 20 lines (10.0 and 9.95 a line)
    ("min_mean_line_chars", "mean_line_length_too_short", lined(200, 20), lined(199, 20)),
]


@pytest.mark.parametrize("field, reason, inside, outside", LENGTH_LIMITS, ids=[r[0] for r in LENGTH_LIMITS])
def test_length_threshold_at_its_published_limit(field, reason, inside, outside):
    rule = alone(DocumentLength, field)
    assert rule.check(Doc("d", inside)) is None
    assert rule.check(Doc("d", outside)) == reason


URLS = ["https://docs.python.org/3/"] * 100
EMAILS = ["python-list@python.org"] * 50
CHARACTER_LIMITS = [  # (threshold field, reason, inside, outside): outside has one prose character (word) less
    ("max_control_char_fraction", "too_many_control_chars", with_junk("\x01" * 10, 1000), with_junk("\x01" * 10, 999)),
    ("max_replacement_char_fraction", "too_many_replacement_chars",
     with_junk("\ufffd" * 5, 1000), with_junk("\ufffd" * 5, 999)),
    ("max_symbol_fraction", "too_many_symbols", with_junk("©®™★☆" * 40, 1000), with_junk("©®™★☆" * 40, 999)),
    ("max_digit_fraction", "too_many_digits", with_junk(" ".join(["1998"] * 75), 1000), with_junk(" ".join(["1998"] * 75), 999)),
    ("max_url_word_ratio", "too_many_urls", with_words(URLS, 1000), with_words(URLS, 999)),  # 100 in 1000 words
    ("max_email_word_ratio", "too_many_emails", with_words(EMAILS, 1000), with_words(EMAILS, 999)),  # 50 in 1000 words
    ("max_punctuation_run_fraction", "too_many_punctuation_runs",  # 25 runs of 4
     with_junk(" ".join(["Wow!!!!"] * 25), 1000), with_junk(" ".join(["Wow!!!!"] * 25), 999)),
]


@pytest.mark.parametrize("field, reason, inside, outside", CHARACTER_LIMITS, ids=[r[0] for r in CHARACTER_LIMITS])
def test_character_threshold_at_its_published_limit(field, reason, inside, outside):
    rule = alone(CharacterQuality, field)
    assert rule.check(Doc("d", inside)) is None
    assert rule.check(Doc("d", outside)) == reason
