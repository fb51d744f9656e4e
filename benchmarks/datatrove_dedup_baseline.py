"""DataTrove 0.10.1's MinHash dedup, default config, on a folder of JSONL files: its clusters.

    .venv-datatrove/bin/python benchmarks/datatrove_dedup_baseline.py \
        --input benchmarks/data/dedup/docs --output /tmp/dt-dedup --json-out /tmp/dt-dedup.json

Its four steps as DataTrove's minhash example chains them, `MinhashConfig()` defaults throughout
(word 5-grams, 14 buckets x 8 hashes, 64-bit xxhash, seed 1) and the signature step's default
English word tokenizer (one language for every document, as a plain DataTrove job runs):
    1. JsonlReader -> MinhashDedupSignature      one task per input file
    2. MinhashDedupBuckets                       one task per bucket
    3. MinhashDedupCluster(save_cluster_id=True) one task
    4. JsonlReader -> MinhashDedupFilter(load_cluster_ids=True) -> JsonlWriter (kept and removed)
Documents DataTrove put in a cluster carry `minhash_cluster_id`; the others are singletons.
Writes {"clusters": {id: cluster label}, "wall_s", "step_wall_s", "cpu_s", ...}. Offline:
HF_HUB_OFFLINE=1 before any import; nothing here downloads.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import sys
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"

from datatrove.executor import LocalPipelineExecutor  # noqa: E402
from datatrove.pipeline.dedup.minhash import (  # noqa: E402
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupFilter,
    MinhashDedupSignature,
)
from datatrove.pipeline.readers import JsonlReader  # noqa: E402
from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import TreeCpu  # noqa: E402  (benchmarks/measure.py)


def run(input_dir: Path, out: Path, workers: int) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    files = sorted(p.name for p in input_dir.glob("*.jsonl"))
    tasks, cfg = len(files), MinhashConfig()

    def reader():
        return JsonlReader(str(input_dir), glob_pattern="*.jsonl")

    stages = {
        "signatures": ([reader(), MinhashDedupSignature(str(out / "sigs"), config=cfg)], tasks),
        "buckets": ([MinhashDedupBuckets(str(out / "sigs"), str(out / "buckets"), config=cfg)], cfg.num_buckets),
        "cluster": ([MinhashDedupCluster(str(out / "buckets"), str(out / "remove"), config=cfg, save_cluster_id=True)], 1),
        "filter": ([reader(), MinhashDedupFilter(str(out / "remove"), load_cluster_ids=True,
                                                 exclusion_writer=JsonlWriter(str(out / "removed"), compression=None)),
                    JsonlWriter(str(out / "kept"), compression=None)], tasks),
    }
    step_wall = {}
    wall = time.perf_counter()
    with TreeCpu() as cpu:
        for name, (pipeline, n_tasks) in stages.items():
            t = time.perf_counter()
            LocalPipelineExecutor(pipeline, tasks=n_tasks, workers=min(workers, n_tasks),
                                  logging_dir=str(out / "logs" / name), skip_completed=False).run()
            step_wall[name] = round(time.perf_counter() - t, 2)
    wall = time.perf_counter() - wall
    clusters = {}
    for sub in ("kept", "removed"):
        for path in sorted((out / sub).glob("*.jsonl")):
            for line in open(path, encoding="utf-8"):
                doc = json.loads(line)
                cid = doc["metadata"].get("minhash_cluster_id", -1)
                clusters[doc["id"]] = f"dt{cid}" if cid != -1 else doc["id"]
    return {"tool": "datatrove", "version": importlib.metadata.version("datatrove"),
            "config": {"n_grams": cfg.n_grams, "num_buckets": cfg.num_buckets,
                       "hashes_per_bucket": cfg.hashes_per_bucket, "hash": str(cfg.hash_config),
                       "language": "en (MinhashDedupSignature default)", "tasks": tasks, "workers": workers},
            "wall_s": round(wall, 2), "cpu_s": round(cpu.total(), 2), "step_wall_s": step_wall,
            "clusters": clusters}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", required=True, help="folder of .jsonl files (id, text)")
    ap.add_argument("--output", required=True, help="working folder (replaced)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json-out", required=True)
    args = ap.parse_args()
    result = run(Path(args.input), Path(args.output), args.workers)
    Path(args.json_out).write_text(json.dumps(result) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "clusters"}, indent=1))


if __name__ == "__main__":
    main()
