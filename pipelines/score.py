"""`ziya score`: KenLM perplexity, per-language percentiles, quality buckets and thresholds, on Spark.

    ziya score --input out/dedup --output out/score --models models/kenlm [--quality-model F]
               [--keep high,medium | --max-ppl X | --min-quality Q]
    spark-submit pipelines/score.py --input ... --output ...   # the same job on a cluster

Phases:
  read      a stage's output (its kept/, every column) or Parquet with id, text and lang columns
  score     mapInArrow: ppl, ppl_para (and quality_score) per document, written once to a staged
            Parquet so the corpus is scored a single time; each Python worker loads each model once
  grid      per language, one aggregation: the score's quantiles on a 0.1% grid (plus the bucket
            cut points) with percentile_approx at an accuracy that makes ranks exact up to a
            million documents per language. No window over a language, no single partition.
  assign    mapInArrow over the staged Parquet: ppl_percentile by binary search in the grid,
            quality_bucket, drop_reason from the thresholds -> kept/ and rejected/
  summary   counts per language, bucket, drop reason; input = kept + rejected is checked

Languages without a model keep null scores, pass every threshold and are counted (`unscored`).
"""
from __future__ import annotations

import json
import os
import shutil
import sys

import pyarrow.parquet as pq

from corpus_tools.config import ConfigError
from corpus_tools.lm.model import available_models, cached_model
from corpus_tools.lm.score import (BUCKETS, BatchScorer, QuantileGrid, ScoreConfig, accuracy_for, assign, config_json,
                                   grid_fractions, grids_from_json, grids_to_json)
from corpus_tools.readers import list_input_files
from pipelines.stage import Phases, StageOutput, mark_part_done, part_done

STAGED = "scored_staged"  # documents with their scores, removed before commit


def resolve_input(inputs: list[str]) -> list[str]:
    """Parquet files of the input; a finished stage's directory stands for its kept/."""
    paths = [os.path.join(p, "kept") if os.path.exists(os.path.join(p, "_SUCCESS")) and os.path.isdir(os.path.join(p, "kept"))
             else p for p in inputs]
    return [path for path, _ in list_input_files(paths)]


def check_input(files: list[str], cfg: ScoreConfig) -> None:
    """Fail before any work on input without the columns scoring needs."""
    if not files:
        raise ConfigError("no input files")
    for f in files:
        if not f.endswith(".parquet"):
            raise ConfigError(f"{f}: ziya score reads a stage's Parquet output (run ziya clean first, which adds the "
                              f"{cfg.lang_field!r} column)")
        names = set(pq.read_schema(f).names)
        missing = [c for c in ("id", cfg.text_field, cfg.lang_field) if c not in names]
        if missing:
            raise ConfigError(f"{f}: missing column(s) {missing}; ziya score needs id, {cfg.text_field!r} and the "
                              f"language column {cfg.lang_field!r} that ziya clean writes")


def check_models(cfg: ScoreConfig) -> dict[str, str]:
    """Load every model once on the driver: a missing or corrupt file fails here, clearly."""
    models = available_models(cfg.models)
    if not models:
        raise ConfigError(f"no models in {cfg.models} (expected <lang>.json files from `ziya kenlm train`)")
    for prefix in models.values():
        cached_model(prefix)
    if cfg.quality_model:
        from corpus_tools.quality import cached_classifier

        cached_classifier(cfg.quality_model)
    return models


def score_phase(docs, cfg_json: str, staged: str):
    """Adds the scores with one model load per Python worker; written to `staged`."""
    from pyspark.sql.types import DoubleType, StructField, StructType

    def score_batches(batches):
        scorer = BatchScorer(ScoreConfig.from_dict(json.loads(cfg_json)))
        for batch in batches:
            for start in range(0, batch.num_rows, scorer.cfg.batch_rows):
                yield scorer.score(batch.slice(start, scorer.cfg.batch_rows))

    fields = [StructField(n, DoubleType()) for n in ("ppl", "ppl_para", "quality_score")]
    base = [f for f in docs.schema.fields if f.name not in ("ppl", "ppl_para", "quality_score")]
    schema = StructType(base + fields)
    docs.select(*[f.name for f in base]).mapInArrow(score_batches, schema).write.mode("overwrite") \
        .option("compression", "zstd").parquet(staged)


def grid_phase(scored, cfg: ScoreConfig, documents: int) -> tuple[dict[str, QuantileGrid], dict[str, int]]:
    """Per language, in one aggregation: its scored documents and the quantile grid of the score.
    `documents` (all input rows, from Parquet footers) bounds every language's count, so the
    accuracy it sets keeps ranks exact without a counting pass first."""
    from pyspark.sql import functions as F

    fractions = grid_fractions(cfg)
    rows = (scored.where(F.col(cfg.score_column).isNotNull()).groupBy(cfg.lang_field)
            .agg(F.count(F.lit(1)).alias("n"),
                 F.percentile_approx(cfg.score_column, fractions, accuracy_for(documents, cfg)).alias("q")).collect())
    grids = {r[0]: QuantileGrid(fractions, [float(v) for v in r["q"]]) for r in rows}
    return grids, {r[0]: r["n"] for r in rows}


def assign_phase(scored, grids: dict[str, QuantileGrid], cfg_json: str):
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    grids_json = grids_to_json(grids)

    def assign_batches(batches):
        cfg = ScoreConfig.from_dict(json.loads(cfg_json))
        g = grids_from_json(grids_json)
        for batch in batches:
            yield assign(batch, g, cfg)

    schema = StructType(list(scored.schema.fields) + [StructField("ppl_percentile", DoubleType()),
                                                      StructField("quality_bucket", StringType()),
                                                      StructField("drop_reason", StringType())])
    return scored.mapInArrow(assign_batches, schema)


def summarize(assigned, cfg: ScoreConfig, models: dict[str, str]) -> dict:
    """Counts per (language, bucket, drop reason) in one aggregation; small rows only."""
    from pyspark.sql import functions as F

    rows = (assigned.groupBy(cfg.lang_field, "quality_bucket", "drop_reason")
            .agg(F.count(F.lit(1)).alias("n"), F.sum(F.col("ppl").isNull().cast("long")).alias("no_ppl")).collect())
    counters: dict[str, int] = {}

    def add(key: str, n: int) -> None:
        counters[key] = counters.get(key, 0) + n

    for r in rows:
        lang, bucket, reason, n = r[0] or "unknown", r["quality_bucket"], r["drop_reason"], r["n"]
        status = "rejected" if reason else "kept"
        add(status, n)
        add(f"lang/{lang}/{status}", n)
        add(f"bucket/{bucket or 'unscored'}", n)
        add(f"lang/{lang}/bucket/{bucket or 'unscored'}", n)
        if reason:
            add(f"drop/{reason}", n)
        if bucket is None:
            add("unscored/" + ("no_model" if lang not in models else "no_text"), n)
    return counters


def run(spark, inputs: list[str], output: str, cfg: ScoreConfig, overwrite: bool = False) -> dict:
    from pyspark.sql import functions as F

    files = resolve_input(inputs)
    check_input(files, cfg)
    models = check_models(cfg)
    cfg_json = config_json(cfg)
    out = StageOutput(output, cfg_json, overwrite)
    if out.already_done():
        print(f"[score] {output} already holds this run (same config); nothing to do", file=sys.stderr)
        with open(f"{out.path}/stats.json", encoding="utf-8") as f:
            return json.load(f)
    phase = Phases("score")
    resumed = out.begin([{"inputs": inputs, "files": files}])
    staged = out.subdir(STAGED)

    with phase("score"):
        if resumed and part_done(out.tmp, "score") is not None:
            print("[score] resuming: documents were scored by an earlier run", file=sys.stderr)
        else:
            score_phase(spark.read.parquet(*files), cfg_json, staged)
            mark_part_done(out.tmp, "score", {})
    scored = spark.read.parquet(staged)
    with phase("grid"):
        grids, scored_counts = grid_phase(scored, cfg, input_rows(files))
    with phase("assign"):
        for name in ("kept", "rejected"):
            shutil.rmtree(out.subdir(name), ignore_errors=True)
        # assign is cheap next to writing: compute it per output instead of writing it twice
        assigned = assign_phase(scored, grids, cfg_json)
        assigned.where(F.col("drop_reason").isNull()).drop("drop_reason").write.option("compression", "zstd") \
            .parquet(out.subdir("kept"))
        if cfg.thresholds_on:
            assigned.where(F.col("drop_reason").isNotNull()).write.option("compression", "zstd") \
                .parquet(out.subdir("rejected"))
    with phase("summary"):
        counters = summarize(assigned.select(cfg.lang_field, "ppl", "quality_bucket", "drop_reason"), cfg, models)
        stats = build_stats(counters, files, out, cfg, grids, scored_counts, models, phase)
    shutil.rmtree(staged, ignore_errors=True)
    out.commit(stats)
    print_summary(stats, out.path)
    return stats


def input_rows(files: list[str]) -> int:
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def build_stats(counters: dict, files: list[str], out: StageOutput, cfg: ScoreConfig, grids: dict,
                scored_counts: dict, models: dict, phase: Phases) -> dict:
    n_input = input_rows(files)
    kept, rejected = counters.get("kept", 0), counters.get("rejected", 0)
    stats = {
        "input": n_input, "kept": kept, "rejected": rejected, "quarantined": 0,
        "counters": dict(sorted(counters.items())),
        "models": {lang: os.path.abspath(p) for lang, p in models.items()},
        "scored_per_language": scored_counts,
        "ppl_quantiles": {lang: {str(f): v for f, v in zip(g.fractions, g.values)
                                 if round(f * 100, 6) % 10 == 0 or f in (cfg.high_share, cfg.medium_share)}
                          for lang, g in grids.items()},
        "score_column": cfg.score_column,
        "phase_seconds": phase.seconds,
        "reconciles": n_input == kept + rejected,
    }
    if not stats["reconciles"]:
        raise RuntimeError(f"counts do not reconcile: {n_input} input != {kept} kept + {rejected} rejected")
    return stats


def print_summary(s: dict, path: str) -> None:
    c = s["counters"]
    print(f"[score] {s['input']} input -> {s['kept']} kept, {s['rejected']} rejected; output in {path}", file=sys.stderr)
    langs = sorted({k.split("/")[1] for k in c if k.startswith("lang/")})
    for lang in langs:
        shares = ", ".join(f"{b} {c.get(f'lang/{lang}/bucket/{b}', 0)}" for b in (*BUCKETS, "unscored")
                           if c.get(f"lang/{lang}/bucket/{b}", 0))
        print(f"[score]   {lang}: {shares}", file=sys.stderr)
    for lang, q in s["ppl_quantiles"].items():
        med = q.get("0.5")
        if med is not None:
            print(f"[score]   {lang}: median {s['score_column']} {med:.1f}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    from ziya.cli import main as cli_main

    return cli_main(["score", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
