"""The word cache (corpus_tools.word_cache) against SentencePiece's batched encode: identical ids on
every document of the bench corpus, and encode CPU seconds per language.

    .venv/bin/python benchmarks/bench_word_cache.py [--mb 200] [--batch 1024] [--json benchmarks/results/word_cache.json]

Documents come from benchmarks/data/bench/*.jsonl (scripts/build_bench_corpus.py) in file order, up
to --mb, in batches of --batch documents, as pyarrow arrays (what `ziya pack` hands the encoder).
For each batch: SentencePiece alone (`load_tokenizer(word_cache=False).encode_batch_flat`, one
thread) and the word cache (one encoder kept across batches, so it starts cold and warms up as a
Spark worker's would), each timed with process CPU time; then the ids are compared. Per language
(the corpus's `lang` field: en, zh, rest) the CPU seconds add up over its batches' documents: a
batch is split by language first so each timing covers one language. Exits 1 if any id differs.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpus_tools.tokenizer import load_tokenizer  # noqa: E402


def batches(bench: Path, mb: float, size: int):
    """Lists of (lang, text) of `size` documents, up to `mb` MB of text in all."""
    seen, batch = 0, []
    for path in sorted(bench.glob("bench-*.jsonl")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                doc = json.loads(line)
                batch.append((doc.get("lang") or "", doc["text"]))
                seen += len(line)
                if len(batch) == size:
                    yield batch
                    batch = []
                if seen >= mb * 1e6:
                    if batch:
                        yield batch
                    return
    if batch:
        yield batch


def cpu(fn):
    t = time.process_time()
    out = fn()
    return out, time.process_time() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", default=str(ROOT / "benchmarks/data/bench"))
    ap.add_argument("--mb", type=float, default=200.0)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--json")
    args = ap.parse_args()

    plain, cached = load_tokenizer(word_cache=False), load_tokenizer()
    figures: dict[str, dict[str, float]] = {}
    mismatches = docs = 0
    load_before = os.getloadavg()
    for batch in batches(Path(args.bench), args.mb, args.batch):
        by_lang: dict[str, list[str]] = {}
        for lang, text in batch:
            by_lang.setdefault(lang if lang in ("en", "zh") else "rest", []).append(text)
        for lang, texts in by_lang.items():
            arrow = pa.array(texts, pa.string())
            (want, want_len), t_plain = cpu(lambda: plain.encode_batch_flat(arrow, num_threads=1))
            (got, got_len), t_cache = cpu(lambda: cached.encode_batch_flat(arrow, num_threads=1))
            if not (np.array_equal(want_len, got_len) and np.array_equal(want, got)):
                bad = int(np.sum(want_len != got_len)) or 1
                mismatches += bad
                print(f"MISMATCH in a {lang} batch: {bad} documents", file=sys.stderr)
            f = figures.setdefault(lang, {"documents": 0, "mb": 0.0, "tokens": 0, "sentencepiece_cpu_s": 0.0,
                                          "word_cache_cpu_s": 0.0})
            f["documents"] += len(texts)
            f["mb"] += sum(len(t.encode("utf-8")) for t in texts) / 1e6
            f["tokens"] += int(want_len.sum())
            f["sentencepiece_cpu_s"] += t_plain
            f["word_cache_cpu_s"] += t_cache
            docs += len(texts)
    total = {k: sum(f[k] for f in figures.values()) for k in next(iter(figures.values()))}
    figures["all"] = total
    print(f"load average before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}; {docs:,} documents; "
          f"cache entries at the end {cached.word_cache.entries:,}")
    print(f"{'lang':>5} {'docs':>8} {'MB':>7} {'tokens':>11} {'SP CPU s':>9} {'cache CPU s':>11} {'SP MB/s':>8} "
          f"{'cache MB/s':>10} {'speed-up':>8}")
    for lang, f in figures.items():
        print(f"{lang:>5} {f['documents']:>8,} {f['mb']:>7.1f} {f['tokens']:>11,} {f['sentencepiece_cpu_s']:>9.2f} "
              f"{f['word_cache_cpu_s']:>11.2f} {f['mb'] / f['sentencepiece_cpu_s']:>8.2f} "
              f"{f['mb'] / f['word_cache_cpu_s']:>10.2f} {f['sentencepiece_cpu_s'] / f['word_cache_cpu_s']:>7.2f}x")
    print(f"ids identical on every document: {mismatches == 0} ({mismatches} documents differ)")
    if args.json:
        Path(args.json).write_text(json.dumps({"load_before": load_before, "mismatches": mismatches,
                                               "figures": figures}, indent=2))
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
