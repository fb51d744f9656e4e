"""Line rules: web boilerplate that survives text extraction, in English and Chinese.

Each rule removes whole lines (a line is a paragraph in extracted web text) and is counted on
its own. Patterns are anchored to what boilerplate looks like (short lines, a marker at the
start or end of the line), so a sentence that merely mentions cookies or copyright stays.

Speed: a rule first looks for its trigger substrings in the lower-cased text (`in`, in C)
and skips the line loop when none is there, which is most documents; per line it matches
at the start (`re.match`) or near the end, never scanning long lines with a slow pattern.

These rules have no published thresholds: the classes of boilerplate are those RefinedWeb
(Penedo et al. 2023, line-wise corrections) and the Chinese web pipelines remove
(navigation, share buttons and counters, copyright and ICP footers, "阅读全文" teasers).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from corpus_tools.config import NonNegativeInt, PositiveInt, Share
from corpus_tools.filters.base import LineFilter
from corpus_tools.filters.basic import URL
from corpus_tools.text import Doc, ends_with_terminal


@dataclass
class PatternLines(LineFilter):
    """Drop lines of at most `max_chars` characters that boilerplate patterns match.

    Subclasses set, on lower-cased stripped lines: `start` (matched at the line start),
    `anywhere` (searched), `exact` (whole lines), and `triggers`, substrings at least one of
    which every match of `start` or `anywhere` contains.
    """

    triggers: ClassVar[tuple[str, ...]] = ()
    start: ClassVar[re.Pattern | None] = None
    anywhere: ClassVar[re.Pattern | None] = None
    exact: ClassVar[frozenset[str]] = frozenset()
    max_chars: NonNegativeInt | None = 200

    def may_drop(self, doc: Doc) -> bool:
        if self.max_chars is None:
            return False
        lower = doc.text_lower
        if any(map(lower.__contains__, self.triggers)):
            return True
        return bool(self.exact) and any(l.lower() in self.exact for l in doc.non_empty_lines if len(l) <= 30)

    def drops_line(self, line: str, doc: Doc) -> bool:
        line = line.strip()
        if len(line) > self.max_chars:
            return False
        lower = line.lower()
        return bool(
            lower in self.exact
            or (self.start is not None and self.start.match(lower))
            or (self.anywhere is not None and self.anywhere.search(lower))
        )


def _words(*alternatives: str) -> str:
    return "(?:" + "|".join(alternatives) + ")"


# Menu items joined by separators: "Home | News | Contact", "首页 > 新闻中心 > 正文".
_SEPARATORS = "|｜»›>＞→·•/\\"
_TWO_SEPARATORS = re.compile(rf"[{re.escape(_SEPARATORS)}][^\n]*?[{re.escape(_SEPARATORS)}]")
_SPLIT_MENU = re.compile(rf"\s*[{re.escape(_SEPARATORS)}]\s*")
_NAV_PREFIXES = (
    "you are here", "breadcrumb", "previous post", "next post", "previous article", "next article",
    "当前位置", "您的位置", "你的位置", "所在位置", "上一篇", "下一篇", "上一页", "下一页",
)
_NAV_LINES = frozenset([
    "home", "menu", "search", "login", "log in", "sign in", "sign up", "register", "skip to content",
    "skip to main content", "skip navigation", "back to top", "main menu", "toggle navigation", "open menu",
    "close menu", "首页", "返回顶部", "回到顶部", "返回首页", "网站导航", "网站地图", "登录", "注册",
    "登录|注册", "登录 | 注册", "登录/注册",
])


@dataclass
class NavigationLines(LineFilter):
    """Remove navigation: menus and breadcrumbs (3 or more items of at most 25 characters
    joined by | > » › / · •, without terminal punctuation), navigation lines (Home, Skip to
    content, 返回顶部, 登录 | 注册) and lines starting "上一篇" / "下一篇" / "当前位置" /
    "Previous post"... Lines of at most `max_chars` characters."""

    name: ClassVar[str] = "navigation_lines"
    max_chars: NonNegativeInt | None = 200

    def may_drop(self, doc: Doc) -> bool:
        if self.max_chars is None:
            return False
        lower = doc.text_lower
        return bool(
            any(map(lower.__contains__, _NAV_PREFIXES))
            or _TWO_SEPARATORS.search(doc.text)
            or any(l.lower() in _NAV_LINES for l in doc.non_empty_lines if len(l) <= 25)
        )

    def drops_line(self, line: str, doc: Doc) -> bool:
        line = line.strip()
        if len(line) > self.max_chars:
            return False
        if len(line) <= 25 and line.lower() in _NAV_LINES:
            return True
        if line[:20].lower().startswith(_NAV_PREFIXES):
            return True
        if not _TWO_SEPARATORS.search(line) or ends_with_terminal(line):
            return False
        items = _SPLIT_MENU.split(line)
        return len(items) >= 3 and all(0 < len(item) <= 25 for item in items)


_CONSENT = _words(
    r"we use", r"this (?:web)?site uses", r"our (?:web)?site uses", r"uses", r"accept", r"consent",
    r"agree", r"by (?:continuing|using|clicking)", r"continu(?:e|ing) to (?:browse|use)", r"opt[- ]out",
    r"got it", r"settings", r"preferences", "使用", "同意", "接受", "继续浏览",
)


@dataclass
class CookieBannerLines(PatternLines):
    """Remove cookie and consent banners: a line naming cookies together with consent
    language (we use / accept / agree / by continuing ...; 使用 / 同意 / 接受 ...), and bare
    consent buttons ("Accept all cookies", "Cookie settings", "全部接受"). Up to 400 characters."""

    name: ClassVar[str] = "cookie_banner_lines"
    max_chars: NonNegativeInt | None = 400
    triggers: ClassVar[tuple[str, ...]] = ("cookie",)
    anywhere: ClassVar[re.Pattern] = re.compile(rf"cookie.*?{_CONSENT}|{_CONSENT}.*?cookie")
    exact: ClassVar[frozenset[str]] = frozenset(
        ["accept", "accept all", "accept cookies", "accept all cookies", "reject", "reject all",
         "manage cookies", "manage preferences", "cookie settings", "全部接受", "接受全部", "全部拒绝", "拒绝全部"]
    )


@dataclass
class CopyrightLines(PatternLines):
    """Remove copyright and site footers: ©, "Copyright 2023", "All rights reserved",
    版权所有, 未经授权不得转载, 转载请注明出处, ICP licence and police record numbers
    (京ICP备…号, 公网安备), "Powered by". Up to 200 characters."""

    name: ClassVar[str] = "copyright_lines"
    triggers: ClassVar[tuple[str, ...]] = (
        "©", "(c)", "copyright", "all rights reserved", "版权", "未经", "转载请注明", "icp", "公网安备", "powered by",
    )
    start: ClassVar[re.Pattern] = re.compile(r"powered by\b")
    anywhere: ClassVar[re.Pattern] = re.compile(
        r"©|\(c\)\s*(?:19|20)\d\d|\bcopyright\b\s*(?:©|\(c\)|(?:19|20)\d\d)|all rights reserved|"
        r"版权所有|版权归.{0,20}所有|未经.{0,10}(?:许可|授权|允许|同意).{0,15}(?:转载|复制|使用|摘编)|"
        r"转载请注明|icp备|icp证|公网安备"
    )


_MORE = _words(
    "read more", "continue reading", "阅读全文", "阅读原文", "阅读更多", "查看全文", "展开全文", "查看更多",
)
_MORE_END = re.compile(rf"{_MORE}\s*(?:»|>>|›|→|…|\.\.\.)?\s*$")


@dataclass
class ReadMoreLines(LineFilter):
    """Remove teaser links: a line starting with a "read more" marker (read more, continue
    reading, click here, see more, 阅读全文, 点击查看, 查看更多, 展开全文...) and at most
    `max_start_chars` (60) long, or any line ending with one (a teaser is a truncated copy
    of an article)."""

    name: ClassVar[str] = "read_more_lines"
    max_start_chars: NonNegativeInt | None = 60
    triggers: ClassVar[tuple[str, ...]] = (
        "read more", "continue reading", "click here", "see more", "show more", "load more", "view more", "more »",
        "more >>", "more ›", "阅读全文", "阅读原文", "阅读更多", "点击", "点此", "查看", "展开全文", "加载更多", "更多",
    )
    start: ClassVar[re.Pattern] = re.compile(
        r"(?:read more|continue reading|click here|see more|show more|load more|view more|more\s*(?:»|>>|›)|"
        r"阅读全文|阅读原文|阅读更多|点击查看|点击阅读|点击进入|点此查看|查看更多|查看全文|查看详情|展开全文|加载更多|"
        r"更多\s*(?:>>|»|›))"
    )

    def may_drop(self, doc: Doc) -> bool:
        lower = doc.text_lower
        return self.max_start_chars is not None and any(map(lower.__contains__, self.triggers))

    def drops_line(self, line: str, doc: Doc) -> bool:
        lower = line.strip().lower()
        return bool((len(lower) <= self.max_start_chars and self.start.match(lower)) or _MORE_END.search(lower[-24:]))


_SOCIAL = _words(
    "facebook", "twitter", "linkedin", "pinterest", "reddit", "whatsapp", "telegram", "weibo", "wechat",
    "微信", "微博", "qq空间", "朋友圈", "豆瓣", "知乎",
)


@dataclass
class ShareButtonLines(PatternLines):
    """Remove share and engagement buttons: "Share on Facebook", "分享到：微信 微博", two
    social networks named on one line, counters such as "点赞(12) 收藏 转发", "关注我们",
    "follow us", 扫码关注. Lines of at most 100 characters that do not end a sentence."""

    name: ClassVar[str] = "share_button_lines"
    max_chars: NonNegativeInt | None = 100
    triggers: ClassVar[tuple[str, ...]] = (
        "share", "tweet", "pin it", "email this", "print this", "follow us", "分享", "关注我们", "扫码", "长按识别",
        "扫一扫", "facebook", "twitter", "linkedin", "pinterest", "reddit", "whatsapp", "telegram", "weibo",
        "wechat", "微信", "微博", "qq空间", "朋友圈", "豆瓣", "知乎", "点赞", "收藏", "转发",
    )
    start: ClassVar[re.Pattern] = re.compile(
        r"share (?:this|on|via)|share\s*[:：]|tweet\b|pin it|email this|print this|follow us|"
        r"分享到|分享至|一键分享|关注我们|扫码关注|长按识别|扫一扫|"
        r"(?:(?:点赞|赞|收藏|转发|分享|评论|举报|回复)\s*[(（]?\d*[)）]?\s*[|·/]?\s*){2,}$"
    )
    anywhere: ClassVar[re.Pattern] = re.compile(rf"{_SOCIAL}.{{0,30}}{_SOCIAL}")

    def drops_line(self, line: str, doc: Doc) -> bool:
        # Buttons never end a sentence; "通过微信、微博传播。" is prose.
        return super().drops_line(line, doc) and not ends_with_terminal(line.rstrip())


@dataclass
class UrlLines(LineFilter):
    """Remove lines that are mostly links: URL characters over half the line's non-space
    characters (`max_url_char_fraction`)."""

    name: ClassVar[str] = "url_lines"
    max_url_char_fraction: Share | None = 0.5

    def may_drop(self, doc: Doc) -> bool:
        lower = doc.text_lower
        return self.max_url_char_fraction is not None and ("http" in lower or "www." in lower)

    def drops_line(self, line: str, doc: Doc) -> bool:
        urls = len("".join(URL.findall(line.lower())))
        return urls > 0 and urls / len("".join(line.split())) > self.max_url_char_fraction


@dataclass
class RepeatedCharLines(LineFilter):
    """Remove lines with a run of 10 or more of one character (`min_run`): floods
    (哈哈哈哈哈哈哈哈哈哈, !!!!!!!!!!, 8888888888), separators and table borders (==========).
    Ziya2 names repeated characters as junk it removes; one such line should not cost the
    page, so it goes line by line."""

    name: ClassVar[str] = "repeated_char_lines"
    min_run: PositiveInt | None = 10

    def __post_init__(self):
        self._run = re.compile(rf"(\S)\1{{{self.min_run - 1},}}") if self.min_run else None

    def may_drop(self, doc: Doc) -> bool:
        return self._run is not None and bool(np.any(doc.char_runs[1] >= self.min_run))

    def drops_line(self, line: str, doc: Doc) -> bool:
        return self._run.search(line) is not None
