"""Boilerplate line rules: each removes its lines, in English and Chinese, and keeps prose."""
from __future__ import annotations

import pytest

from corpus_tools.filters.lines import (
    CookieBannerLines,
    CopyrightLines,
    NavigationLines,
    ReadMoreLines,
    RepeatedCharLines,
    ShareButtonLines,
    UrlLines,
)
from corpus_tools.text import Doc

EN = "All other values are interpreted as true. User-defined objects can customize their truth value."
ZH = "越南总理潘文凯今天在这里说，从１９９８年开始，越南将大力挖掘自身潜力，厉行节俭。"


def removed(rule, lines):
    """The lines `rule` removes from a page made of `lines` around two lines of prose."""
    text = "\n".join([EN, *lines, ZH])
    new_text, n = rule.apply(Doc("d", text))
    kept = new_text.split("\n")
    assert EN in kept and ZH in kept
    gone = [line for line in lines if line not in kept]
    assert n == sum(len(line) + 1 for line in gone)  # characters removed, newlines included
    return gone


CASES = {
    NavigationLines: (
        ["Home | News | Sports | Contact", "首页 > 新闻中心 > 国内新闻", "上一篇：越南经济发展迅速", "Skip to content",
         "Previous post: The values of truth", "返回顶部"],
        ["Use a | b to join the values, as the manual says.", "他说，新闻中心 > 编辑部的意见很重要。", "Home is where the heart is, they say."],
    ),
    CookieBannerLines: (
        ["This website uses cookies to improve your experience. By continuing to browse you agree.",
         "本网站使用Cookie来改善您的浏览体验，继续浏览即表示您同意。", "Accept all cookies"],
        ["A browser stores cookies for each site it visits.", "小饼干（cookie）是一种西式点心。"],
    ),
    CopyrightLines: (
        ["Copyright © 2023 Example Inc. All rights reserved.", "版权所有 © 2023 某某网 京ICP备12345678号",
         "未经授权，不得转载。", "Powered by WordPress"],
        ["The copyright law protects the authors of original works.", "作者依法享有著作权。"],
    ),
    ReadMoreLines: (
        ["Read more »", "阅读全文", "点击查看更多", "The minister said the economy would grow... Continue reading",
         "越南经济继续以较高速度增长……阅读全文"],
        ["Readers can read more about this in chapter two.", "查看这份报告的人很多。"],
    ),
    ShareButtonLines: (
        ["Share on Facebook", "分享到：微信 微博 QQ空间", "点赞(12) 收藏 转发", "Follow us on Twitter", "Facebook Twitter LinkedIn"],
        ["通过微信、微博等平台传播。", "Share prices rose sharply on Monday."],
    ),
    UrlLines: (
        ["https://example.com/a/b/c", "网址：https://www.example.cn/news/123.html"],
        ["The documentation lives at https://docs.python.org/3/ and explains every statement in detail."],
    ),
    RepeatedCharLines: (
        ["哈哈哈哈哈哈哈哈哈哈", "Great!!!!!!!!!!!!", "==========", "8888888888888"],
        ["Good!!!", "好好学习，天天向上。", "Wow... the end."],
    ),
}


@pytest.mark.parametrize("rule", list(CASES), ids=lambda r: r.name)
def test_removes_boilerplate_and_keeps_prose(rule):
    boilerplate, prose = CASES[rule]
    assert removed(rule(), boilerplate + prose) == boilerplate


@pytest.mark.parametrize("rule", list(CASES), ids=lambda r: r.name)
def test_pages_without_boilerplate_are_untouched(rule):
    doc = Doc("d", EN + "\n" + ZH)
    assert rule().apply(doc) == (doc.text, 0)


def test_none_disables_a_line_rule():
    assert NavigationLines(max_chars=None).apply(Doc("d", "Home | News | Contact"))[1] == 0
    assert UrlLines(max_url_char_fraction=None).apply(Doc("d", "https://example.com/x"))[1] == 0
    assert RepeatedCharLines(min_run=None).apply(Doc("d", "=" * 30))[1] == 0
    assert ReadMoreLines(max_start_chars=None).apply(Doc("d", "Read more »"))[1] == 0
    assert CookieBannerLines(max_chars=None).apply(Doc("d", "Accept all cookies"))[1] == 0


def test_length_limits():
    long_copyright = "Copyright 2023 " + "and a long legal paragraph " * 10
    assert CopyrightLines().apply(Doc("d", long_copyright))[1] == 0
    assert CopyrightLines(max_chars=1000).apply(Doc("d", long_copyright))[1] > 0


# --- every threshold at its default limit ---
# Each pair of lines differs only in the measured quantity, on either side of the limit.

def fit(text: str, n: int) -> str:
    """`text` cycled to exactly n characters (a final space made a full stop: lines are stripped)."""
    line = (text * (n // len(text) + 1))[:n]
    return line[:-1] + "." if line.endswith(" ") else line


MENU = "Home | News | Sports | Business | Technology | Science | Health | Travel | Opinion | Weather | Video | "
BANNER = ("This website uses cookies to improve your experience. We use cookies to personalise content and ads "
          "and to analyse our traffic. By continuing to browse you agree to our use of cookies. ")
FOOTER = "Copyright © 2023 Example Inc. All rights reserved. Reproduction without written permission is prohibited. "
SHARE = "Share on Facebook | Share on Twitter | Share on LinkedIn | Share by e-mail | "
TEASER = "Read more about the values that are interpreted as false by the Boolean operations "
URL = "https://docs.python.org/3/reference/expressions.html#boolean-operations"  # 71 characters


def with_url(n: int) -> str:
    """Words of EN with n non-space characters, then URL."""
    words, count = [], 0
    for w in EN.split():
        words.append(w[: n - count])
        count += len(words[-1])
        if count == n:
            return " ".join(words) + " " + URL


LIMITS = [  # (rule, kept line, removed line)
    (NavigationLines(), fit(MENU, 201), fit(MENU, 200)),  # lines of at most max_chars = 200
    (CookieBannerLines(), fit(BANNER, 401), fit(BANNER, 400)),  # 400
    (CopyrightLines(), fit(FOOTER, 201), fit(FOOTER, 200)),  # 200
    (ShareButtonLines(), fit(SHARE, 101), fit(SHARE, 100)),  # 100
    (ReadMoreLines(), fit(TEASER, 61), fit(TEASER, 60)),  # a "read more" start: max_start_chars = 60
    (UrlLines(), with_url(71), with_url(70)),  # URL characters 71 / 142 = 0.5 kept, 71 / 141 removed
    (RepeatedCharLines(), "=" * 9, "=" * 10),  # a run of min_run = 10
]


@pytest.mark.parametrize("rule, kept, gone", LIMITS, ids=[r[0].name for r in LIMITS])
def test_threshold_at_its_default_limit(rule, kept, gone):
    assert removed(rule, [kept]) == []
    assert removed(rule, [gone]) == [gone]
