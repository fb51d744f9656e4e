"""DataTrove 0.10.1's PIIFormatter (e-mail and IPv4 replacement) on a JSONL file of texts, one process,
for benchmarks/bench_pii.py (which runs it in .venv-datatrove and scores its output).

    .venv-datatrove/bin/python benchmarks/datatrove_pii_baseline.py --input planted.jsonl \
        --output masked.jsonl --json-out figures.json [--all-ips] [--repeat 3]

Times `PIIFormatter.format` over the texts in memory (what its pipeline step runs per document, without
the reader and writer around it); CPU seconds are the least of `--repeat` passes. `--all-ips` sets
only_remove_public_ips=False (its default replaces public addresses only).
"""
from __future__ import annotations

import argparse
import json
import time

from datatrove.pipeline.formatters import PIIFormatter


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--json-out", required=True)
    ap.add_argument("--all-ips", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with open(args.input, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    formatter = PIIFormatter(only_remove_public_ips=not args.all_ips)
    best = float("inf")
    for _ in range(args.repeat):
        start = time.process_time()
        masked = [formatter.format(t) for t in texts]
        best = min(best, time.process_time() - start)
    with open(args.output, "w", encoding="utf-8") as f:
        for t in masked:
            f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    with open(args.json_out, "w") as f:
        json.dump({"cpu_s": best, "docs": len(texts),
                   "email_replacements": list(formatter.emails_replacer.replacements),
                   "ip_replacements": list(formatter.ip_replacer.replacements)}, f)


if __name__ == "__main__":
    main()
