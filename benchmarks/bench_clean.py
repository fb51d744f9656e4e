"""Clean-stage throughput: corpus_tools alone, the Spark job, and DataTrove, in one run.

    .venv/bin/python scripts/build_bench_corpus.py --size-mb 200 --output benchmarks/data/bench
    bash benchmarks/setup_datatrove.sh
    .venv/bin/python benchmarks/bench_clean.py --input benchmarks/data/bench --mb 200 --datatrove-mb 100

Measures, on the same files:
  1. bare:   corpus_tools alone in one process, on the first file (per-core figures);
  2. bare x N: the same over N processes (N = Spark's local[N]) — the reference for Spark's overhead;
  3. spark:  pipelines.clean.run with local[N], output written (Parquet, zstd);
  4. datatrove: benchmarks/datatrove_baseline.py (its own venv) on the first --datatrove-mb.
CPU is summed over each run's process tree (JVM and Python workers included). Prints a table and
ratios, and writes them as JSON (--json-out).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from measure import TreeCpu  # noqa: E402

from corpus_tools.clean import CleanConfig, CleanPipeline, process_split, stats_of  # noqa: E402
from corpus_tools.readers import plan_splits  # noqa: E402
from corpus_tools.stats import Stats  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The closest equivalent of DataTrove's run (fastText LID + Gopher quality/repetition + C4 + FineWeb,
# C4's line removal included): our extra rule families and the per-paragraph language pass off.
# Preprocessing stays on, so this still does more work than DataTrove does.
EQUIVALENT = {
    "langid": {"paragraph_share": False},
    "filters": {name: False for name in (
        "length", "characters", "zh_quality", "keywords", "navigation_lines", "cookie_banner_lines",
        "copyright_lines", "read_more_lines", "share_button_lines", "url_lines", "repeated_char_lines")},
}
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def pick_files(root: str, mb: float) -> list[str]:
    files = sorted(os.path.join(root, f) for f in os.listdir(root) if f.endswith(".jsonl"))
    chosen, total = [], 0
    for f in files:
        if total >= mb * 1e6:
            break
        chosen.append(f)
        total += os.path.getsize(f)
    return chosen


def _run_splits(args) -> Stats:
    splits, cfg_dict = args
    pipeline = CleanPipeline(CleanConfig.from_dict(cfg_dict))
    return stats_of(batch for split in splits for batch in process_split(pipeline, split))


def bare(files: list[str], processes: int, cfg: dict | None = None, name: str = "") -> dict:
    """corpus_tools alone, splits dealt round-robin over `processes` worker processes."""
    splits = plan_splits(files)
    jobs = [(splits[i::processes], cfg or {}) for i in range(processes)]
    with TreeCpu() as cpu:
        start = time.perf_counter()
        if processes == 1:
            stats = _run_splits(jobs[0])
        else:
            with mp.get_context("fork").Pool(processes) as pool:
                stats = sum(pool.map(_run_splits, jobs), Stats())
        wall = time.perf_counter() - start
    return figures(f"bare x{processes}{name}", files, wall, cpu.total(), stats.to_dict())


def spark(files: list[str], cores: int) -> dict:
    from pipelines import clean
    from pipelines.spark import get_session

    session = get_session("bench-clean", f"local[{cores}]", {"spark.ui.showConsoleProgress": "false"})
    out = tempfile.mkdtemp(prefix="bench-clean-")
    try:
        session.range(1).count()  # JVM warm-up is not part of the job
        with TreeCpu() as cpu:
            start = time.perf_counter()
            stats = clean.run(session, files, os.path.join(out, "clean"), CleanConfig())
            wall = time.perf_counter() - start
        result = figures(f"spark local[{cores}]", files, wall, cpu.total(), stats)
        result["phase_seconds"] = stats["phase_seconds"]
        return result
    finally:
        session.stop()
        shutil.rmtree(out, ignore_errors=True)


def datatrove(files: list[str], workers: int) -> dict | None:
    python = os.path.join(REPO, ".venv-datatrove", "bin", "python")
    if not os.path.exists(python):
        print("datatrove: .venv-datatrove missing (run benchmarks/setup_datatrove.sh); skipped", file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory(prefix="bench-dt-") as tmp:
        json_out = os.path.join(tmp, "dt.json")
        subprocess.run([python, os.path.join(REPO, "benchmarks", "datatrove_baseline.py"), "--input", *files,
                        "--workers", str(workers), "--output", os.path.join(tmp, "out"), "--json-out", json_out],
                       check=True)
        with open(json_out) as f:
            return json.load(f)


def figures(name: str, files: list[str], wall: float, cpu: float, stats: dict) -> dict:
    mb = sum(os.path.getsize(f) for f in files) / 1e6
    c = stats["counters"]
    return {
        "run": name, "input_mb": round(mb, 1), "input_docs": stats["input"], "kept_docs": stats["kept"],
        "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
        "docs_per_s": round(stats["input"] / wall, 1), "mb_per_s": round(mb / wall, 3),
        "mb_per_s_per_core": round(mb / cpu, 3),
        "keep_rate_by_lang": keep_rates(c),
    }


def keep_rates(counters: dict) -> dict:
    rates = {}
    for lang in ("zh", "en"):
        kept, rejected = counters.get(f"lang/{lang}/kept", 0), counters.get(f"lang/{lang}/rejected", 0)
        rates[lang] = round(kept / (kept + rejected), 3) if kept + rejected else None
    return rates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", default=os.path.join(REPO, "benchmarks", "data", "bench"))
    ap.add_argument("--mb", type=float, default=200, help="how much of the corpus the bare and Spark runs read")
    ap.add_argument("--datatrove-mb", type=float, default=100, help="how much DataTrove reads (0: skip)")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--json-out", default=os.path.join(REPO, "benchmarks", "results", "clean.json"))
    args = ap.parse_args()

    files = pick_files(args.input, args.mb)
    runs = [bare(files[:1], 1), bare(files, args.cores), spark(files, args.cores),
            bare(files[:1], 1, EQUIVALENT, " (DataTrove-equivalent rules)")]
    if args.datatrove_mb:
        dt = datatrove(pick_files(args.input, args.datatrove_mb), args.cores)
        if dt:
            runs.append({**dt, "run": "datatrove x%d" % args.cores})
    report(runs)
    ours, reference, job, equivalent = runs[:4]
    ratios = {
        "spark_wall_overhead_vs_bare": round(job["wall_s"] / reference["wall_s"] - 1, 3),
        "spark_cpu_overhead_vs_bare": round(job["cpu_s"] / reference["cpu_s"] - 1, 3),
    }
    if len(runs) > 4:
        dt = runs[4]["mb_per_s_per_core"]
        ratios["equivalent_rules_vs_datatrove_per_core"] = round(equivalent["mb_per_s_per_core"] / dt, 1)
        ratios["full_default_bare_vs_datatrove_per_core"] = round(ours["mb_per_s_per_core"] / dt, 1)
        ratios["full_default_spark_vs_datatrove_per_core"] = round(job["mb_per_s_per_core"] / dt, 1)
    print("ratios:", json.dumps(ratios))
    os.makedirs(os.path.dirname(args.json_out), exist_ok=True)
    with open(args.json_out, "w") as f:
        json.dump({"runs": runs, "ratios": ratios}, f, indent=2)
    print(f"written: {args.json_out}")


def report(runs: list[dict]) -> None:
    cols = ["run", "input_mb", "input_docs", "kept_docs", "wall_s", "cpu_s", "docs_per_s", "mb_per_s", "mb_per_s_per_core"]
    print(" | ".join(cols) + " | keep zh | keep en/other")
    for r in runs:
        k = r.get("keep_rate_by_lang", {})
        print(" | ".join(str(r.get(c)) for c in cols) + f" | {k.get('zh')} | {k.get('en', k.get('other'))}")


if __name__ == "__main__":
    main()
