"""The project's modified Kneser-Ney estimator vs KenLM's lmplz on the same corpus: agreement and time.

    bash scripts/build_lmplz.sh && bash scripts/build_reference_models.sh
    .venv/bin/python benchmarks/bench_kenlm_estimator.py [--lang zh] [--order 5] [--max-lines 0]

The corpus is a language's reference training text tokenized by its SentencePiece model (what
`ziya kenlm train` estimates from). Both ARPA files are compared entry by entry (every n-gram's
log10 probability and backoff) and by per-sentence log10 probabilities of held-out text under
kenlm.Model; prints the max and mean differences and both run times.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from corpus_tools.lm.kneser_ney import NgramCounter, estimate, write_arpa  # noqa: E402
from corpus_tools.lm.model import load_tokenizer, paragraphs, reference_texts  # noqa: E402


def arpa_frame(path: str) -> pd.DataFrame:
    """(ngram, logp, backoff) of every entry of an ARPA file."""
    rows = []
    with open(path, encoding="utf-8") as f:
        in_grams = False
        for line in f:
            if line.startswith("\\") and line.rstrip().endswith("-grams:"):
                in_grams = True
                continue
            if not in_grams or not line.strip() or line.startswith("\\"):
                continue
            parts = line.rstrip("\n").split("\t")
            rows.append((parts[1], float(parts[0]), float(parts[2]) if len(parts) > 2 else 0.0))
    return pd.DataFrame(rows, columns=["ngram", "logp", "backoff"])


def tokenized_lines(lang: str, models: str, ref: str, split: str, max_lines: int) -> list[str]:
    sp = load_tokenizer(os.path.join(models, f"{lang}.sp.model"))
    lines = [p for doc in reference_texts([os.path.join(ref, f"{lang}.{split}.jsonl")]) for p in paragraphs(doc)]
    if max_lines:
        lines = lines[:max_lines]
    return [" ".join(pieces) for pieces in sp.encode(lines, out_type=str)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lang", default="zh")
    ap.add_argument("--order", type=int, default=5)
    ap.add_argument("--models", default=os.path.join(REPO, "models", "kenlm"))
    ap.add_argument("--ref", default=os.path.join(REPO, "build", "reference"))
    ap.add_argument("--lmplz", default=os.path.join(REPO, ".tools", "kenlm", "bin", "lmplz"))
    ap.add_argument("--max-lines", type=int, default=0, help="0: the whole training text")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    if not os.access(args.lmplz, os.X_OK):
        print(f"{args.lmplz} not found: run scripts/build_lmplz.sh first", file=sys.stderr)
        return 2
    import kenlm

    print(f"load average {os.getloadavg()}")
    train = tokenized_lines(args.lang, args.models, args.ref, "train", args.max_lines)
    held_out = tokenized_lines(args.lang, args.models, args.ref, "eval", 2000)
    tokens = sum(len(t.split()) for t in train)
    print(f"{args.lang}: {len(train)} lines, {tokens} tokens, order {args.order}")
    work = tempfile.mkdtemp(prefix="bench_kn_")
    text = os.path.join(work, "train.txt")
    with open(text, "w", encoding="utf-8") as f:
        f.write("\n".join(train) + "\n")

    t = time.perf_counter()
    subprocess.run([args.lmplz, "-o", str(args.order), "-S", "20%", "--text", text, "--arpa", os.path.join(work, "lmplz.arpa")],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lmplz_s = time.perf_counter() - t

    t = time.perf_counter()
    counter = NgramCounter(args.order)
    counter.add(line.split() for line in train)
    write_arpa(estimate(counter), os.path.join(work, "ours.arpa"))
    ours_s = time.perf_counter() - t

    a, b = arpa_frame(os.path.join(work, "lmplz.arpa")), arpa_frame(os.path.join(work, "ours.arpa"))
    both = a.merge(b, on="ngram", how="outer", suffixes=("_lmplz", "_ours"), indicator=True)
    only = both["_merge"].value_counts().to_dict()
    both = both[both["_merge"] == "both"]
    dp = (both.logp_lmplz - both.logp_ours).abs().to_numpy()
    db = (both.backoff_lmplz - both.backoff_ours).abs().to_numpy()
    ma, mb = kenlm.Model(os.path.join(work, "lmplz.arpa")), kenlm.Model(os.path.join(work, "ours.arpa"))
    ds = np.array([abs(ma.score(s, bos=True, eos=True) - mb.score(s, bos=True, eos=True)) for s in held_out])
    figures = {
        "lang": args.lang, "order": args.order, "lines": len(train), "tokens": tokens, "ngrams": len(a),
        "entries_only_in": {"lmplz": int(only.get("left_only", 0)), "ours": int(only.get("right_only", 0))},
        "logp_diff_max": float(dp.max()), "logp_diff_mean": float(dp.mean()),
        "backoff_diff_max": float(db.max()), "backoff_diff_mean": float(db.mean()),
        "heldout_sentence_log10_diff_max": float(ds.max()), "heldout_sentence_log10_diff_mean": float(ds.mean()),
        "heldout_sentences": len(held_out), "lmplz_seconds": lmplz_s, "ours_seconds": ours_s,
    }
    print(f"n-grams {len(a):,} (lmplz) / {len(b):,} (ours); only in one of them: {figures['entries_only_in']}")
    print(f"log10 p    |diff| max {dp.max():.2e} mean {dp.mean():.2e}")
    print(f"backoff    |diff| max {db.max():.2e} mean {db.mean():.2e}")
    print(f"{len(held_out)} held-out sentences, log10 P |diff| max {ds.max():.2e} mean {ds.mean():.2e}")
    print(f"time: lmplz {lmplz_s:.1f}s, ours {ours_s:.1f}s ({ours_s / lmplz_s:.1f}x)")
    for name in ("lmplz.arpa", "ours.arpa", "train.txt"):
        os.remove(os.path.join(work, name))
    os.rmdir(work)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
