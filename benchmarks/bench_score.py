"""Scoring throughput per core: a bare kenlm loop vs corpus_tools' scorer vs the `ziya score` Spark job,
on the same documents in the same run; peak memory of a Spark Python worker with the models loaded.

    bash scripts/build_reference_models.sh          # models/kenlm/{zh,en} (5-gram) + build/reference
    .venv/bin/python benchmarks/bench_score.py [--mb 8] [--master 'local[1]'] [--repeat 2]

Input: the held-out reference documents (zh news, en documentation), repeated up to --mb.
  bare kenlm        per document: normalize, SentencePiece-encode each line, kenlm.Model.score each
                    line and the joined document: the least any script computing ppl + ppl_para does
                    (the baseline of every ratio)
  ... 1 thread      the same with SentencePiece's batch call on one thread (by default it starts a
                    thread pool per call, here per document): what that setting alone is worth
  kenlm query only  the same kenlm.Model.score calls on text tokenized beforehand (the C++ floor)
  corpus_tools      BatchScorer.score over Arrow batches (what each Spark task runs)
  spark job         pipelines.score.run end to end: read, score, quantile grid, assign, write
Per-core figures divide by CPU seconds (all processes: driver, JVM, Python workers), so they hold
on a loaded machine; wall times are printed too. The CPU of the benchmark's own process-tree
samplers (threads in the driver's process) is measured and left out. --repeat N runs the
in-process loops N times, interleaved, and keeps each one's least CPU (the job runs once).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import psutil
import pyarrow as pa
import pyarrow.parquet as pq

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from benchmarks.measure import Sampler, TreeCpu  # noqa: E402
from corpus_tools.lm.model import LanguageModel, paragraphs  # noqa: E402
from corpus_tools.lm.score import BatchScorer, ScoreConfig  # noqa: E402


def load_corpus(ref: str, mb: float) -> list[dict]:
    docs = []
    for lang in ("zh", "en"):
        with open(os.path.join(ref, f"{lang}.eval.jsonl"), encoding="utf-8") as f:
            docs += [{"text": json.loads(line)["text"], "lang": lang} for line in f if line.strip()]
    out, size, k = [], 0, 0
    while size < mb * 1e6:
        d = docs[k % len(docs)]
        out.append({"id": f"d{k}", "text": d["text"], "lang": d["lang"], "source": "bench"})
        size += len(d["text"].encode("utf-8"))
        k += 1
    return out


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def bare_loop(models: dict, docs: list[dict], threads: int | None = None) -> None:
    for d in docs:
        m = models[d["lang"]]
        lines = paragraphs(d["text"])
        pieces = [" ".join(p) for p in m.tokenizer.encode(lines, out_type=str, num_threads=threads)]
        for p in pieces:
            m.kenlm.score(p, bos=True, eos=True)
        m.kenlm.score(" ".join(pieces), bos=True, eos=True)


def query_only(models: dict, tokenized: list[tuple[str, list[str]]]) -> None:
    for lang, pieces in tokenized:
        score = models[lang].kenlm.score
        for p in pieces:
            score(p, bos=True, eos=True)
        score(" ".join(pieces), bos=True, eos=True)


def corpus_tools_scorer(cfg: ScoreConfig, table: pa.Table) -> None:
    scorer = BatchScorer(cfg)
    for batch in table.to_batches(max_chunksize=cfg.batch_rows):
        scorer.score(batch)


class PeakRss(Sampler):
    """Peak RSS (MB) of the Python workers and of the JVM under this process (CPU per kind of
    process comes from TreeCpu.by_kind)."""

    def __init__(self, interval: float = 0.2):
        super().__init__(interval)
        self.worker = self.jvm = 0.0

    def sample(self):
        for p in psutil.Process().children(recursive=True):
            try:
                rss, cmd = p.memory_info().rss / 1e6, " ".join(p.cmdline())
            except psutil.Error:
                continue
            if "java" in cmd:
                self.jvm = max(self.jvm, rss)
            else:
                self.worker = max(self.worker, rss)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=os.path.join(REPO, "models", "kenlm"))
    ap.add_argument("--ref", default=os.path.join(REPO, "build", "reference"))
    ap.add_argument("--mb", type=float, default=8.0)
    ap.add_argument("--master", default="local[1]", help="Spark master for the job run (default: one core)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run the in-process loops this many times each, interleaved, and keep each one's least CPU")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()

    docs = load_corpus(args.ref, args.mb)
    mb = sum(len(d["text"].encode("utf-8")) for d in docs) / 1e6
    print(f"load average {os.getloadavg()}; {len(docs)} documents, {mb:.1f} MB; models {args.models}")
    models = {lang: LanguageModel(os.path.join(args.models, lang)) for lang in ("zh", "en")}
    for lang, m in models.items():
        print(f"  {lang}: order {m.kenlm.order}, {m.path}")
    cfg = ScoreConfig(models=args.models)
    table = pa.Table.from_pylist(docs)
    tokenized = [(d["lang"], [" ".join(p) for p in models[d["lang"]].tokenizer.encode(paragraphs(d["text"]), out_type=str)])
                 for d in docs]

    loops = {"kenlm query only (pre-tokenized)": lambda: query_only(models, tokenized),
             "bare kenlm loop": lambda: bare_loop(models, docs),
             "bare kenlm loop, tokenizer 1 thread": lambda: bare_loop(models, docs, threads=1),
             "corpus_tools BatchScorer": lambda: corpus_tools_scorer(cfg, table)}
    runs: dict[str, list] = {name: [] for name in loops}
    for _ in range(args.repeat):  # interleaved, so a busy spell on a shared machine hits all of them
        for name, fn in loops.items():
            runs[name].append(timed(fn))
    rows = {name: min(r, key=lambda x: x[1]) for name, r in runs.items()}

    from pipelines import score
    from pipelines.spark import get_session

    work = tempfile.mkdtemp(prefix="bench_score_")
    try:
        os.makedirs(os.path.join(work, "in"))
        pq.write_table(table, os.path.join(work, "in", "part-0.parquet"), row_group_size=2000)
        spark = get_session("bench-score", args.master,
                            {"spark.ui.showConsoleProgress": "false"})
        spark.range(1).count()  # JVM warm-up outside the measurement
        with TreeCpu() as cpu, PeakRss() as rss:
            driver_cpu = time.process_time()
            wall = time.perf_counter()
            stats = score.run(spark, [os.path.join(work, "in")], os.path.join(work, "out"), cfg)
            wall = time.perf_counter() - wall
            driver_cpu = time.process_time() - driver_cpu
        samplers = cpu.own_cpu + rss.own_cpu
        rows["ziya score Spark job (end to end)"] = (wall, cpu.total() - samplers)
        spark.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    base_cpu = rows["bare kenlm loop"][1]
    print(f"\n{'run':38s} {'wall s':>7s} {'cpu s':>7s} {'docs/cpu-s':>11s} {'MB/cpu-s':>9s} {'cpu vs bare':>11s}")
    figures = {}
    for name, (wall, cpu_s) in rows.items():
        figures[name] = {"wall_s": wall, "cpu_s": cpu_s, "docs_per_cpu_s": len(docs) / cpu_s, "mb_per_cpu_s": mb / cpu_s,
                         "cpu_ratio_vs_bare": cpu_s / base_cpu}
        print(f"{name:38s} {wall:7.1f} {cpu_s:7.1f} {len(docs) / cpu_s:11.0f} {mb / cpu_s:9.2f} {cpu_s / base_cpu:10.2f}x")
    kinds = cpu.by_kind()
    by_kind = {"jvm": kinds.get("jvm", 0.0), "python_workers": kinds.get("python", 0.0), "driver": driver_cpu - samplers}
    print(f"\nSpark phases (wall s): {stats['phase_seconds']}")
    print("Spark job CPU s by process: " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(by_kind.items())) +
          f"; Python workers vs bare loop {by_kind.get('python_workers', 0) / base_cpu:.2f}x, "
          f"vs corpus_tools {by_kind.get('python_workers', 0) / rows['corpus_tools BatchScorer'][1]:.2f}x; "
          f"not counted: the benchmark's samplers {samplers:.1f} CPU-s in this process")
    if args.repeat > 1:
        print("in-process loops, CPU s of each run: " +
              "; ".join(f"{name} " + ", ".join(f"{c:.1f}" for _, c in r) for name, r in runs.items()))
    print(f"peak RSS: Python worker {rss.worker:.0f} MB (models loaded), JVM {rss.jvm:.0f} MB; "
          f"model files: " + ", ".join(f"{lang} {os.path.getsize(m.path) / 1e6:.0f} MB" for lang, m in models.items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"docs": len(docs), "mb": mb, "runs": figures, "phase_seconds": stats["phase_seconds"], "spark_cpu_by_process": by_kind,
                       "sampler_cpu_s": samplers, "loop_cpu_s_each_run": {name: [c for _, c in r] for name, r in runs.items()},
                       "peak_rss_mb": {"python_worker": rss.worker, "jvm": rss.jvm}, "load": os.getloadavg()}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
