"""Web junk made from real text: what a crawl of the open web looks like around the good parts.

Shared by `build_sample_corpus.py` and `build_bench_corpus.py`. Every maker takes real text
(from `corpus_sources`) and an explicit `random.Random`, so output is deterministic; none of
them marks its output in the text itself, the builders record the `kind` in metadata.

The page chrome below (menus, cookie banners, share bars, footers, ad slogans) is the stock
vocabulary of web pages, the part a crawl repeats across millions of documents; the sites named
are fictional.
"""
from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass

from corpus_sources import linux_doc_text

# ---------------------------------------------------------------- sites and URLs

ZH_SITES = [("www.meiri-xinwen.cn", "每日新闻网"), ("news.hxzx365.com", "华夏资讯"),
            ("www.kaiyuan-jishu.org", "开源技术社区"), ("book.haoshu-pinglun.com", "好书评论网"),
            ("www.zhishi-baike.net", "知识百科网"), ("bbs.diannao-luntan.cn", "电脑爱好者论坛")]
EN_SITES = [("www.dailytechdigest.com", "Daily Tech Digest"), ("blog.opensourcenotes.net", "Open Source Notes"),
            ("www.devguides-online.com", "DevGuides Online"), ("news.worldwire-report.com", "WorldWire Report"),
            ("forum.linuxhelpdesk.org", "Linux Help Desk Forum"), ("www.codingcorner.io", "Coding Corner")]
ZH_EDITORS = ["王磊", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄晓明"]
EN_AUTHORS = ["admin", "editor", "John Miller", "Sarah Chen", "guest", "webmaster"]


def site_for(lang: str, rng: random.Random) -> tuple[str, str]:
    return rng.choice(ZH_SITES if lang == "zh" else EN_SITES)


def page_url(domain: str, rng: random.Random, lang: str) -> str:
    if lang == "zh":
        y, m, d = rng.randint(2012, 2024), rng.randint(1, 12), rng.randint(1, 28)
        return rng.choice([
            f"https://{domain}/{y}/{m:02d}{d:02d}/{rng.randint(100000, 999999)}.shtml",
            f"https://{domain}/article/{rng.randint(10**7, 10**8 - 1)}.html",
            f"http://{domain}/html/{y}{m:02d}/{rng.randint(1000, 99999)}.htm",
            f"https://{domain}/thread-{rng.randint(10000, 999999)}-1-1.html"])
    slug = "-".join(rng.sample(["guide", "how", "to", "linux", "python", "setup", "tips", "review", "best",
                                "kernel", "install", "update", "news", "notes", "faq", "2023"], 3))
    return rng.choice([f"https://{domain}/{rng.randint(2012, 2024)}/{rng.randint(1, 12):02d}/{slug}/",
                       f"https://{domain}/posts/{slug}-{rng.randint(100, 99999)}",
                       f"https://{domain}/threads/{slug}.{rng.randint(1000, 999999)}/",
                       f"http://{domain}/index.php?p={rng.randint(1, 99999)}"])


def url_variant(url: str | None, rng: random.Random) -> str | None:
    """The same page under a URL that differs only in ways URL dedup should normalize."""
    if url is None:
        return None
    choice = rng.randrange(5)
    if choice == 0:
        return url.replace("https://", "http://", 1) if url.startswith("https://") else url.replace("http://", "https://", 1)
    if choice == 1:
        return url + ("&" if "?" in url else "?") + rng.choice(["utm_source=weibo", "utm_source=twitter&utm_medium=social",
                                                                  "from=timeline", "spm=a2c4g.11186623", "ref=rss"])
    if choice == 2:
        return url + "#comments"
    if choice == 3:
        return url.rstrip("/") if url.endswith("/") else url + "/"
    return re.sub(r"^(https?://)(www\.)?", lambda m: m.group(1) + "m.", url, count=1)


def spam_url(rng: random.Random) -> str:
    prefix = rng.choice(["am", "bet", "yl", "vip", "888", "js", "hg", "xpj", "ag", "cp", "pj", "win"])
    tld = rng.choice(["com", "cc", "net", "vip", "top", "xyz", "me", "info"])
    path = rng.choice(["", "index.html", f"?id={rng.randint(1, 9999)}", f"reg/{rng.randint(100, 999)}.html"])
    return f"http://www.{prefix}{rng.randint(100, 99999)}.{tld}/{path}"


def clip(text: str, max_chars: int) -> str:
    """The start of a text, at most max_chars long, cut at a line end when there is one."""
    if len(text) <= max_chars:
        return text
    cut = text.rfind("\n", 0, max_chars)
    return text[: cut if cut > max_chars // 3 else max_chars]


# ---------------------------------------------------------------- page chrome

ZH_NAV = ["首页", "新闻", "国内", "国际", "财经", "科技", "体育", "娱乐", "汽车", "房产", "教育", "健康",
          "旅游", "视频", "图片", "论坛", "博客", "专题"]
EN_NAV = ["Home", "News", "World", "Business", "Tech", "Science", "Sports", "Opinion", "Video",
          "Podcasts", "Newsletters", "About", "Contact"]


def _zh_chrome(rng: random.Random, site: str, domain: str, title: str, related: list[str]) -> tuple[list[str], list[str]]:
    y = rng.randint(2012, 2024)
    head = [
        "登录 | 注册 | 手机版 | 设为首页 | 加入收藏",
        " | ".join(rng.sample(ZH_NAV, rng.randint(8, 14))),
        f"当前位置：首页 > {rng.choice(ZH_NAV[1:])} > 正文",
    ]
    if rng.random() < 0.6:
        head.insert(0, "本网站使用Cookie来改善您的浏览体验。继续浏览即表示您同意我们使用Cookie。了解更多 接受")
    head.append(title)
    head.append(f"来源：{site}　作者：{rng.choice(ZH_EDITORS)}　发布时间：{y}-{rng.randint(1, 12):02d}-"
                f"{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}　"
                f"浏览次数：{rng.randint(12, 98765)}")
    head.append("字号：大 中 小")
    tail = [f"（责任编辑：{rng.choice(ZH_EDITORS)}）", "分享到：微信 微博 QQ空间 豆瓣 复制链接"]
    if related:
        tail.append("相关阅读：")
        tail += [f"· {r}" for r in related]
    if rng.random() < 0.5:
        tail.append("热门排行")
        tail += [f"{k + 1}. {r}" for k, r in enumerate(related[:5])]
    tail += ["网友评论（0）　我要评论", "请文明上网，理性发言，遵守相关法律法规。",
             "关于我们 | 联系我们 | 广告服务 | 隐私政策 | 网站地图 | 法律声明 | 招聘信息",
             f"Copyright © 2003-{y} {domain.split('.', 1)[1]} {site} 版权所有",
             f"京ICP备{rng.randint(10**7, 10**8 - 1)}号-{rng.randint(1, 9)}　"
             f"京公网安备 {rng.randint(10**13, 10**14 - 1)}号",
             f"违法和不良信息举报电话：010-{rng.randint(10**7, 10**8 - 1)}"]
    return head, tail


def _en_chrome(rng: random.Random, site: str, domain: str, title: str, related: list[str]) -> tuple[list[str], list[str]]:
    y = rng.randint(2012, 2024)
    head = ["Skip to main content", " | ".join(rng.sample(EN_NAV, rng.randint(7, 12))), "Sign in | Subscribe"]
    if rng.random() < 0.6:
        head.insert(0, "We use cookies to personalise content and ads, to provide social media features and to "
                       "analyse our traffic. By clicking \u201cAccept all\u201d, you consent to our use of cookies. "
                       "Accept all | Manage preferences")
    head.append(title)
    head.append(f"Posted on {rng.choice(['January', 'March', 'May', 'July', 'September', 'November'])} "
                f"{rng.randint(1, 28)}, {y} by {rng.choice(EN_AUTHORS)} | {rng.randint(0, 250)} Comments")
    tail = ["Share this article: Facebook Twitter LinkedIn Reddit Email Print"]
    if related:
        tail.append("Related posts:")
        tail += [f"- {r}" for r in related]
    tail += ["Leave a Reply", "Your email address will not be published. Required fields are marked *",
             "Subscribe to our newsletter and never miss an update!",
             "About Us | Contact | Advertise | Privacy Policy | Terms of Use | Sitemap",
             f"\u00a9 {y} {site}. All rights reserved."]
    if rng.random() < 0.5:
        tail.insert(1, "Tags: " + ", ".join(rng.sample(["linux", "python", "tutorial", "howto", "news", "open source",
                                                        "debian", "programming", "tips"], 4)))
    return head, tail


def boilerplate_page(text: str, title: str, lang: str, rng: random.Random, related: list[str],
                     domain: str, site: str) -> str:
    """The visible text of a crawled page: menus, banners and footers around a real text.

    Half the time the page is a teaser: only the first paragraphs and a "read more" link.
    """
    chrome = _zh_chrome if lang == "zh" else _en_chrome
    head, tail = chrome(rng, site, domain, title, related)
    body = [ln for ln in text.split("\n") if ln.strip()]
    if body and body[0].strip() == title.strip():
        body = body[1:]
    if rng.random() < 0.35 and len(body) > 3:
        body = body[: rng.randint(1, 3)] + [rng.choice(["阅读全文", "点击查看全文>>", "展开全文"]) if lang == "zh"
                                            else rng.choice(["Read more \u00bb", "Continue reading \u2192", "Read the full story"])]
    elif rng.random() < 0.3 and len(body) > 4:  # an ad slot in the middle of the article
        k = rng.randint(1, len(body) - 1)
        ad = "广告" if lang == "zh" else "Advertisement"
        body = body[:k] + [ad] + body[k:]
    return "\n".join(head + body + tail)


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def html_page(text: str, title: str, lang: str, rng: random.Random, related: list[str], domain: str,
              site: str) -> str:
    """The raw HTML of a page around a real text (scripts, menus and footer included)."""
    nav = ZH_NAV if lang == "zh" else EN_NAV
    items = "".join(f'<li><a href="/{k}/">{_esc(n)}</a></li>' for k, n in enumerate(rng.sample(nav, 8)))
    paras = "\n".join(f"<p>{_esc(p)}</p>" for p in text.split("\n") if p.strip() and p.strip() != title.strip())
    rel = "".join(f'<li><a href="/a/{rng.randint(10000, 99999)}.html">{_esc(r)}</a></li>' for r in related)
    share = "分享到：" if lang == "zh" else "Share:"
    copy = (f"Copyright &copy; 2003-{rng.randint(2015, 2024)} {_esc(site)} 版权所有" if lang == "zh"
            else f"&copy; {rng.randint(2015, 2024)} {_esc(site)}. All rights reserved.")
    return (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_esc(title)} - {_esc(site)}</title>\n"
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<link rel="stylesheet" href="/static/css/main.{rng.randint(1000, 9999)}.css">\n'
        f"<script>var _hmt = _hmt || [];(function() {{var hm = document.createElement(\"script\");"
        f'hm.src = "https://stats.{domain.split(".", 1)[1]}/hm.js?{rng.getrandbits(64):016x}";'
        f'var s = document.getElementsByTagName("script")[0];s.parentNode.insertBefore(hm, s);}})();</script>\n'
        f"</head>\n<body>\n"
        f'<div class="header"><a class="logo" href="/">{_esc(site)}</a><ul class="nav">{items}</ul></div>\n'
        f'<div class="main"><div class="article"><h1>{_esc(title)}</h1>\n<div class="content">\n{paras}\n</div>\n'
        f'<div class="share">{share} <a class="wx">WeChat</a> <a class="wb">Weibo</a> <a class="tw">Twitter</a></div>\n'
        f'</div><div class="sidebar"><ul class="related">{rel}</ul></div></div>\n'
        f'<div class="footer"><p>{copy}</p></div>\n'
        f'<script src="/static/js/jquery-1.{rng.randint(7, 12)}.{rng.randint(0, 3)}.min.js"></script>\n'
        f"</body>\n</html>\n")


# ---------------------------------------------------------------- spam

ZH_SPAM = ["澳门新葡京", "威尼斯人娱乐城", "百家乐", "真人娱乐", "注册送38元", "首存100送100", "时时彩", "六合彩",
           "北京赛车pk10", "老虎机", "电子游戏", "体育投注", "官方网站", "最新网址", "手机版下载", "24小时在线客服",
           "日赚500元", "高薪兼职", "刷单", "代开发票", "办证刻章", "高仿手表", "减肥药", "免费领取", "点击进入",
           "信誉第一", "提款秒到", "稳赚不赔", "内部资料", "一码中特"]
EN_SPAM = ["best online casino", "free spins", "no deposit bonus", "real money slots", "poker bonus code",
           "cheap replica watches", "buy followers", "payday loans", "no credit check", "CLICK HERE",
           "limited time offer", "100% FREE", "work from home", "earn $5000 a week", "weight loss pills",
           "best price guaranteed", "buy now", "discount code", "free iPhone", "crypto signals",
           "guaranteed profit", "VIP access", "online pharmacy", "win big today"]


def spam_page(lang: str, rng: random.Random, filler: list[str]) -> str:
    """Keyword-stuffed gambling/ad text, with a few real sentences copied in to look like content."""
    words = ZH_SPAM if lang == "zh" else EN_SPAM
    sep = "" if lang == "zh" else " "
    brand = rng.choice(["澳门银河", "金沙娱乐", "永利皇宫", "葡京国际"]) if lang == "zh" else \
        rng.choice(["LuckyStar Casino", "MegaWin", "GoldenSpin", "BetKing"])
    lines = ["-".join([brand] + rng.sample(words, 3)) if lang == "zh" else " | ".join([brand] + rng.sample(words, 3))]
    for _ in range(rng.randint(6, 25)):
        r = rng.random()
        if r < 0.45:
            lines.append(("，" if lang == "zh" else ", ").join(rng.choices(words, k=rng.randint(4, 12))))
        elif r < 0.65:
            lines.append(brand + sep + rng.choice(words) + sep + rng.choice(words) + ("！！！" if lang == "zh" else "!!!"))
        elif r < 0.8 and filler:
            lines.append(rng.choice(filler))
        elif r < 0.9:
            lines.append(f"加微信：{rng.choice(['vip', 'kf', 'am'])}{rng.randint(1000, 99999)}　客服QQ：{rng.randint(10**8, 10**10)}"
                         if lang == "zh" else f"Contact us on WhatsApp +{rng.randint(10**10, 10**12)} or visit www.{brand.lower()}{rng.randint(1, 999)}.com")
        else:
            lines.append(lines[rng.randrange(len(lines))])  # spam repeats itself
    if rng.random() < 0.5:  # a keyword cloud at the bottom
        lines.append(" ".join(rng.choices(words, k=rng.randint(20, 60))))
    return "\n".join(lines)


# ---------------------------------------------------------------- damaged text

ZH_RUNS = ["啊", "哈", "！", "。", "顶", "赞", "6", "～", "="]
EN_RUNS = ["!", ".", "a", "=", "-", "*", "?", "lol", "ha"]


def repeated_lines(text: str, rng: random.Random) -> str:
    """A page whose lines repeat: a stuck template, a paragraph pasted many times, a doubled page."""
    lines = [ln for ln in text.split("\n") if ln.strip()] or [text]
    mode = rng.randrange(3)
    if mode == 0:  # a few lines each repeated many times in a row
        out = []
        picks = set(rng.sample(range(len(lines)), min(len(lines), rng.randint(1, 3))))
        for k, ln in enumerate(lines):
            out += [ln] * (rng.randint(8, 25) if k in picks else 1)
        return "\n".join(out)
    if mode == 1:  # the whole text pasted several times
        return "\n".join(lines * rng.randint(3, 6))
    line = rng.choice(lines)  # one line between every paragraph
    out = []
    for ln in lines:
        out += [ln, line]
    return "\n".join(out * 2)


def repeated_chars(text: str, lang: str, rng: random.Random) -> str:
    """Long runs of one character or syllable spliced into a text (forum floods, separators)."""
    runs = ZH_RUNS if lang == "zh" else EN_RUNS
    pieces = text.split("\n")
    budget = max(len(text) // 3, 60)
    for _ in range(rng.randint(2, 6)):
        unit = rng.choice(runs)
        run = unit * max(10, budget // (len(unit) * 3) // rng.randint(1, 2))
        k = rng.randint(0, len(pieces))
        pieces.insert(k, run)
    return "\n".join(pieces)


def near_duplicate(text: str, lang: str, rng: random.Random, rate: float | None = None) -> str:
    """Edit 1-5% of the characters (Chinese) or words (other) of a text, as copies drift."""
    rate = rate if rate is not None else rng.uniform(0.01, 0.05)
    if lang in ("zh", "ja"):
        units = list(text)
        pool = [c for c in units if not c.isspace()] or ["的"]
    else:
        units = re.split(r"(\s+)", text)
        pool = [w for w in units[::2] if w] or ["the"]
    word_idx = [i for i, u in enumerate(units) if u and not u.isspace()]
    n_edits = max(1, round(rate * len(word_idx)))
    for i in sorted(rng.sample(word_idx, min(n_edits, len(word_idx))), reverse=True):
        op = rng.randrange(3)
        if op == 0:
            units[i] = rng.choice(pool)
        elif op == 1:
            units[i] = ""
            if i + 1 < len(units) and units[i + 1] == " ":  # a deleted word takes its space along
                units[i + 1] = ""
        else:
            units[i] = units[i] + ("" if lang in ("zh", "ja") else " ") + rng.choice(pool)
    out = "".join(units)
    if out == text:  # every substitution drew the same unit: drop one instead
        i = rng.choice(word_idx)
        out = "".join(u for k, u in enumerate(re.split(r"(\s+)", text) if lang not in ("zh", "ja") else text)
                      if k != i)
    return out


def to_fullwidth(text: str, fraction: float = 1.0, rng: random.Random | None = None) -> str:
    """ASCII letters, digits and punctuation as their full-width forms (U+FF01..FF5E, U+3000)."""
    def conv(c: str) -> str:
        if "!" <= c <= "~":
            return chr(ord(c) + 0xFEE0)
        return "\u3000" if c == " " else c
    if fraction >= 1.0 or rng is None:
        return "".join(conv(c) for c in text)
    return "\n".join("".join(conv(c) for c in ln) if rng.random() < fraction else ln for ln in text.split("\n"))


CONTROL_CHARS = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)] + \
    ["\u200b", "\u200c", "\u200d", "\ufeff", "\u00ad", "\ufffd", "\u2028", "\u202e"]


def control_chars(text: str, rng: random.Random) -> str:
    """Control characters, zero-width and replacement characters sprinkled in; CR line ends."""
    chars = list(text)
    for _ in range(max(5, len(chars) // rng.randint(30, 120))):
        chars.insert(rng.randint(0, len(chars)), rng.choice(CONTROL_CHARS))
    out = "".join(chars)
    if rng.random() < 0.5:
        out = out.replace("\n", "\r\n")
    return out


def mojibake(text: str, rng: random.Random) -> str:
    """UTF-8 bytes decoded with the wrong codec (GBK or Windows-1252), as broken pages show."""
    data = text.encode("utf-8")
    if rng.random() < 0.5:
        return data.decode("gbk", errors="replace")
    return data.decode("cp1252", errors="replace")


@functools.lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


def to_traditional(text: str) -> str:
    return _s2t().convert(text)


def bilingual(zh: str, en: str, rng: random.Random) -> str:
    """A page mixing two languages paragraph by paragraph (bilingual notes, partial translations)."""
    a = [p for p in zh.split("\n") if p.strip()]
    b = [p for p in en.split("\n") if p.strip()]
    out = []
    for k in range(max(len(a), len(b))):
        if k < len(a):
            out.append(a[k])
        if k < len(b) and rng.random() < 0.8:
            out.append(b[k])
    return "\n".join(out)


ERROR_PAGES_ZH = ["404 页面不存在", "抱歉，您访问的页面不存在或已被删除！", "正在加载中...", "请开启JavaScript后访问本站",
                  "该内容已被删除", "您没有权限访问该页面，请先登录。", "网站维护中，请稍后访问", "暂无评论"]
ERROR_PAGES_EN = ["404 Not Found", "Access Denied", "Loading...", "Please enable JavaScript to view this page.",
                  "This page has been removed.", "Page not found. Return to homepage.", "403 Forbidden",
                  "Under construction", "No comments yet."]


# ---------------------------------------------------------------- pages of each kind

JUNK_BASE_CHARS = 1500  # damaged pages are made from (the start of) a real text this long at most


@dataclass
class Borrowed:
    """Real text that junk pages borrow: titles for "related" links, sentences that spam copies in."""

    zh_titles: list[str]
    en_titles: list[str]
    zh_sentences: list[str]
    en_sentences: list[str]

    @classmethod
    def from_texts(cls, zh_texts: list[str], en_texts: list[str]) -> "Borrowed":
        return cls(
            zh_titles=[title_of(t) for t in zh_texts],
            en_titles=[title_of(t) for t in en_texts],
            zh_sentences=[s for t in zh_texts for s in re.findall(r"[^。！？\n]{8,60}[。！？]", t)],
            en_sentences=[s for t in en_texts for s in re.findall(r"[A-Z][^.!?\n]{30,160}[.!?]", t)])

    def related(self, lang: str, rng: random.Random) -> list[str]:
        titles = self.zh_titles if lang == "zh" else self.en_titles
        return rng.sample(titles, min(len(titles), rng.randint(3, 6)))


@dataclass
class Page:
    text: str
    lang: str
    kind: str
    origin: str
    url: str | None


def title_of(text: str) -> str:
    return text.lstrip().split("\n", 1)[0][:80]


JUNK_KINDS = ("html_boilerplate", "html_markup", "spam", "repeated", "repeated_chars", "control_chars",
              "mojibake", "fullwidth", "traditional", "short")


def applies(kind: str, lang: str) -> bool:
    """Whether junk of `kind` can be made from text in `lang` (ASCII text has no mojibake, only
    Chinese has a traditional script)."""
    if kind == "traditional":
        return lang == "zh"
    if kind == "mojibake":
        return lang not in ("en", "code")
    return True


def make_page(kind: str, lang: str, base_text: str | None, origin: str, rng: random.Random,
              borrowed: Borrowed) -> Page:
    """A crawled page of `kind` (one of JUNK_KINDS) made from a real text (`None` for spam).

    `lang` is "zh" or another language (whose pages get English chrome)."""
    domain, site = site_for(lang, rng)
    url: str | None = page_url(domain, rng, lang)
    chrome_lang = "zh" if lang == "zh" else "en"
    if kind == "spam":
        sents = borrowed.zh_sentences if chrome_lang == "zh" else borrowed.en_sentences
        return Page(spam_page(chrome_lang, rng, sents), chrome_lang, kind, "corpus_junk.spam_page",
                    spam_url(rng) if rng.random() < 0.8 else None)
    assert base_text is not None, kind
    title = title_of(base_text)
    if kind == "html_boilerplate":
        text = boilerplate_page(base_text, title, chrome_lang, rng, borrowed.related(chrome_lang, rng), domain, site)
    elif kind == "html_markup":
        text = html_page(base_text, title, chrome_lang, rng, borrowed.related(chrome_lang, rng), domain, site)
    elif kind == "traditional":
        text = to_traditional(clip(base_text, 3 * JUNK_BASE_CHARS))
        url = url.replace("://www.", "://tw.", 1) if rng.random() < 0.7 else None
    elif kind == "short":
        if rng.random() < 0.75:
            text = title[: rng.randint(4, 30)]
        else:
            text = rng.choice(ERROR_PAGES_ZH if lang == "zh" else ERROR_PAGES_EN)
    else:
        base = clip(base_text, JUNK_BASE_CHARS)
        if kind == "repeated":
            text = repeated_lines(base, rng)
        elif kind == "repeated_chars":
            text = repeated_chars(base, chrome_lang, rng)
        elif kind == "control_chars":
            text = control_chars(base, rng)
        elif kind == "mojibake":
            text = mojibake(base, rng)
        elif kind == "fullwidth":
            text = to_fullwidth(base, 0.7 if lang == "zh" else 1.0, rng)
        else:
            raise ValueError(f"unknown junk kind: {kind}")
        if rng.random() < 0.2:
            url = None
    return Page(text, lang, kind, origin, url)


def bilingual_kernel_page(zh_text: str, rng: random.Random) -> str | None:
    """A kernel doc translation interleaved with its English original ("Original: Documentation/...")."""
    m = re.search(r"Original:\s*(Documentation/\S+\.rst)", zh_text)
    en_text = linux_doc_text(m.group(1)) if m else ""
    return bilingual(zh_text, en_text[: 2 * len(zh_text)], rng) if en_text else None
