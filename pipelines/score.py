"""`ziya score`: KenLM perplexity, per-language percentiles, quality buckets and thresholds, on Spark.

    ziya score --input out/dedup --output out/score --models models/kenlm [--quality-model F]
               [--keep high,medium | --max-ppl X | --min-quality Q]
    spark-submit ziya/cli.py score --input ... --output ...   # the same job on a cluster

Phases (as in `ziya clean`, documents never pass through the JVM: each Spark task reads its
part with pyarrow, runs corpus_tools on it, writes its own Parquet part and returns one small row):
  score     one task per input row group (a stage's kept/ or Parquet with id, text and lang):
            ppl, ppl_para (and quality_score) per document, staged without the text; each Python
            worker loads each model once; a finished part is marked done, so a killed run resumes
  grid      per language, one aggregation over the staged score column (read by Python tasks,
            as every file is: the storage layer reaches object stores): its quantiles on a 0.1%
            grid (plus the bucket cut points) with percentile_approx at accuracy = documents, so a
            grid value is off by about one rank at most (up to a million documents per language;
            how the sketch merges across partitions decides which neighbour). No window, no single
            partition.
  assign    one task per row group: its documents + staged scores, ppl_percentile by binary search
            in the grid, quality_bucket, drop_reason from the thresholds -> kept/ and rejected/
            parts + counters
Counters are added up on the driver and input = kept + rejected is checked before the commit.
Languages without a model keep null scores, pass every threshold and are counted (`unscored`).
"""
from __future__ import annotations

import functools
import json
import os
import sys

import pyarrow as pa

from corpus_tools import storage
from corpus_tools.config import ConfigError
from corpus_tools.lm.model import available_models, cached_model
from corpus_tools.lm.score import (ASSIGN_FIELDS, BUCKETS, SCORE_FIELDS, BatchScorer, QuantileGrid, ScoreConfig,
                                   accuracy_for, assign, config_json, grid_fractions, grids_from_json, grids_to_json,
                                   with_columns)
from corpus_tools.writers import PartWriter, ensure_schema_file
from pipelines.stage import Phases, Run, each_unit, mark_part_done, part_done, plan_row_groups, unit_tasks
from pipelines.stages import SCORE

run = SCORE.run  # run(spark, inputs, output, cfg, overwrite=False) -> stats

STAGED = "scored_staged"  # documents with their scores, removed before commit


def check_input(files: list[str], cfg: ScoreConfig) -> None:
    """Fail before any work on input without the columns scoring needs."""
    if not files:
        raise ConfigError("no input files")
    for f in files:
        if not f.endswith(".parquet"):
            raise ConfigError(f"{f}: ziya score reads a stage's Parquet output (run ziya clean first, which adds the "
                              f"{cfg.lang_field!r} column)")
        names = set(storage.parquet_schema(f).names)
        missing = [c for c in ("id", cfg.text_field, cfg.lang_field) if c not in names]
        if missing:
            raise ConfigError(f"{f}: missing column(s) {missing}; ziya score needs id, {cfg.text_field!r} and the "
                              f"language column {cfg.lang_field!r} that ziya clean writes")


def prepare(cfg: ScoreConfig) -> dict[str, str]:
    """Load every model once on the driver: a missing or corrupt file fails here, clearly; the
    models by language."""
    models = available_models(cfg.models)
    if not models:
        raise ConfigError(f"no models in {cfg.models} (expected <lang>.json files from `ziya kenlm train`)")
    for prefix in models.values():
        cached_model(prefix)
    if cfg.quality_model:
        from corpus_tools.quality import cached_classifier

        cached_classifier(cfg.quality_model)
    return models


# ---------------------------------------------------------------- score: tasks read and write their own parts

def score_part(cfg_json: str, path: str, row_group: int, out_dir: str, part: str) -> dict:
    """Score one row group of an input file unless an earlier attempt finished it. Only the
    scores are staged (`<out_dir>/scored_staged/<part>.parquet`: lang, ppl, ppl_para,
    quality_score in the row group's order): the text is written once, by assign. Documents never
    cross into the JVM."""
    done = part_done(out_dir, part)
    if done is not None:
        return done
    scorer = _scorer(cfg_json)
    writer = None
    rows = 0
    for batch in storage.parquet_file(path).iter_batches(batch_size=scorer.cfg.batch_rows, row_groups=[row_group]):
        scores = scorer.scores(batch)
        if writer is None:
            writer = PartWriter(storage.join(out_dir, STAGED), part, scores.schema)
        writer.write(scores)
        rows += batch.num_rows
    if writer is not None:
        writer.close()
    stats = {"rows": rows}
    mark_part_done(out_dir, part, stats)
    return stats


@functools.lru_cache(maxsize=2)
def _scorer(cfg_json: str) -> BatchScorer:
    """One scorer per Python worker; its models load once (corpus_tools.lm.model.cached_model)."""
    return BatchScorer(ScoreConfig.from_dict(json.loads(cfg_json)))


def score_phase(spark, plan: list[dict], cfg_json: str, out_dir: str) -> list[dict]:
    """One Spark task per row group, each writing its staged part; returns each part's stats."""
    return [json.loads(stats) for stats in each_unit(
        spark, plan, lambda unit: json.dumps(score_part(cfg_json, unit["path"], unit["row_group"], out_dir, unit["part"])))]


# ---------------------------------------------------------------- grid

def staged_scores(spark, staged_files: list[str], cfg: ScoreConfig):
    """(lang, score column) of the staged parts, one task per part reading its own file."""
    columns = [cfg.lang_field, cfg.score_column]

    def read(unit: dict):
        yield from storage.parquet_file(unit["path"]).iter_batches(batch_size=65536, columns=columns)

    return unit_tasks(spark, [{"path": f} for f in staged_files], read,
                      f"`{cfg.lang_field}` string, `{cfg.score_column}` double")


def grid_phase(scored, cfg: ScoreConfig, documents: int) -> tuple[dict[str, QuantileGrid], dict[str, int]]:
    """Per language, in one aggregation over two columns of the staged Parquet (the text is not
    read): its scored documents and the quantile grid of the score. `documents` (all input rows,
    from Parquet footers) bounds every language's count, so the accuracy it sets keeps the rank
    error within about one document without a counting pass first."""
    from pyspark.sql import functions as F

    fractions = grid_fractions(cfg)
    # One SQL expression: a Python list of ~1000 fractions would cost one py4j call each.
    quantiles = f"percentile_approx(`{cfg.score_column}`, {sql_doubles(fractions)}, {accuracy_for(documents, cfg)})"
    rows = (scored.select(cfg.lang_field, cfg.score_column).where(F.col(cfg.score_column).isNotNull())
            .groupBy(cfg.lang_field)
            .agg(F.count(F.lit(1)).alias("n"), F.expr(quantiles).alias("q")).collect())
    grids = {r[0]: QuantileGrid(fractions, [float(v) for v in r["q"]]) for r in rows}
    return grids, {r[0]: r["n"] for r in rows}


def sql_doubles(values: list[float]) -> str:
    """A Spark SQL array of these exact doubles: repr round-trips a float, and the `D` suffix
    makes a literal a double (a bare `0.001` would be a decimal)."""
    return f"array({', '.join(f'{float(v)!r}D' for v in values)})"


# ---------------------------------------------------------------- assign: tasks write kept/ and rejected/ parts

def assign_part(cfg_json: str, grids_json: str, unit: dict, staged_file: str, out_dir: str) -> dict[str, int]:
    """Percentiles, buckets and thresholds for one input row group and its staged scores,
    written as its kept/ and rejected/ parts; its counters."""
    cfg = ScoreConfig.from_dict(json.loads(cfg_json))
    grids = grids_from_json(grids_json)
    models = available_models(cfg.models)
    scores = storage.parquet_file(staged_file).read()  # small: four columns of one row group
    source = storage.parquet_file(unit["path"])
    schema = output_schema(source.schema_arrow, "rejected")
    kept = PartWriter(storage.join(out_dir, "kept"), unit["part"], output_schema(source.schema_arrow, "kept"))
    rejected = PartWriter(storage.join(out_dir, "rejected"), unit["part"], schema)
    counters: dict[str, int] = {}
    offset = 0
    for batch in source.iter_batches(batch_size=4096, row_groups=[unit["row_group"]]):
        part = scores.slice(offset, batch.num_rows)
        offset += batch.num_rows
        scored = with_columns(batch, SCORE_FIELDS, [part.column(f.name).combine_chunks() for f in SCORE_FIELDS])
        out = assign(scored, grids, cfg)
        count_batch(out, cfg, models, counters)
        reasons = out.column("drop_reason")
        kept.write(out.filter(reasons.is_null()))
        rejected.write(out.filter(reasons.is_valid()))
    if offset != scores.num_rows:
        raise RuntimeError(f"{unit['path']} row group {unit['row_group']}: {offset} rows, {scores.num_rows} scores")
    kept.close()
    rejected.close()
    return counters


def count_batch(out, cfg: ScoreConfig, models: dict, counters: dict[str, int]) -> None:
    """Counters per status, language, bucket, drop reason and why a document is unscored: counted
    per distinct (language, bucket, reason), of which a batch has a handful."""
    def add(key: str, n: int) -> None:
        counters[key] = counters.get(key, 0) + n

    keys = [cfg.lang_field, "quality_bucket", "drop_reason"]
    groups = pa.Table.from_batches([out.select(keys)]).group_by(keys).aggregate([([], "count_all")]).to_pydict()
    for lang, bucket, reason, n in zip(*(groups[k] for k in keys), groups["count_all"]):
        lang = lang or "unknown"
        status = "rejected" if reason else "kept"
        add(status, n)
        add(f"lang/{lang}/{status}", n)
        add(f"bucket/{bucket or 'unscored'}", n)
        add(f"lang/{lang}/bucket/{bucket or 'unscored'}", n)
        if reason:
            add(f"drop/{reason}", n)
        if bucket is None:
            add("unscored/" + ("no_model" if lang not in models else "no_text"), n)


def assign_phase(spark, plan: list[dict], grids: dict[str, QuantileGrid], cfg_json: str, out_dir: str) -> dict:
    """One Spark task per scored row group; the counters of all parts added up."""
    grids_json = grids_to_json(grids)
    staged = storage.join(out_dir, STAGED)
    written = set(storage.parquet_parts(staged))
    units = [u for u in plan if storage.join(staged, f"{u['part']}.parquet") in written]

    def work(unit: dict) -> str:
        return json.dumps(assign_part(cfg_json, grids_json, unit, storage.join(staged, f"{unit['part']}.parquet"), out_dir))

    totals: dict[str, int] = {}
    for counters in each_unit(spark, units, work):
        for k, v in json.loads(counters).items():
            totals[k] = totals.get(k, 0) + v
    return totals


# ---------------------------------------------------------------- the job

def work(run: Run) -> dict:
    cfg, out, phase, models = run.cfg, run.out, run.phase, run.prepared
    files = [f.path for f in run.listing]
    check_input(files, cfg)  # before the session starts
    cfg_json = out.config_json
    plan = plan_row_groups(files)
    run.begin(plan)
    staged = out.subdir(STAGED)

    with phase(f"score {len(plan)} row groups"):
        parts = score_phase(run.spark, plan, cfg_json, out.tmp)
    staged_files = storage.parquet_parts(staged)
    with phase("grid"):
        grids, scored_counts = (grid_phase(staged_scores(run.spark, staged_files, cfg), cfg, sum(p["rows"] for p in parts))
                                if staged_files else ({}, {}))
    with phase("assign"):
        for name in ("kept", "rejected"):
            storage.remove_tree(out.subdir(name))
        counters = assign_phase(run.spark, plan, grids, cfg_json, out.tmp)
        for name in ("kept", "rejected"):
            ensure_schema_file(out.subdir(name), output_schema(storage.parquet_schema(files[0]), name))
    stats = build_stats(counters, files, cfg, grids, scored_counts, models)
    storage.remove_tree(staged)
    return stats


def output_schema(source: pa.Schema, name: str) -> pa.Schema:
    """kept/ and rejected/ columns: the input's + scores, percentile and bucket (+ drop_reason)."""
    added = SCORE_FIELDS + [f for f in ASSIGN_FIELDS if name == "rejected" or f.name != "drop_reason"]
    replaced = {f.name for f in SCORE_FIELDS + ASSIGN_FIELDS}
    return pa.schema([f for f in source if f.name not in replaced] + added)


def build_stats(counters: dict, files: list[str], cfg: ScoreConfig, grids: dict, scored_counts: dict,
                models: dict) -> dict:
    n_input = storage.parquet_rows(files)
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
        "reconciles": n_input == kept + rejected,
    }
    if not stats["reconciles"]:
        raise RuntimeError(f"counts do not reconcile: {n_input} input != {kept} kept + {rejected} rejected")
    return stats


def print_summary(s: dict, path: str) -> None:
    c = s["counters"]
    print(f"[score] {s['input']} input -> {s['kept']} kept, {s['rejected']} rejected; output in {path}", file=sys.stderr)
    langs = sorted({k.split("/")[1] for k in c if k.startswith("lang/")})
    unscored_only = []
    for lang in langs:
        n = {b: c.get(f"lang/{lang}/bucket/{b}", 0) for b in (*BUCKETS, "unscored")}
        if sum(n[b] for b in BUCKETS) == 0:
            unscored_only.append(f"{lang} {n['unscored']}")
            continue
        median = s["ppl_quantiles"].get(lang, {}).get("0.5")
        print(f"[score]   {lang}: " + ", ".join(f"{b} {v}" for b, v in n.items() if v) +
              (f"; median {s['score_column']} {median:.1f}" if median is not None else ""), file=sys.stderr)
    if unscored_only:
        print("[score]   no model (passed through unscored): " + ", ".join(unscored_only), file=sys.stderr)
    drops = sorted(((v, k[5:]) for k, v in c.items() if k.startswith("drop/")), reverse=True)
    if drops:
        print("[score]   drop reasons: " + ", ".join(f"{k} {v}" for v, k in drops), file=sys.stderr)
