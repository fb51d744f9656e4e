"""MinHash signature throughput per core: corpus_tools.minhash vs datasketch, same documents.

    .venv/bin/python benchmarks/bench_minhash.py [--docs 10000] [--update-docs 300] [--json out.json]

Documents: the first `--docs` lines of benchmarks/data/bench/bench-*.jsonl (real text, see its
_manifest.json) that hold at least 2 KB of UTF-8, cut to 2 KB at a character boundary. They are
split by script: "zh" when at least 30% of the characters are CJK, "en" otherwise (mostly
English, some other Latin-script text and code).

Three ways to the same 128-permutation signatures of word/character 3-grams (`ziya dedup`'s
default; --ngram to change):
  ours      MinHasher.signatures(texts), text in, (n, 128) uint32 out, in batches of 1,000 texts,
            with datasketch's default base hash (SHA-1) and with MurmurHash3 (`ziya dedup`'s
            default; equal to datasketch's MinHash(hashfunc=murmur3_32), checked too)
  update    datasketch.MinHash(); m.update(s) for each shingle   (on the first --update-docs)
  bulk      datasketch.MinHash.bulk(list of shingle lists)        (update_batch per document)
Every figure is documents per CPU second of this one process (time.process_time; everything
here runs on one core). datasketch gets its shingles from `corpus_tools.minhash.shingles`; its
figures are given with that shingling counted (text in, as ours) and without it (shingles
precomputed, the most favourable reading for datasketch). The signatures of all three are
checked for bit equality before any timing is printed.
"""
from __future__ import annotations

import argparse
import glob
import json
import os

import datasketch
import numpy as np

from corpus_tools.minhash import MinHasher, shingles
from corpus_tools.text import CJK, classify
from measure import best_cpu_seconds  # benchmarks/measure.py

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "bench")
DOC_BYTES = 2048


def load_docs(limit: int) -> list[str]:
    """The first `limit` documents of the bench set, those >= 2 KB cut to 2 KB."""
    docs, seen = [], 0
    for path in sorted(glob.glob(os.path.join(BENCH, "bench-*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if seen == limit:
                    return docs
                seen += 1
                raw = json.loads(line)["text"].encode("utf-8")
                if len(raw) >= DOC_BYTES:
                    docs.append(raw[:DOC_BYTES].decode("utf-8", "ignore"))
    return docs


def bench(docs: list[str], update_docs: int, num_perm: int, ngram: int) -> dict:
    hasher = MinHasher(num_perm=num_perm, ngram=ngram)
    murmur = MinHasher(num_perm=num_perm, ngram=ngram, hash="murmur3")
    few = docs[:update_docs]

    def ours(h=hasher):
        return np.concatenate([h.signatures(docs[i : i + 1000]) for i in range(0, len(docs), 1000)])

    def update(texts, shingled=None, hashfunc=None):
        out = []
        for i, text in enumerate(texts):
            m = datasketch.MinHash(num_perm=num_perm, **({"hashfunc": hashfunc} if hashfunc else {}))
            for s in shingled[i] if shingled else shingles(text, ngram):
                m.update(s)
            out.append(m.hashvalues)
        return np.array(out)

    def bulk(texts, shingled=None):
        lists = shingled if shingled else [shingles(t, ngram) for t in texts]
        return np.array([m.hashvalues for m in datasketch.MinHash.bulk(lists, num_perm=num_perm)])

    shingled_all = [shingles(t, ngram) for t in docs]
    shingled_few = shingled_all[:update_docs]
    ref = ours()
    assert np.array_equal(ref, bulk(docs)), "signatures differ from datasketch MinHash.bulk"
    assert np.array_equal(ref[: len(few)], update(few)), "signatures differ from datasketch MinHash.update"
    assert np.array_equal(ours(murmur)[: len(few)], update(few, hashfunc=murmur.hashfunc)), \
        "murmur3 signatures differ from datasketch MinHash(hashfunc=murmur3_32)"

    n, k = len(docs), len(few)
    rates = {
        "ours": n / best_cpu_seconds(ours),
        "ours_murmur3": n / best_cpu_seconds(lambda: ours(murmur)),
        "datasketch_update": k / best_cpu_seconds(lambda: update(few), repeat=1),
        "datasketch_update_preshingled": k / best_cpu_seconds(lambda: update(few, shingled_few), repeat=1),
        "datasketch_bulk": n / best_cpu_seconds(lambda: bulk(docs), repeat=1),
        "datasketch_bulk_preshingled": n / best_cpu_seconds(lambda: bulk(docs, shingled_all), repeat=1),
        "shingles_only": n / best_cpu_seconds(lambda: [shingles(t, ngram) for t in docs], repeat=1),
    }
    return {
        "docs": n,
        "update_docs": k,
        "mean_shingles": float(np.mean([len(s) for s in shingled_all])),
        "docs_per_s": {key: round(v) for key, v in rates.items()},
        "ours_vs_update": round(rates["ours"] / rates["datasketch_update"], 1),
        "murmur3_vs_bulk": round(rates["ours_murmur3"] / rates["datasketch_bulk"], 2),
        "ours_vs_bulk": round(rates["ours"] / rates["datasketch_bulk"], 2),
        "ours_vs_bulk_preshingled": round(rates["ours"] / rates["datasketch_bulk_preshingled"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=10_000, help="bench lines to read (default 10000)")
    parser.add_argument("--update-docs", type=int, default=300, help="documents for per-shingle update (slow)")
    parser.add_argument("--num-perm", type=int, default=128)
    parser.add_argument("--ngram", type=int, default=3)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()

    docs = load_docs(args.docs)
    zh = [d for d in docs if np.count_nonzero(classify(d) == CJK) >= 0.3 * len(d)]
    en = [d for d in docs if np.count_nonzero(classify(d) == CJK) < 0.3 * len(d)]
    results = {"machine": {"cpu": os.cpu_count(), "numpy": np.__version__, "datasketch": datasketch.__version__}}
    print(f"{len(docs)} documents of 2 KB from the first {args.docs} bench lines ({len(en)} en, {len(zh)} zh); "
          f"{args.num_perm} permutations, {args.ngram}-grams; docs per CPU second, one core")
    print(f"{'set':<5} {'docs':>5} {'shingles':>8} {'ours':>6} {'murmur3':>7} {'ds.update':>9} {'ds.bulk':>8} "
          f"{'(preshingled: update':>21} {'bulk)':>6} {'ours/update':>11} {'ours/bulk':>9} {'murmur3/bulk':>12}")
    for name, subset in (("all", docs), ("en", en), ("zh", zh)):
        r = bench(subset, args.update_docs, args.num_perm, args.ngram)
        results[name] = r
        d = r["docs_per_s"]
        print(f"{name:<5} {r['docs']:>5} {r['mean_shingles']:>8.0f} {d['ours']:>6} {d['ours_murmur3']:>7} "
              f"{d['datasketch_update']:>9} {d['datasketch_bulk']:>8} {d['datasketch_update_preshingled']:>21} "
              f"{d['datasketch_bulk_preshingled']:>6} {r['ours_vs_update']:>10}x {r['ours_vs_bulk']:>8}x "
              f"{r['murmur3_vs_bulk']:>11}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
