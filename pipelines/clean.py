"""`ziya clean`: preprocessing, language ID and rule filters over a corpus, on Spark.

    ziya clean --input data/sample --output out/clean [--config clean.toml] [--master URL]
    spark-submit ziya/cli.py clean --input ... --output ...   # the same job on a cluster

Phases: plan splits (driver) -> clean (one Spark task per split: corpus_tools reads, processes
and writes that split's kept/rejected/quarantine part files, and returns its Stats) -> add the
Stats up on the driver, check the accounting, commit stats.json and config.json.

Documents never pass through the JVM: Spark schedules splits and collects one small stats row
per split, so the job costs little more than the operations themselves.
"""
from __future__ import annotations

import functools
import json
import sys
import time

from corpus_tools.clean import OUTPUTS, CleanConfig, CleanPipeline, output_schema, write_split
from corpus_tools.readers import Split
from corpus_tools.stats import Stats
from corpus_tools.writers import ensure_schema_file
from pipelines.stage import Run, mark_part_done, part_done, plan_parts, unit_tasks
from pipelines.stages import CLEAN

run = CLEAN.run  # run(spark, inputs, output, cfg, overwrite=False) -> stats


def prepare(cfg: CleanConfig) -> dict | None:
    """Load the URL block lists once on the driver, before Spark starts: a missing file or a bad
    entry fails here, in one line naming it; what they hold (for stats.json)."""
    if not cfg.url_blocklists:
        return None
    from corpus_tools.blocklist import load_blocklists

    start = time.perf_counter()
    summary = load_blocklists(cfg.url_blocklists).summary()
    prefixes = summary["url_prefixes"]
    print(f"[clean] url blocklists: {len(summary['categories'])} categories, {summary['domains']:,} domains, "
          f"{prefixes:,} URL prefix{'' if prefixes == 1 else 'es'} ({time.perf_counter() - start:.1f}s)", file=sys.stderr)
    return summary


@functools.lru_cache(maxsize=2)
def _pipeline(cfg_json: str) -> CleanPipeline:
    """One pipeline (and so one loaded fastText model) per Python worker process."""
    return CleanPipeline(CleanConfig.from_dict(json.loads(cfg_json)))


def clean_part(cfg_json: str, split: Split, out_dir: str, part: str) -> dict:
    """Clean one split into `out_dir` unless an earlier attempt finished it; its stats."""
    stats = part_done(out_dir, part)
    if stats is None:
        stats = write_split(_pipeline(cfg_json), split, out_dir, part).to_dict()
        mark_part_done(out_dir, part, stats)
    return stats


def _clean_split(cfg_json: str, out_dir: str):
    def clean_split(unit: dict):
        import pyarrow as pa

        split = dict(unit)
        part = split.pop("part")
        stats = clean_part(cfg_json, Split(**split), out_dir, part)
        yield pa.RecordBatch.from_pydict({"stats": [json.dumps(stats)]})
    return clean_split


def work(run: Run) -> dict:
    cfg, out, phase = run.cfg, run.out, run.phase
    cfg_json = out.config_json
    with phase("plan"):
        rows = plan_parts(run.listing, cfg.input.split_bytes)
        resumed = run.begin(rows)
    with phase(f"clean {len(rows)} splits"):
        stats_rows = unit_tasks(run.spark, rows, _clean_split(cfg_json, out.tmp), "stats string").collect()
    stats = sum((Stats.from_dict(json.loads(r.stats)) for r in stats_rows), Stats())
    for name in OUTPUTS:
        ensure_schema_file(out.subdir(name), output_schema(name))

    problems = stats.reconcile()
    if problems:
        raise RuntimeError(f"counts do not reconcile: {problems}")
    blocklists = {"url_blocklists": run.prepared} if run.prepared else {}
    return {**stats.to_dict(), "splits": len(rows), "resumed_splits": resumed, **blocklists}


def print_summary(summary: dict, path: str) -> None:
    c = summary["counters"]
    print(f"[clean] {summary['input']} input -> {summary['kept']} kept, {summary['rejected']} rejected, "
          f"{summary['quarantined']} quarantined; output in {path}", file=sys.stderr)
    skipped = sorted(((v, k[8:]) for k, v in c.items() if k.startswith("skipped/")), reverse=True)
    if skipped:
        print(f"[clean]   {summary['skipped']} crawl records skipped (not documents): "
              + ", ".join(f"{k} {v}" for v, k in skipped), file=sys.stderr)
    for lang in ("zh", "en"):
        kept, rejected = c.get(f"lang/{lang}/kept", 0), c.get(f"lang/{lang}/rejected", 0)
        if kept + rejected:
            print(f"[clean]   {lang}: kept {kept}/{kept + rejected} ({kept / (kept + rejected):.0%})", file=sys.stderr)
    blocked = sorted(((v, k[17:]) for k, v in c.items() if k.startswith("drop/url_blocked_")), reverse=True)
    if blocked:
        print(f"[clean]   blocked by URL: {sum(v for v, _ in blocked)} (" + ", ".join(f"{k} {v}" for v, k in blocked)
              + ")", file=sys.stderr)
    masked = sorted(((v, k[4:]) for k, v in c.items() if k.startswith("pii/")), reverse=True)
    if masked:
        print("[clean]   PII masked: " + ", ".join(f"{k} {v}" for v, k in masked), file=sys.stderr)
    reasons = sorted(((v, k[5:]) for k, v in c.items() if k.startswith("drop/")), reverse=True)[:5]
    print("[clean]   top drop reasons: " + ", ".join(f"{k} {v}" for v, k in reasons), file=sys.stderr)
