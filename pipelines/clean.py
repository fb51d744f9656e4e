"""`ziya clean`: preprocessing, language ID and rule filters over a corpus, on Spark.

    ziya clean --input data/sample --output out/clean [--config clean.toml] [--master URL]
    spark-submit pipelines/clean.py --input ... --output ...   # the same job on a cluster

Phases: plan splits (driver) -> annotate (one Spark task per split; corpus_tools does the
work in mapInArrow) -> stats (per-partition Stats, added on the driver) -> write kept/,
rejected/, quarantine/ (Parquet, zstd) -> commit stats.json and config.json.
"""
from __future__ import annotations

import functools
import json
import sys

from corpus_tools.clean import (
    ANNOTATED_SCHEMA,
    KEPT,
    KEPT_COLUMNS,
    QUARANTINE_COLUMNS,
    QUARANTINED,
    REJECTED,
    REJECTED_COLUMNS,
    CleanConfig,
    CleanPipeline,
    config_json,
    process_split,
)
from corpus_tools.readers import Split, plan_splits
from corpus_tools.stats import Stats
from pipelines.stage import Phases, StageOutput

OUTPUTS = [("kept", KEPT, KEPT_COLUMNS), ("rejected", REJECTED, REJECTED_COLUMNS), ("quarantine", QUARANTINED, QUARANTINE_COLUMNS)]


@functools.lru_cache(maxsize=2)
def _pipeline(cfg_json: str) -> CleanPipeline:
    """One pipeline (and so one loaded fastText model) per Python worker process."""
    return CleanPipeline(CleanConfig.from_dict(json.loads(cfg_json)))


def _annotate(cfg_json: str):
    def annotate(split_batches):
        pipeline = _pipeline(cfg_json)
        for batch in split_batches:
            for row in batch.to_pylist():
                yield from process_split(pipeline, Split(**row))
    return annotate


def _partition_stats(batches):
    import pyarrow as pa

    total = Stats()
    for batch in batches:
        total = total + Stats.of_batch(batch)
    yield pa.RecordBatch.from_pydict({"stats": [json.dumps(total.to_dict())]})


def ensure_schema_file(path: str, columns: list[str]) -> None:
    """Spark writes no Parquet file for an empty output; write an empty one that carries the
    schema, so every output directory can be read (by Spark, pandas or the next stage)."""
    import os

    import pyarrow as pa
    import pyarrow.parquet as pq

    if not any(name.endswith(".parquet") for name in os.listdir(path)):
        schema = pa.schema([ANNOTATED_SCHEMA.field(c) for c in columns])
        pq.write_table(schema.empty_table(), os.path.join(path, "part-00000-empty.parquet"), compression="zstd")


def run(spark, inputs: list[str], output: str, cfg: CleanConfig, overwrite: bool = False) -> dict:
    from pyspark import StorageLevel
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    cfg_json = config_json(cfg)
    out = StageOutput(output, cfg_json, overwrite)
    if out.already_done():
        print(f"[clean] {output} already holds this run (same config); nothing to do", file=sys.stderr)
        with open(f"{out.path}/stats.json", encoding="utf-8") as f:
            return json.load(f)
    out.begin()
    phase = Phases("clean")

    with phase("plan"):
        splits = plan_splits(inputs, cfg.input.split_bytes)
        rows = [s.__dict__ for s in splits]
        split_df = spark.createDataFrame(spark.sparkContext.parallelize(rows, len(rows)),
                                         "path string, file_key string, fmt string, compression string, start long, end long")
    with phase(f"annotate {len(splits)} splits"):
        annotated = split_df.mapInArrow(_annotate(cfg_json), from_arrow_schema(ANNOTATED_SCHEMA))
        annotated = annotated.persist(StorageLevel.DISK_ONLY)
        stats_rows = annotated.mapInArrow(_partition_stats, "stats string").collect()
    stats = sum((Stats.from_dict(json.loads(r.stats)) for r in stats_rows), Stats())
    with phase("write"):
        for name, status, columns in OUTPUTS:
            (annotated.filter(F.col("status") == status).select(*columns)
             .write.option("compression", "zstd").parquet(out.subdir(name)))
            ensure_schema_file(out.subdir(name), columns)
    annotated.unpersist()

    problems = stats.reconcile()
    if problems:
        raise RuntimeError(f"counts do not reconcile: {problems}")
    summary = {**stats.to_dict(), "splits": len(splits), "inputs": inputs, "phase_seconds": phase.seconds}
    out.commit(summary)
    print_summary(summary, out.path)
    return summary


def print_summary(summary: dict, path: str) -> None:
    c = summary["counters"]
    print(f"[clean] {summary['input']} input -> {summary['kept']} kept, {summary['rejected']} rejected, "
          f"{summary['quarantined']} quarantined; output in {path}", file=sys.stderr)
    for lang in ("zh", "en"):
        kept, rejected = c.get(f"lang/{lang}/kept", 0), c.get(f"lang/{lang}/rejected", 0)
        if kept + rejected:
            print(f"[clean]   {lang}: kept {kept}/{kept + rejected} ({kept / (kept + rejected):.0%})", file=sys.stderr)
    reasons = sorted(((v, k[5:]) for k, v in c.items() if k.startswith("drop/")), reverse=True)[:5]
    print("[clean]   top drop reasons: " + ", ".join(f"{k} {v}" for v, k in reasons), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    from ziya.cli import main as cli_main

    return cli_main(["clean", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
