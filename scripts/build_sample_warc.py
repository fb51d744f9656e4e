"""Build data/web/: a small web crawl of real pages, with the known main text of each, for tests,
`make demo` and benchmarks/bench_extract.py.

    .venv/bin/python scripts/build_sample_warc.py                         # data/web/ (the sample)
    .venv/bin/python scripts/build_sample_warc.py --pages 3000 --seed 1 --output crawl.warc.gz

Pages are the sections of the Debian Administrator's Handbook (Debian package debian-handbook,
installed by corpus_sources.ensure_sources when missing) in six locales: each section's paragraphs
are the main text, served inside a site template with the boilerplate extractors must drop (a
navigation bar, a breadcrumb, a sidebar of chapter links, related links, a footer with a cookie
notice). Encodings are those Chinese and other crawls show: GBK declared in the HTTP header only,
in <meta> only, or not at all; GB18030; Big5; Shift-JIS; windows-1252 labelled iso-8859-1 or not
labelled; UTF-8. Around the pages: warcinfo, request, metadata and revisit records, 404s, 301s,
images, PDFs and stylesheets, and (the sample only) a last record cut short. One gzip member per
record, as Common Crawl ships them; WET: one conversion record per page (all of its text, as
Common Crawl's WET files hold). Deterministic: the same package version gives the same bytes.
"""
from __future__ import annotations

import argparse
import json
from html import escape as html_escape
import os
import random
import re
import sys

import lxml.html

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_sources as cs  # noqa: E402
from warc_writer import gzip_member, http_request, http_response, record_id, warc_record  # noqa: E402

OUTPUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "web")
SEED = 2023
# locale -> (language, pages in the sample, [(codec of the bytes, charset label, where it is declared)])
LOCALES = {
    "en-US": ("en", 50, [("utf-8", "utf-8", "header"), ("utf-8", "utf-8", "meta"), ("utf-8", None, "none")]),
    "zh-CN": ("zh", 60, [("gbk", "GBK", "header"), ("gbk", "gb2312", "meta"), ("gb18030", "GB18030", "header"),
                         ("gbk", None, "none"), ("gbk", "gbk", "both"), ("utf-8", "utf-8", "header")]),
    "zh-TW": ("zh", 30, [("big5", "Big5", "header"), ("big5", "big5", "meta"), ("big5", None, "none")]),
    "ja-JP": ("ja", 20, [("shift_jis", "Shift_JIS", "header"), ("shift_jis", None, "none")]),
    "fr-FR": ("fr", 20, [("cp1252", "ISO-8859-1", "header"), ("cp1252", "windows-1252", "meta"), ("cp1252", None, "none")]),
    "de-DE": ("de", 20, [("cp1252", "ISO-8859-1", "header"), ("cp1252", None, "none")]),
}
CHROME = {  # the site's own words around the content, per language
    "en": ("Home", "Download", "News", "Forum", "About", "Related articles", "Contact", "Privacy", "Terms",
           "© 2026 Debian Admin Notes. All rights reserved.", "This site uses cookies to improve your experience. Accept"),
    "zh": ("首页", "下载", "新闻", "论坛", "关于我们", "相关文章", "联系我们", "隐私政策", "使用条款",
           "2026 Debian 管理笔记 版权所有", "本网站使用 Cookie 来改善您的体验。接受"),
    "zh-TW": ("首頁", "下載", "新聞", "論壇", "關於我們", "相關文章", "聯絡我們", "隱私權政策", "使用條款",
              "2026 Debian 管理筆記 版權所有", "本網站使用 Cookie 來改善您的體驗。接受"),
    "ja": ("ホーム", "ダウンロード", "ニュース", "フォーラム", "概要", "関連記事", "お問い合わせ", "プライバシー", "利用規約",
           "2026 Debian 管理ノート 無断転載を禁じます", "このサイトはクッキーを使用しています。同意する"),
    "fr": ("Accueil", "Télécharger", "Actualités", "Forum", "À propos", "Articles liés", "Contact", "Confidentialité",
           "Conditions", "© 2026 Notes Debian. Tous droits réservés.", "Ce site utilise des cookies. Accepter"),
    "de": ("Startseite", "Herunterladen", "Neuigkeiten", "Forum", "Über uns", "Verwandte Artikel", "Kontakt",
           "Datenschutz", "Nutzungsbedingungen", "© 2026 Debian-Notizen. Alle Rechte vorbehalten.",
           "Diese Website verwendet Cookies. Akzeptieren"),
}
MIN_PARAGRAPH = {"zh": 25, "ja": 25}  # characters; other languages 60
_SPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def sections(locale: str, lang: str) -> list[dict]:
    """The handbook's sections of one locale with at least 3 paragraphs in that language (at most 12)."""
    root = os.path.join(cs.HANDBOOK_ROOT, locale)
    found = []
    for name in sorted(os.listdir(root)):
        if not name.endswith(".html"):
            continue
        tree = lxml.html.fromstring(open(os.path.join(root, name), "rb").read())
        title = squash(" ".join(tree.xpath("//title/text()"))) or name
        # Publican writes the handbook's paragraphs as <div class="para"> (<p> holds titles and captions)
        paragraphs = [squash(p.text_content()) for p in tree.xpath("//div[@class='para']")]
        paragraphs = [p for p in paragraphs if len(p) >= MIN_PARAGRAPH.get(lang, 60)
                      and (lang == "en" or cs.english_fraction(p) < 0.5)]
        if len(paragraphs) >= 3:
            found.append({"name": name, "title": title, "main": list(dict.fromkeys(paragraphs))[:12]})
    return found


def render(section: dict, chrome: str, others: list[str], template: int, meta_label: str | None) -> tuple[str, list[str]]:
    """(the page's HTML, its boilerplate lines)."""
    home, download, news, forum, about, related, contact, privacy, terms, copyright, cookies = CHROME[chrome]
    lang = chrome.split("-")[0]
    nav = [home, download, news, forum, about]
    links = others[:8]
    head = f'<meta charset="{meta_label}">' if meta_label else ""
    esc = html_escape
    li = lambda items: "".join(f'<li><a href="/{i}">{esc(t)}</a></li>' for i, t in enumerate(items))  # noqa: E731
    main = "".join(f"<p>{esc(p)}</p>" for p in section["main"])
    article = f'<article class="post"><h1>{esc(section["title"])}</h1>{main}</article>'
    sidebar = f'<aside class="sidebar"><h3>{esc(related)}</h3><ul>{li(links)}</ul></aside>'
    footer = (f'<footer><p>{esc(copyright)}</p><p><a href="/contact">{esc(contact)}</a> | '
              f'<a href="/privacy">{esc(privacy)}</a> | <a href="/terms">{esc(terms)}</a></p>'
              f'<div class="cookie-banner">{esc(cookies)}</div></footer>')
    top = f'<header><div class="logo">Debian Admin Notes</div><nav><ul>{li(nav)}</ul></nav></header>'
    body = (top + f'<div class="wrap">{sidebar}<main>{article}</main></div>' + footer if template == 0 else
            top + f'<div id="content">{article}</div>{sidebar}' + footer if template == 1 else
            top + f'<table><tr><td class="menu">{sidebar}</td><td>{article}</td></tr></table>' + footer)
    page = (f'<!DOCTYPE html><html lang="{lang}"><head>{head}<title>{esc(section["title"])}</title>'
            '<link rel="stylesheet" href="/style.css"></head><body>' + body + "</body></html>")
    return page, [*nav, related, *links, copyright, contact, privacy, terms, cookies]


def encodable(section: dict, codec: str, chrome: str) -> bool:
    try:
        "\n".join([section["title"], *section["main"], *CHROME[chrome]]).encode(codec)
        return True
    except UnicodeEncodeError:
        return False


def pages(rng: random.Random, counts: dict[str, int]) -> list[dict]:
    """The pages of a crawl: `counts[locale]` per locale, cycling through its sections and encodings."""
    out = []
    for locale, (lang, _, encodings) in LOCALES.items():
        chrome = locale if locale in CHROME else lang
        pool = sections(locale, lang)
        titles = [s["title"] for s in pool]
        for i in range(counts[locale]):
            codec, label, declared = encodings[i % len(encodings)]
            # the next section whose text the page's encoding can hold (GBK has no "©", Big5 no simplified)
            section = next((s for s in pool[i % len(pool):] + pool if encodable(s, codec, chrome)), None)
            if section is None:
                continue
            others = rng.sample([t for t in titles if t != section["title"]], min(8, len(titles) - 1))
            html, boilerplate = render(section, chrome, others, i % 3, label if declared in ("meta", "both") else None)
            suffix = "" if i < len(pool) else f"-{i // len(pool)}"
            out.append({"url": f"https://{lang}.debian-notes.example/{locale}/{section['name'][:-5]}{suffix}.html",
                        "lang": lang, "locale": locale, "encoding": codec, "declared": declared,
                        "header_charset": label if declared in ("header", "both") else None,
                        "body": html.encode(codec), "main": [section["title"], *section["main"]],
                        "boilerplate": boilerplate, "text": "\n".join([section["title"], *boilerplate[:5],
                                                                        *section["main"], *boilerplate[-4:]])})
    rng.shuffle(out)
    return out


def crawl_records(rng: random.Random, page_list: list[dict], cut_last: bool) -> tuple[list[bytes], list[bytes], list[dict]]:
    """(WARC members, WET members, ground truth rows)."""
    warc, wet, truth = [], [], []
    info = b"software: ziya-data scripts/build_sample_warc.py\r\nformat: WARC File Format 1.1\r\n"
    warc.append(gzip_member(warc_record("warcinfo", {}, info, record_id(rng))))
    wet.append(gzip_member(warc_record("warcinfo", {}, info, record_id(rng))))

    def fetch(url: str, status: int, ctype: str, body: bytes, charset: str | None = None, **extra) -> str:
        warc.append(gzip_member(warc_record("request", {"WARC-Target-URI": url}, http_request(url), record_id(rng))))
        rid = record_id(rng)
        payload = http_response(status, ctype, body, charset, headers=extra.pop("http", None))
        warc.append(gzip_member(warc_record("response", {"WARC-Target-URI": url, "WARC-Identified-Payload-Type": ctype,
                                                         **extra}, payload, rid)))
        return rid

    for i, page in enumerate(page_list):
        rid = fetch(page["url"], 200, "text/html", page["body"], page["header_charset"])
        truth.append({"record_id": rid, **{k: page[k] for k in ("url", "lang", "locale", "encoding", "declared",
                                                                  "main", "boilerplate")}})
        wet.append(gzip_member(warc_record("conversion", {"WARC-Target-URI": page["url"], "WARC-Refers-To": rid},
                                           page["text"].encode("utf-8"), record_id(rng))))
        if i % 10 == 3:
            warc.append(gzip_member(warc_record("metadata", {"WARC-Target-URI": page["url"], "WARC-Concurrent-To": rid},
                                                b"fetchTimeMs: 87\r\n", record_id(rng))))
        if i % 25 == 5:
            site = page["url"].split("/")[2]
            fetch(f"https://{site}/missing-{i}.html", 404, "text/html", b"<html><body><h1>404 Not Found</h1></body></html>")
            fetch(f"http://{site}/old-{i}", 301, "text/html", b"", http={"Location": page["url"]})
            fetch(f"https://{site}/logo-{i}.png", 200, "image/png", b"\x89PNG\r\n\x1a\n" + rng.randbytes(300))
        if i % 40 == 7:
            site = page["url"].split("/")[2]
            fetch(f"https://{site}/handbook-{i}.pdf", 200, "application/pdf", b"%PDF-1.4\n" + rng.randbytes(500))
            fetch(f"https://{site}/style-{i}.css", 200, "text/css", b"body { font-family: sans-serif; }")
            warc.append(gzip_member(warc_record("revisit", {"WARC-Target-URI": page["url"], "WARC-Refers-To": rid,
                                                            "WARC-Profile": "http://netpreserve.org/warc/1.1/revisit/"
                                                                            "identical-payload-digest"},
                                                http_response(200, "text/html", b""), record_id(rng))))
    if cut_last:  # a download cut short: the last response's member ends 60% of the way in
        last = page_list[0]
        member = gzip_member(warc_record("response", {"WARC-Target-URI": last["url"] + "?print=1"},
                                         http_response(200, "text/html", last["body"], last["header_charset"]),
                                         record_id(rng)))
        warc.append(member[: len(member) * 6 // 10])
    return warc, wet, truth


def write(path: str, members: list[bytes]) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"".join(members))


def build_sample(folder: str) -> None:
    rng = random.Random(SEED)
    warc, wet, truth = crawl_records(rng, pages(rng, {k: v[1] for k, v in LOCALES.items()}), cut_last=True)
    write(os.path.join(folder, "handbook_crawl.warc.gz"), warc)
    write(os.path.join(folder, "handbook_crawl.warc.wet.gz"), wet)
    with open(os.path.join(folder, "handbook_crawl.main.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in truth)
    print(f"{folder}: {len(truth)} pages, {len(warc)} WARC records, "
          f"{os.path.getsize(os.path.join(folder, 'handbook_crawl.warc.gz')) / 1e6:.2f} MB", file=sys.stderr)


def build_warc(path: str, n_pages: int, seed: int = SEED) -> None:
    """A crawl of `n_pages` HTML pages in the sample's proportions (no record cut short)."""
    rng = random.Random(seed)
    total = sum(v[1] for v in LOCALES.values())
    counts = {k: max(1, round(n_pages * v[1] / total)) for k, v in LOCALES.items()}
    warc, _, _ = crawl_records(rng, pages(rng, counts), cut_last=False)
    write(path, warc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=None, help="build one crawl of this many pages at --output")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--output", default=OUTPUT, help="the sample's folder, or the crawl's path with --pages")
    args = ap.parse_args()
    if not os.path.isdir(os.path.join(cs.HANDBOOK_ROOT, "en-US")):
        cs.ensure_sources(os.path.join(os.path.dirname(OUTPUT), "..", "build"))
    if args.pages:
        build_warc(args.output, args.pages, args.seed)
    else:
        build_sample(args.output)


if __name__ == "__main__":
    main()
