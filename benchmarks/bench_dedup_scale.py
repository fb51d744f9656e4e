"""`ziya dedup` end to end at 1x, 2x, 4x, 8x of a base slice of the bench corpus: time, docs/s and
peak memory of the driver and of the Python workers.

    .venv/bin/python benchmarks/bench_dedup_scale.py                # base 12 MB, local[2]
    .venv/bin/python benchmarks/bench_dedup_scale.py --base-mb 6 --scales 1 2 4 --conf spark.sql.shuffle.partitions=200

Input: the first `k * base` MB (10^6 bytes of JSONL lines) of `benchmarks/data/bench/*.jsonl`, in
files of `base` MB, so partitions grow with the input. These are distinct documents with the
corpus's own share of copies (exact_duplicate, near_duplicate, syndicated pages), not one slice
repeated: repeating would turn every extra copy into an exact duplicate and change the work.

Each scale runs in a fresh child process (a new Spark session and JVM), so peaks do not carry
over. The parent samples the child's process tree with psutil every 0.1 s and keeps the peak RSS
of: the driver's Python process (`pipelines.dedup.run`; what a collect to the driver would grow),
the JVM (in local mode the driver and the executors share it; its heap is capped by
spark.driver.memory), and the Python workers (mapInArrow), summed over workers at each sample.
Time: `pipelines.dedup.run` alone (session start reported apart) and the child's whole wall.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_inputs(bench: Path, work: Path, base_mb: float, scales: list[int]) -> dict[int, dict]:
    """Folder per scale with k files of ~base_mb each; returns {k: {dir, bytes, docs}}."""
    lines = (line for path in sorted(bench.glob("bench-*.jsonl")) for line in open(path, "rb"))
    files, current, size = [], [], 0
    budget = int(base_mb * 1e6)
    while len(files) < max(scales):
        line = next(lines, None)
        if line is None:
            sys.exit(f"the bench corpus holds less than {max(scales) * base_mb} MB")
        current.append(line)
        size += len(line)
        if size >= budget:
            files.append(current)
            current, size = [], 0
    out = {}
    for k in scales:
        folder = work / f"{k}x"
        folder.mkdir(parents=True, exist_ok=True)
        for n, chunk in enumerate(files[:k]):
            (folder / f"part-{n:05d}.jsonl").write_bytes(b"".join(chunk))
        out[k] = {"dir": str(folder), "bytes": sum(len(x) for f in files[:k] for x in f),
                  "docs": sum(len(f) for f in files[:k])}
    return out


def role(p: psutil.Process, child_pid: int) -> str | None:
    try:
        if p.pid == child_pid:
            return "driver_python"
        cmd = " ".join(p.cmdline())
        name = p.name()
    except psutil.Error:
        return None
    if "java" in name or "java" in cmd.split(" ")[0]:
        return "jvm"
    if "python" in name or "pyspark" in cmd:
        return "python_workers"
    return "other"


def sample_tree(proc: psutil.Popen, interval: float) -> dict[str, float]:
    """Peak RSS (MB) per role while `proc` runs; python_workers summed over workers per sample."""
    peak = {"driver_python": 0.0, "jvm": 0.0, "python_workers": 0.0, "tree": 0.0}
    max_workers = 0
    while proc.poll() is None:
        now = {"driver_python": 0.0, "jvm": 0.0, "python_workers": 0.0, "other": 0.0}
        workers = 0
        try:
            procs = [proc] + proc.children(recursive=True)
        except psutil.Error:
            break
        for p in procs:
            r = role(p, proc.pid)
            if r is None:
                continue
            try:
                now[r] += p.memory_info().rss / 1e6
            except psutil.Error:
                continue
            workers += r == "python_workers"
        for k in ("driver_python", "jvm", "python_workers"):
            peak[k] = max(peak[k], now[k])
        peak["tree"] = max(peak["tree"], sum(now.values()))
        max_workers = max(max_workers, workers)
        time.sleep(interval)
    return {**{k: round(v, 1) for k, v in peak.items()}, "max_python_worker_processes": max_workers}


def child(input_dir: str, output: str, workers: int, conf: dict, result: str) -> None:
    """One scale in this process: a fresh session, the job, timings as JSON in `result`."""
    from corpus_tools.dedup import DedupConfig
    from pipelines import dedup
    from pipelines.spark import get_session

    t = time.perf_counter()
    spark = get_session("bench-dedup-scale", f"local[{workers}]", conf)
    spark.range(1).count()  # the JVM and its first job are up
    start = time.perf_counter() - t
    t = time.perf_counter()
    stats = dedup.run(spark, [input_dir], output, DedupConfig(), overwrite=True)
    run_s = time.perf_counter() - t
    spark.stop()
    Path(result).write_text(json.dumps({"session_start_s": start, "run_s": run_s, "stats": stats}, default=str))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", default=str(ROOT / "benchmarks/data/bench"))
    ap.add_argument("--base-mb", type=float, default=12.0)
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--workers", type=int, default=2, help="local[N]")
    ap.add_argument("--json-out", default=str(ROOT / "benchmarks/results/dedup_scale.json"))
    ap.add_argument("--conf", nargs="*", default=[],
                    help="Spark settings KEY=VALUE on top of `ziya dedup`'s (pipelines/stages.py)")
    ap.add_argument("--child", nargs=3, metavar=("INPUT", "OUTPUT", "RESULT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    conf = dict(pair.split("=", 1) for pair in args.conf)
    if args.child:
        child(*args.child[:2], args.workers, conf, args.child[2])
        return

    rows = []
    with tempfile.TemporaryDirectory(prefix="dedup-scale-") as tmp:
        work = Path(tmp)
        inputs = make_inputs(Path(args.bench), work / "in", args.base_mb, args.scales)
        print(f"{'scale':>5} {'MB':>6} {'docs':>7} {'run_s':>7} {'docs/s':>7} {'MB/s':>6} {'dups':>6} "
              f"{'drv_py':>7} {'jvm':>7} {'workers':>8} {'tree':>7}  (peak RSS, MB)")
        for k in args.scales:
            result, out = work / f"result-{k}.json", work / f"out-{k}x"
            t = time.perf_counter()
            log = work / f"log-{k}x.txt"
            with open(log, "w") as err:  # a file, not a pipe: Spark's progress bars would fill it
                proc = psutil.Popen([sys.executable, __file__, "--workers", str(args.workers), "--conf", *args.conf, "--child",
                                     inputs[k]["dir"], str(out), str(result)], stdout=subprocess.DEVNULL, stderr=err)
                peak = sample_tree(proc, 0.1)
            if proc.wait():
                sys.exit(f"scale {k}x failed:\n{log.read_text()[-3000:]}")
            wall = time.perf_counter() - t
            r = json.loads(result.read_text())
            stats = r["stats"]
            mb, docs = inputs[k]["bytes"] / 1e6, inputs[k]["docs"]
            row = {"scale": k, "input_mb": round(mb, 2), "docs": docs, "run_s": round(r["run_s"], 2),
                   "session_start_s": round(r["session_start_s"], 2), "process_wall_s": round(wall, 2),
                   "docs_per_s": round(docs / r["run_s"], 1), "mb_per_s": round(mb / r["run_s"], 3),
                   "peak_rss_mb": peak, "stats": stats}
            rows.append(row)
            dups = sum(v for v in (stats.get("duplicates_by_phase") or {}).values()) if isinstance(stats, dict) else None
            print(f"{k:>4}x {mb:6.1f} {docs:7d} {row['run_s']:7.1f} {row['docs_per_s']:7.0f} {row['mb_per_s']:6.2f} "
                  f"{dups if dups is not None else '-':>6} {peak['driver_python']:7.0f} {peak['jvm']:7.0f} "
                  f"{peak['python_workers']:8.0f} {peak['tree']:7.0f}", flush=True)
    base = rows[0]
    for row in rows:
        row["time_vs_linear"] = round(row["run_s"] / (base["run_s"] * row["scale"] / base["scale"]), 3)
    print("time / (base time x scale): " + ", ".join(f"{r['scale']}x {r['time_vs_linear']}" for r in rows))
    report = {"base_mb": args.base_mb, "master": f"local[{args.workers}]", "conf": conf, "cores": os.cpu_count(),
              "config": "DedupConfig() defaults", "rows": rows}
    Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json_out).write_text(json.dumps(report, indent=1, default=str) + "\n")
    print(f"-> {args.json_out}")


if __name__ == "__main__":
    main()
