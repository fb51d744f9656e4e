"""The whole pipeline (clean -> dedup -> decontaminate -> score -> pack; no mix/train) as one
`ziya run` on scale corpora of several sizes: per stage input MB, wall and CPU seconds, MB/s per
core, peak RSS of the driver, the JVM and the Python workers, spill; dedup recall of the planted
copies; and how per-core rates change with size.

    .venv/bin/python benchmarks/bench_pipeline.py --sizes 0.1 1 10 [--work /tmp/bench_pipeline] [--json-out F]
    .venv/bin/python benchmarks/bench_pipeline.py --sizes 0.01            # smoke, ~1-2 min on 2 cores

For each size S (GiB, as scripts/build_scale_corpus.py counts --size-gb):
  corpus   <work>/corpus-S: build_scale_corpus.py --size-gb S --seed SEED, reused when its
           _manifest.json has the same seed and requested size and its files are all there.
  run      <work>/run-S/pipeline.toml (output <work>/run-S/out, made afresh): clean (defaults),
           dedup (defaults), decontaminate against data/benchmarks/demo_eval.jsonl (question,
           passage, answer), score (models/kenlm), pack (defaults); `.venv/bin/ziya run FILE
           --master local[CORES]` as one subprocess, with spark.local.dir and the event log under
           <work>/run-S.
Measures (one Spark session for every stage, as `ziya run` runs them):
  windows  a thread reads the child's stderr line by line and timestamps each
           `[run] <name>: <stage> -> <out>` line (the step starts); the first line of the funnel
           on stdout ends the last step. Stage i's window runs from its line to the next one;
           "startup" (imports, pipeline check) comes before the first and "shutdown" (funnel,
           Spark stop) after the last. The Spark session (JVM launch) starts lazily inside
           clean's window. wall_s is the step's own `seconds` from <out>/_pipeline/<step>.json.
  CPU      StageMeter (a TreeCpu) samples every descendant's CPU every --interval s and at
           every window boundary (the stderr thread takes a sample as it reads the line), by
           kind: the ziya driver, the JVM, the Python workers, other (spark-submit's shell). A
           stage's CPU is the growth of the summed samples across its window; the process's last
           < interval s before it exits is missed there, so the whole-tree total (TreeCpu's kernel
           bound) is reported beside the sum of windows.
  input    clean: the corpus's JSONL bytes (file sizes); every later stage: the previous stage's
           kept/ Parquet bytes (file sizes). text MB: UTF-8 bytes of the text, from the manifest
           for the corpus and, for Parquet, the sum of the text column's byte lengths read one
           row group at a time (exact bytes; clean's stats count characters, not bytes).
           MB = 10^6 bytes; MB/s per core = input MB / CPU s.
  memory   peak RSS per window of the driver, the JVM, the largest Python worker and all Python
           workers together (samples every --interval s).
  spill    Spark's own task metrics from the event log (SparkListenerTaskEnd: Disk / Memory Bytes
           Spilled, Shuffle Bytes Written), given to the window its task finished in; and the
           peak size of spark.local.dir (shuffle files, spill, pyspark temp) in each window.
Dedup recall: each pair of _planted.jsonl (copy id, original id, kind, edit_rate) is looked up
in clean's kept/ (a pair with either side missing did not reach dedup, reported apart), dedup's
kept/ and dedup's duplicates/ (id, cluster_id, phase; cluster_id is the kept document it was
folded into). Found: copy and original end in the same cluster and one of them was removed
(either one: the representative is the smallest id). Only the id columns are read, filtered
to the planted ids, so memory follows the number of planted pairs, not the corpus.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "benchmarks"))

import psutil  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from measure import TreeCpu, table  # noqa: E402

ZIYA = os.path.join(REPO, ".venv", "bin", "ziya")
PYTHON = os.path.join(REPO, ".venv", "bin", "python")
BUILDER = os.path.join(REPO, "scripts", "build_scale_corpus.py")
BENCHMARK = os.path.join(REPO, "data", "benchmarks", "demo_eval.jsonl")
STEPS = ("clean", "dedup", "decontaminate", "score", "pack")
KINDS = ("driver", "jvm", "python_worker", "other")
GiB, MiB = 1 << 30, 1 << 20
RUN_LINE = re.compile(r"^\[run\] (\S+): (\S+) -> ")


# ------------------------------------------------------------------ the corpus
def corpus(size_gb: float, work: str, seed: int, workers: int) -> tuple[str, dict, float | None]:
    """(folder, manifest, build seconds or None when reused)."""
    folder = os.path.join(work, f"corpus-{size_gb:g}")
    if _reusable(folder, size_gb, seed):
        return folder, _manifest(folder), None
    start = time.perf_counter()
    subprocess.run([PYTHON, BUILDER, "--size-gb", str(size_gb), "--output", folder, "--seed", str(seed),
                    "--workers", str(workers)], check=True, cwd=REPO)
    return folder, _manifest(folder), time.perf_counter() - start


def _manifest(folder: str) -> dict:
    with open(os.path.join(folder, "_manifest.json")) as f:
        return json.load(f)


def _reusable(folder: str, size_gb: float, seed: int) -> bool:
    try:
        m = _manifest(folder)
    except (OSError, ValueError):
        return False
    if m.get("seed") != seed or m.get("size_bytes_requested") != int(size_gb * GiB):
        return False
    return os.path.exists(os.path.join(folder, "_planted.jsonl")) and all(
        os.path.exists(p := os.path.join(folder, name)) and os.path.getsize(p) == size for name, size, _ in m["files"])


def write_pipeline(path: str, corpus_dir: str, output: str, models: str) -> None:
    q = json.dumps  # a JSON string is a TOML basic string
    decont = f"{{ benchmarks = [{q(BENCHMARK)}], benchmark_fields = [\"question\", \"passage\", \"answer\"] }}"
    with open(path, "w") as f:
        f.write(f"output = {q(output)}\ninputs = [{q(corpus_dir)}]\n\n"
                f"[[stages]]\nstage = \"clean\"\n\n[[stages]]\nstage = \"dedup\"\n\n"
                f"[[stages]]\nstage = \"decontaminate\"\nconfig = {decont}\n\n"
                f"[[stages]]\nstage = \"score\"\nconfig = {{ models = {q(models)} }}\n\n"
                f"[[stages]]\nstage = \"pack\"\n")


# ------------------------------------------------------------------ the meter
def dir_bytes(root: str) -> int:
    total = 0
    for dirpath, _, names in os.walk(root):
        for n in names:
            try:
                total += os.lstat(os.path.join(dirpath, n)).st_size
            except OSError:  # removed while walking
                pass
    return total


class StageMeter(TreeCpu):
    """TreeCpu whose samples are also kept as a timeline: per kind (driver = the ziya process, jvm,
    python_worker, other) the summed CPU so far and the peak RSS, and the size of spark.local.dir.
    A pid's kind is re-read at every sample (the JVM starts as a fork of the driver and a shell).
    `mark(label)` takes a sample at once and remembers where in the timeline it fell."""

    def __init__(self, interval: float, local_dir: str):
        super().__init__(interval)
        self.local_dir, self.driver = local_dir, None
        self.lock = threading.Lock()
        self.cpu: dict[int, tuple[str, float]] = {}  # pid -> (kind, CPU s at its last sample)
        self.timeline: list[dict] = []
        self.marks: list[tuple[str, float, int]] = []  # (label, perf_counter, timeline index)

    def sample(self) -> None:
        with self.lock:
            rss = dict.fromkeys((*KINDS, "python_workers_sum"), 0)
            for p in psutil.Process().children(recursive=True):
                try:
                    name, mem, t = p.name(), p.memory_info().rss, p.cpu_times()
                except psutil.Error:
                    continue
                kind = ("driver" if p.pid == self.driver else "jvm" if "java" in name
                        else "python_worker" if "python" in name else "other")
                self.seen[p.pid] = t.user + t.system  # TreeCpu's sampled bound
                self.cpu[p.pid] = (kind, t.user + t.system - self.baseline.get(p.pid, 0.0))
                rss[kind] = max(rss[kind], mem)
                if kind == "python_worker":
                    rss["python_workers_sum"] += mem
            cpu = dict.fromkeys(KINDS, 0.0)
            for kind, c in self.cpu.values():
                cpu[kind] += c
            self.timeline.append({"t": time.perf_counter(), "cpu": cpu, "rss": rss,
                                  "local_dir": dir_bytes(self.local_dir)})

    def mark(self, label: str) -> None:
        self.sample()
        with self.lock:
            self.marks.append((label, self.timeline[-1]["t"], len(self.timeline) - 1))


def run_pipeline(toml: str, run_dir: str, cores: int, interval: float) -> dict:
    """`ziya run toml` under StageMeter; the windows, the whole-tree CPU and the event log's folder."""
    local_dir, events = os.path.join(run_dir, "spark-local"), os.path.join(run_dir, "eventlog")
    os.makedirs(local_dir)
    os.makedirs(events)
    cmd = [ZIYA, "run", toml, "--master", f"local[{cores}]", "--conf", "spark.ui.showConsoleProgress=false",
           "--conf", f"spark.local.dir={local_dir}", "--conf", "spark.eventLog.enabled=true",
           "--conf", f"spark.eventLog.dir=file://{events}", "--conf", "spark.eventLog.compress=false"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # the funnel's first line arrives when printed
    env.pop("SPARK_LOCAL_DIRS", None)  # it would override spark.local.dir
    epoch = time.time() - time.perf_counter()  # event-log times are epoch ms
    with StageMeter(interval, local_dir) as meter:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, env=env)
        meter.driver = proc.pid
        meter.mark("start")

        def read(stream, log: str, on_line) -> None:
            with open(log, "w") as out:
                for raw in stream:
                    line = raw.decode("utf-8", "replace")
                    on_line(line)
                    out.write(line)

        def on_stderr(line: str) -> None:
            if m := RUN_LINE.match(line):
                meter.mark(f"step:{m.group(1)}")

        def on_stdout(line: str) -> None:
            if line.startswith("step ") and not any(label == "funnel" for label, *_ in meter.marks):
                meter.mark("funnel")

        readers = [threading.Thread(target=read, args=(proc.stderr, os.path.join(run_dir, "ziya.stderr.log"), on_stderr)),
                   threading.Thread(target=read, args=(proc.stdout, os.path.join(run_dir, "ziya.stdout.log"), on_stdout))]
        for r in readers:
            r.start()
        rc = proc.wait()
        for r in readers:
            r.join()
        meter.mark("exit")
        wall = time.perf_counter() - start
    if rc:
        tail = open(os.path.join(run_dir, "ziya.stderr.log"), errors="replace").read()[-4000:]
        sys.exit(f"ziya run {toml} failed ({rc}); {run_dir}/ziya.stderr.log ends:\n{tail}")
    return {"meter": meter, "wall_s": wall, "tree_cpu_s": meter.total(), "epoch": epoch, "events": events,
            "sampler_cpu_s": meter.own_cpu}


def windows(meter: StageMeter) -> list[dict]:
    """One per span between marks: startup, each step, shutdown; with their timeline indexes and times."""
    marks = sorted(meter.marks, key=lambda m: m[1])
    names = {"start": "startup", "funnel": "shutdown"}
    out = []
    for (label, t0, i0), (_, t1, i1) in zip(marks, marks[1:]):
        out.append({"name": names.get(label, label.removeprefix("step:")), "i0": i0, "i1": i1, "t0": t0, "t1": t1})
    return out


def window_stats(meter: StageMeter, w: dict) -> dict:
    rows = meter.timeline[w["i0"]:w["i1"] + 1]
    first, last = rows[0], rows[-1]
    cpu = {k: last["cpu"][k] - first["cpu"][k] for k in KINDS}
    peak = {k: max(r["rss"][k] for r in rows) for k in (*KINDS, "python_workers_sum")}
    return {"window_s": round(w["t1"] - w["t0"], 2), "cpu_s": round(sum(cpu.values()), 2),
            "cpu_by_kind": {k: round(v, 2) for k, v in cpu.items()},
            "peak_rss_mib": {k: round(v / MiB, 1) for k, v in peak.items()},
            "local_dir_start_mb": round(first["local_dir"] / 1e6, 1),
            "local_dir_peak_mb": round(max(r["local_dir"] for r in rows) / 1e6, 1)}


def event_files(events: str) -> list[str]:
    """The event log: one file per application, or (Spark 4's rolling default) eventlog_v2_*/events_N_*."""
    return sorted(p for p in glob.glob(os.path.join(events, "**", "*"), recursive=True)
                  if os.path.isfile(p) and not os.path.basename(p).startswith((".", "appstatus")))


def spill_by_window(events: str, epoch: float, wins: list[dict]) -> dict[str, dict]:
    """Task metrics from the event log, summed per window by each task's finish time (MB)."""
    keys = {"disk_spill_mb": ("Disk Bytes Spilled",), "memory_spill_mb": ("Memory Bytes Spilled",),
            "shuffle_write_mb": ("Shuffle Write Metrics", "Shuffle Bytes Written")}
    out = {w["name"]: dict.fromkeys(keys, 0.0) for w in wins}
    out["unattributed"] = dict.fromkeys(keys, 0.0)
    for path in event_files(events):
        with open(path, "rb") as f:
            for line in f:
                if b'"SparkListenerTaskEnd"' not in line[:64]:
                    continue
                ev = json.loads(line)
                finish = ev.get("Task Info", {}).get("Finish Time", 0) / 1000 - epoch
                row = next((out[w["name"]] for w in wins if w["t0"] <= finish < w["t1"]), out["unattributed"])
                for key, where in keys.items():
                    value = ev.get("Task Metrics") or {}
                    for part in where:
                        value = value.get(part, 0) if isinstance(value, dict) else 0
                    row[key] += value / 1e6
    return {name: {k: round(v, 2) for k, v in row.items()} for name, row in out.items()}


# ------------------------------------------------------------------ sizes of the stages' inputs
def parquet_files(folder: str) -> list[str]:
    return sorted(glob.glob(os.path.join(folder, "**", "*.parquet"), recursive=True))


def parquet_input(folder: str) -> dict:
    """File bytes, rows and the text column's UTF-8 bytes, one row group at a time."""
    size = rows = text = 0
    for path in parquet_files(folder):
        size += os.path.getsize(path)
        f = pq.ParquetFile(path)
        rows += f.metadata.num_rows
        for g in range(f.num_row_groups):
            col = f.read_row_group(g, columns=["text"]).column(0)
            text += pc.sum(pc.binary_length(col)).as_py() or 0
    return {"input_mb": round(size / 1e6, 2), "text_mb": round(text / 1e6, 2), "rows": rows}


def stage_inputs(corpus_dir: str, manifest: dict, out: str) -> dict[str, dict]:
    inputs = {"clean": {"input_mb": round(sum(f[1] for f in manifest["files"]) / 1e6, 2),
                        "text_mb": round(sum(manifest["lang_text_bytes"].values()) / 1e6, 2),
                        "rows": manifest["docs"]}}
    for before, step in zip(STEPS, STEPS[1:]):
        inputs[step] = parquet_input(os.path.join(out, before, "kept"))
    return inputs


# ------------------------------------------------------------------ dedup recall
def ids_among(folder: str, wanted: pa.Array, columns: list[str]) -> list[dict]:
    """Rows (of `columns`, the first an id) of the Parquet under `folder` whose id is in `wanted`."""
    found = []
    for path in parquet_files(folder):
        for batch in pq.ParquetFile(path).iter_batches(columns=columns, batch_size=65536):
            hit = batch.filter(pc.is_in(batch.column(0), value_set=wanted))
            found += hit.to_pylist()
    return found


def bucket(pair: dict) -> str:
    if pair["kind"] == "exact_duplicate":
        return "exact"
    lo = min(max(int(pair["edit_rate"] * 100), 1), 4)  # NEAR_EDIT_RATE is 1-5% of characters or words
    return f"near {lo}-{lo + 1}%"


def dedup_recall(corpus_dir: str, out: str) -> dict:
    with open(os.path.join(corpus_dir, "_planted.jsonl")) as f:
        pairs = [json.loads(line) for line in f]
    wanted = pa.array(sorted({p["id"] for p in pairs} | {p["dup_of"] for p in pairs}), pa.string())
    reached = {r["id"] for r in ids_among(os.path.join(out, "clean", "kept"), wanted, ["id"])}
    kept = {r["id"] for r in ids_among(os.path.join(out, "dedup", "kept"), wanted, ["id"])}
    folded = {r["id"]: r for r in ids_among(os.path.join(out, "dedup", "duplicates"), wanted,
                                            ["id", "cluster_id", "phase"])}
    rows: dict[str, dict] = {}
    for p in pairs:
        c, o = p["id"], p["dup_of"]
        r = rows.setdefault(bucket(p), {"pairs": 0, "not_reaching_dedup": 0, "copy_dropped_by_clean": 0,
                                        "original_dropped_by_clean": 0, "reached": 0, "found": 0,
                                        "original_removed": 0, "both_kept": 0, "other_cluster": 0, "by_phase": {}})
        r["pairs"] += 1
        if c not in reached or o not in reached:
            r["not_reaching_dedup"] += 1
            r["copy_dropped_by_clean"] += c not in reached
            r["original_dropped_by_clean"] += o not in reached
            continue
        r["reached"] += 1
        if c in kept and o in kept:
            r["both_kept"] += 1
            continue

        def cluster(x):
            return x if x in kept else folded.get(x, {}).get("cluster_id")

        if cluster(c) != cluster(o):
            r["other_cluster"] += 1
            continue
        r["found"] += 1
        r["original_removed"] += c in kept
        phase = folded[o if c in kept else c]["phase"]
        r["by_phase"][phase] = r["by_phase"].get(phase, 0) + 1
    order = sorted(rows, key=lambda k: (k != "exact", k))
    out_rows = {k: {**rows[k], "recall": round(rows[k]["found"] / rows[k]["reached"], 4) if rows[k]["reached"]
                    else None} for k in order}
    found, reached_n = sum(r["found"] for r in rows.values()), sum(r["reached"] for r in rows.values())
    return {"by_kind": out_rows, "found": found, "reached": reached_n, "pairs": len(pairs),
            "recall": round(found / reached_n, 4) if reached_n else None}


# ------------------------------------------------------------------ one size
def measure_size(size_gb: float, args) -> dict:
    corpus_dir, manifest, built_s = corpus(size_gb, args.work, args.seed, args.cores)
    print(f"\n== {size_gb:g} GiB: corpus {corpus_dir} ({manifest['bytes'] / 1e6:.1f} MB, {manifest['docs']:,} docs, "
          f"planted {manifest['planted']}; " + (f"built in {built_s:.0f}s)" if built_s else "reused)"), flush=True)
    run_dir = os.path.join(args.work, f"run-{size_gb:g}")
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    out, toml = os.path.join(run_dir, "out"), os.path.join(run_dir, "pipeline.toml")
    write_pipeline(toml, corpus_dir, out, args.models)
    r = run_pipeline(toml, run_dir, args.cores, args.interval)
    meter = r["meter"]
    wins = windows(meter)
    spill = spill_by_window(r["events"], r["epoch"], wins)
    inputs = stage_inputs(corpus_dir, manifest, out)
    stages = []
    for w in wins:
        row = {"stage": w["name"], **window_stats(meter, w), **spill[w["name"]]}
        if w["name"] in STEPS:
            with open(os.path.join(out, "_pipeline", f"{w['name']}.json")) as f:
                row["wall_s"] = json.load(f)["seconds"]
            with open(os.path.join(out, w["name"], "stats.json")) as f:
                st = json.load(f)
            row.update(inputs[w["name"]], docs_in=st["input"], docs_out=st.get("kept", st.get("packed")))
            cpu = max(row["cpu_s"], 1e-9)
            row["mb_per_s_per_core"] = round(row["input_mb"] / cpu, 2)
            row["text_mb_per_s_per_core"] = round(row["text_mb"] / cpu, 2)
            row["cores_busy"] = round(row["cpu_s"] / max(row["window_s"], 1e-9), 2)
        stages.append(row)
    recall = dedup_recall(corpus_dir, out)
    jvm_seen = next((s["t"] - meter.timeline[0]["t"] for s in meter.timeline if s["rss"]["jvm"]), None)
    result = {"size_gb": size_gb, "corpus": {"dir": corpus_dir, "bytes": manifest["bytes"], "docs": manifest["docs"],
                                             "planted": manifest["planted"], "build_s": built_s},
              "wall_s": round(r["wall_s"], 2), "tree_cpu_s": round(r["tree_cpu_s"], 2),
              "windows_cpu_s": round(sum(s["cpu_s"] for s in stages), 2), "sampler_cpu_s": round(r["sampler_cpu_s"], 2),
              "jvm_first_seen_s": round(jvm_seen, 2) if jvm_seen is not None else None,
              "spill_unattributed": spill["unattributed"], "stages": stages, "dedup_recall": recall,
              "peak_rss_mib": {k: max(s["peak_rss_mib"][k] for s in stages) for k in (*KINDS, "python_workers_sum")},
              "run_dir": run_dir}
    if not args.keep_output:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(os.path.join(run_dir, "spark-local"), ignore_errors=True)
    report_size(result)
    return result


# ------------------------------------------------------------------ printing
def report_size(res: dict) -> None:
    size = f"{res['size_gb']:g} GiB"
    rows = [{**s, **{f"cpu_{k}": s["cpu_by_kind"][k] for k in KINDS}} for s in res["stages"]]
    table(f"{size}: throughput per stage (MB = 10^6 bytes of the stage's input files: corpus JSONL for clean, the "
          f"previous stage's kept/ Parquet after; text = UTF-8 bytes of the text; CPU = process tree in the window)",
          rows, ["stage", "docs_in", "docs_out", "input_mb", "text_mb", "wall_s", "window_s", "cpu_s", "cores_busy",
                 "mb_per_s_per_core", "text_mb_per_s_per_core", *(f"cpu_{k}" for k in KINDS)])
    mem = [{"stage": s["stage"], **{f"{k}_mib": s["peak_rss_mib"][k] for k in ("driver", "jvm", "python_worker",
                                                                             "python_workers_sum")},
            **{k: s[k] for k in ("disk_spill_mb", "memory_spill_mb", "shuffle_write_mb", "local_dir_peak_mb")}}
           for s in res["stages"]]
    table(f"{size}: peak RSS per stage (MiB; python_worker = the largest one) and spill (event log task metrics, MB; "
          f"local_dir_peak = spark.local.dir's largest size in the window)", mem, list(mem[0]))
    print(f"  whole run: {res['wall_s']}s wall, {res['tree_cpu_s']}s CPU for the process tree (kernel bound, this "
          f"process included) vs {res['windows_cpu_s']}s summed over windows (sampled; the sampler itself "
          f"{res['sampler_cpu_s']}s); JVM first seen {res['jvm_first_seen_s']}s after start (inside clean's window); "
          f"spill outside any window: {res['spill_unattributed']}")
    rec = res["dedup_recall"]
    rrows = [{"kind": k, **{c: v for c, v in r.items() if c != "by_phase"},
              "by_phase": " ".join(f"{p}:{n}" for p, n in sorted(r["by_phase"].items()))}
             for k, r in rec["by_kind"].items()]
    if rrows:
        table(f"{size}: dedup recall of planted pairs (found = copy and original in one cluster, one removed; "
              f"recall = found / reached dedup; original_removed: the copy was the one kept)", rrows, list(rrows[0]))
    print(f"  overall: {rec['found']}/{rec['reached']} = {rec['recall']} of the {rec['pairs']} planted pairs that "
          f"reached dedup")


def compare(results: list[dict]) -> dict:
    base = results[0]
    by = {r["size_gb"]: {s["stage"]: s for s in r["stages"]} for r in results}
    rows = []
    for step in STEPS:
        row = {"stage": step}
        b = by[base["size_gb"]][step]["mb_per_s_per_core"]
        for r in results:
            v = by[r["size_gb"]][step]["mb_per_s_per_core"]
            row[f"{r['size_gb']:g}G MB/s/core"] = v
            if r is not base:
                row[f"{r['size_gb']:g}G ratio"] = round(v / b, 2) if b else None
        rows.append(row)
    table(f"comparison: MB/s per core per stage at each size, ratio to {base['size_gb']:g} GiB's", rows, list(rows[0]))
    mem = [{"size_gb": r["size_gb"], "input_mb": round(r["corpus"]["bytes"] / 1e6, 1), "wall_s": r["wall_s"],
            "tree_cpu_s": r["tree_cpu_s"], **{f"{k}_peak_mib": r["peak_rss_mib"][k] for k in
                                              ("driver", "jvm", "python_worker", "python_workers_sum")},
            "recall": r["dedup_recall"]["recall"]} for r in results]
    table("comparison: whole run and peak RSS per size (MiB, over all stages)", mem, list(mem[0]))
    return {"mb_per_s_per_core": rows, "runs": mem}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[0.1, 1, 10], help="corpus sizes in GiB")
    ap.add_argument("--work", default="/tmp/bench_pipeline", help="corpora (kept and reused) and runs")
    ap.add_argument("--seed", type=int, default=2024, help="build_scale_corpus.py's seed")
    ap.add_argument("--cores", type=int, default=2, help="local[N], and the corpus builder's workers")
    ap.add_argument("--models", default=os.path.join(REPO, "models", "kenlm"), help="score's reference models")
    ap.add_argument("--interval", type=float, default=0.5, help="seconds between samples of the process tree")
    ap.add_argument("--keep-output", action="store_true", help="keep each run's stage outputs and spark.local.dir")
    ap.add_argument("--json-out", default=None)
    args = ap.parse_args()
    args.models, args.work = os.path.abspath(args.models), os.path.abspath(args.work)
    for what, path in (("KenLM models (score's models; `ziya kenlm train` or scripts/build_reference_models.sh)",
                        args.models), ("the demo benchmark", BENCHMARK), ("ziya", ZIYA)):
        if not os.path.exists(path):
            sys.exit(f"bench_pipeline: {what} not found: {path}")
    os.makedirs(args.work, exist_ok=True)
    t0 = time.perf_counter()
    results = [measure_size(s, args) for s in sorted(args.sizes)]
    summary = compare(results)
    print(f"\ntotal {time.perf_counter() - t0:.0f}s")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"args": vars(args), "sizes": results, "comparison": summary}, f, indent=2)


if __name__ == "__main__":
    main()
