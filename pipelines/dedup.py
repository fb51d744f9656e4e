"""`ziya dedup`: URL, exact and MinHash LSH near dedup, on Spark.

    ziya dedup --input out/clean --output out/dedup [--threshold 0.7] [--num-perm 128] [--ngram 3]
    spark-submit ziya/cli.py dedup --input ... --output ...   # the same job on a cluster

Phases, each a function over DataFrames:
  read         a stage's Parquet output as is (all its columns), or raw JSONL/Parquet parsed by
               corpus_tools.readers into staged Parquet parts first (bad records go to
               quarantine/, as in `ziya clean`); the unit of work is one row group
  fingerprint  one task per row group reads its documents itself (the text never enters the
               JVM): URL key, normalized-text hash, MinHash signature and LSH band hashes, and
               where the document lies (unit, row); every later phase works on these small columns
  url          exact URL dedup: documents sharing a URL key, one kept per key
  exact        exact dedup of the rest on the normalized-text hash
  near         the rest: band buckets -> candidate edges (each bucket a star on its smallest
               id, so a bucket of k documents gives k-1 edges, not k^2/2) -> verification of each
               edge by estimated Jaccard -> connected components (pipelines/components.py) ->
               one representative per component
  write        duplicates/ (id, cluster_id, phase); kept/: the duplicates' rows grouped by row
               group, and one task per row group rewriting it without them (all input columns)

A group's representative is the document with the best quality column value (when the input
has one), then the smallest id, so the kept set depends only on the documents: not on their
order, their partitioning or `spark.sql.shuffle.partitions`. `cluster_id` is the id of the
kept document a duplicate was folded into, across phases (a URL duplicate of a document later
removed as a near duplicate points at the near duplicate's representative).

Nothing is lost: input = kept + duplicates + quarantined, checked before the output commits.
"""
from __future__ import annotations

import functools
import json
import sys

import pyarrow as pa

from corpus_tools import config, storage
from corpus_tools.dedup import PHASES, DedupConfig, Fingerprinter, config_json, signatures_of
from corpus_tools.document import DOCUMENT_SCHEMA, QUARANTINE_SCHEMA
from corpus_tools.writers import PartWriter, ensure_schema_file
from pipelines.components import connected_components, materialize
from pipelines.stage import Phases, Run, StageInput, each_unit, plan_row_groups, read_unit, stage_input, unit_tasks, \
    write_partitions
from pipelines.stages import DEDUP

run = DEDUP.run  # run(spark, inputs, output, cfg, overwrite=False) -> stats

FINGERPRINT_DDL = ("id string, url_key string, text_key binary, quality double, signature binary, "
                   "bands array<bigint>, unit int, row long")
DUPLICATES_SCHEMA = pa.schema([("id", pa.string()), ("cluster_id", pa.string()), ("phase", pa.string())])
STAGED_INPUT = "staged_input"  # raw input parsed into contract Parquet, removed before commit (no "_": Spark would skip it)


def identity(cfg: DedupConfig, _) -> str:
    """The config as saved and compared: LSH bands and rows resolved."""
    return config_json(cfg.resolved())


# ---------------------------------------------------------------- read

def read_input(run: Run) -> tuple[StageInput, int]:
    """(the input as row groups of contract Parquet, records quarantined). A stage's kept/ is
    read as is; raw input is first parsed into staged parts, one Spark task per split."""
    source = stage_input(run.listing, run.cfg.input)
    if source.contract:
        return source, 0
    input_json = config.dumps(run.cfg.input)
    staged, quarantine = run.subdir(STAGED_INPUT), run.subdir("quarantine")
    counts = each_unit(run.spark, source.units, lambda unit: str(_parse_split(unit, input_json, staged, quarantine)))
    quarantined = sum(int(n) for n in counts)
    ensure_schema_file(staged, DOCUMENT_SCHEMA)
    if quarantined:
        ensure_schema_file(quarantine, QUARANTINE_SCHEMA)
    files = storage.parquet_parts(staged)
    return StageInput(files, plan_row_groups(files), True, "text"), quarantined


def _parse_split(unit: dict, input_json: str, staged: str, quarantine: str) -> int:
    """Parse one split into its staged part; the records it quarantined."""
    from corpus_tools.readers import InputConfig

    docs = PartWriter(staged, unit["part"], DOCUMENT_SCHEMA)
    for batch in read_unit(unit, config.load(InputConfig, json.loads(input_json)), quarantine):  # bad records: their own part
        docs.write(batch)
    docs.close()
    bad = storage.join(quarantine, f"{unit['part']}.parquet")
    return storage.parquet_rows([bad]) if storage.exists(bad) else 0


# ---------------------------------------------------------------- fingerprint

@functools.lru_cache(maxsize=2)
def _fingerprinter(cfg_json: str) -> Fingerprinter:
    """One Fingerprinter (and so one set of permutations) per Python worker."""
    return Fingerprinter(DedupConfig.from_dict(json.loads(cfg_json)))


def fingerprint(spark, source: StageInput, quality_col: str | None, cfg: DedupConfig):
    """(id, url_key, text_key, quality, signature, bands, unit, row) of every document, one task
    per row group reading its own documents."""
    import numpy as np

    names = storage.parquet_schema(source.files[0]).names if source.files else []
    columns = ["id", source.text_column] + (["url"] if "url" in names else []) + ([quality_col] if quality_col else [])
    cfg_json = config_json(cfg)
    units = [{**u, "unit": i} for i, u in enumerate(source.units)]

    def fingerprints(unit: dict):
        fp = _fingerprinter(cfg_json)
        row = 0
        for batch in read_unit(unit, cfg.input, columns=list(dict.fromkeys(columns))):
            named = {"id": batch.column("id"), "text": batch.column(source.text_column)}
            if "url" in columns:
                named["url"] = batch.column("url").cast(pa.string())
            if quality_col:
                named["quality"] = batch.column(quality_col).cast(pa.float64())
            out = fp.batch(pa.RecordBatch.from_pydict(named))
            n = out.num_rows
            yield pa.RecordBatch.from_arrays(
                [*out.columns, pa.array(np.full(n, unit["unit"], np.int32)), pa.array(np.arange(row, row + n))],
                names=[*out.schema.names, "unit", "row"])
            row += n
    return unit_tasks(spark, units, fingerprints, FINGERPRINT_DDL)


def count_documents(fp) -> int:
    """The number of documents of the (persisted) fingerprints, checking in the same aggregation
    that their ids are unique: one job, the detailed query only when the check fails."""
    from pyspark.sql import functions as F

    row = fp.agg(F.count(F.lit(1)).alias("n"), F.countDistinct("id").alias("ids")).first()
    if row.n != row.ids:
        check_unique_ids(fp)
    return row.n


def check_unique_ids(fp) -> None:
    from pyspark.sql import functions as F

    repeated = fp.groupBy("id").count().where(F.col("count") > 1).limit(3).collect()
    if repeated:
        raise ValueError(f"document ids must be unique; repeated: {[(r.id, r['count']) for r in repeated]}")


# ---------------------------------------------------------------- groups and representatives

def rank(higher_is_better: bool):
    """Ascending order of preference: documents with a quality value first, the best value
    first, then the smallest id. Spark orders structs field by field."""
    from pyspark.sql import functions as F

    q = F.col("quality")
    return F.struct(q.isNull().alias("no_quality"), (-q if higher_is_better else q).alias("q"), F.col("id").alias("id"))


def group_duplicates(df, key: str, higher_is_better: bool):
    """(id, cluster_id) of every member of a group of `key` that is not its representative."""
    from pyspark.sql import functions as F

    best = df.groupBy(key).agg(F.min(rank(higher_is_better))["id"].alias("cluster_id"))
    return df.join(best, key).where(F.col("id") != F.col("cluster_id")).select("id", "cluster_id")


def candidate_edges(signed):
    """Documents sharing a band hash: within each bucket, an edge from every member to the
    bucket's smallest id (a star: k-1 edges per bucket of k). Edges (u, v) with u > v."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    buckets = signed.select("id", F.posexplode("bands").alias("band", "h"))
    root = F.min("id").over(Window.partitionBy("band", "h"))
    return (buckets.select(F.col("id").alias("u"), root.alias("v"))
            .where(F.col("u") != F.col("v")).distinct())


def verify_edges(edges, signed, num_perm: int, threshold: float):
    """The edges whose documents' estimated Jaccard similarity is >= threshold."""
    from pyspark.sql import functions as F

    sigs = signed.select("id", "signature")
    pairs = (edges.join(sigs.select(F.col("id").alias("u"), F.col("signature").alias("su")), "u")
             .join(sigs.select(F.col("id").alias("v"), F.col("signature").alias("sv")), "v"))

    def similar(batches):
        import pyarrow as pa

        from corpus_tools.minhash import estimated_jaccard

        for batch in batches:
            if not batch.num_rows:
                continue
            a = signatures_of(batch.column("su"), num_perm)
            b = signatures_of(batch.column("sv"), num_perm)
            keep = pa.array(estimated_jaccard(a, b) >= threshold)
            yield batch.select(["u", "v"]).filter(keep)
    return pairs.select("u", "v", "su", "sv").mapInArrow(similar, "u string, v string")


def near_duplicates(signed, cfg: DedupConfig, engine, higher_is_better: bool, phase: Phases, stats: dict):
    """(id, cluster_id) of near duplicates among `signed` (documents with a signature)."""
    from pyspark.sql import functions as F

    with phase("near: candidate edges"):
        stats["signed"] = signed.count()  # computes and caches the signed documents
        edges = materialize(candidate_edges(signed), cut=False, count=False)
        stats["candidate_edges"] = edges.count()
    if cfg.verify:
        with phase("near: verify"):
            verified = materialize(verify_edges(edges, signed, cfg.num_perm, cfg.threshold), cut=False, count=False)
            stats["verified_edges"] = verified.count()
        edges.unpersist()
        edges = verified
    with phase("near: connected components"):
        components, rounds = connected_components(edges, engine.checkpoint_every, engine.max_rounds)
        edges.unpersist()
        stats["cc_rounds"] = rounds
    with phase("near: representatives"):
        members = components.union(components.select(F.col("root").alias("id"), "root")).distinct()
        members = members.join(signed.select("id", "quality"), "id")
        dups = materialize(group_duplicates(members, "root", higher_is_better), cut=False, count=False)
        # Every component has >= 2 members, so exactly one representative with >= 1 duplicate:
        # counting the distinct cluster ids of the persisted duplicates both computes them and
        # counts the components, without recomputing the members' join.
        stats["components"] = dups.select("cluster_id").distinct().count()
    return dups


# ---------------------------------------------------------------- the job

def work(run: Run) -> dict:
    from pyspark.sql import functions as F

    cfg, phase, spark = run.cfg.resolved(), run.phase, None
    run.begin([{"inputs": run.inputs}])
    for name in (STAGED_INPUT, "kept", "duplicates", "quarantine"):  # left by an interrupted run
        storage.remove_tree(run.subdir(name))
    near_stats: dict = {}

    with phase("read"):
        source, quarantined = read_input(run)
    spark = run.spark
    columns = storage.parquet_schema(source.files[0]).names if source.files else []
    quality_col, higher = cfg.quality(columns)
    with phase("fingerprint"):
        fp = materialize(fingerprint(spark, source, quality_col, cfg), cut=False, count=False)
        documents = count_documents(fp)  # also computes and caches fp

    found: dict[str, object] = {}  # phase -> (id, cluster_id) of the documents it removed
    rest = fp
    if cfg.url:
        with phase("url"):
            found["url"] = materialize(group_duplicates(rest.where(F.col("url_key").isNotNull()), "url_key", higher), cut=False)
            rest = rest.join(found["url"].select("id"), "id", "left_anti")
    if cfg.exact:
        with phase("exact"):
            found["exact"] = materialize(group_duplicates(rest, "text_key", higher), cut=False)
            rest = rest.join(found["exact"].select("id"), "id", "left_anti")
    if cfg.near:
        signed = materialize(rest.where(F.col("signature").isNotNull()).select("id", "quality", "signature", "bands"),
                             cut=False, count=False)  # computed by near_duplicates' first count
        near_stats.update(signed=None, bands=cfg.bands, rows=cfg.rows)
        found["near"] = near_duplicates(signed, cfg, run.engine, higher, phase, near_stats)

    with phase("write"):
        duplicates = materialize(resolve_clusters(found), cut=False, count=False)  # computed by its write
        write_partitions(duplicates, run.subdir("duplicates"), DUPLICATES_SCHEMA)
        kept = write_kept(spark, source, fp, duplicates, run.subdir("kept"))
        storage.remove_tree(run.subdir(STAGED_INPUT))  # kept/ is written: no longer read

    with phase("summary"):
        summary = summarize(duplicates, documents, kept, quarantined, near_stats, quality_col)
    fp.unpersist()
    return summary


def write_kept(spark, source: StageInput, fp, duplicates, directory: str) -> int:
    """kept/: every row group of the input without its duplicates' rows, one task per row group
    reading and rewriting it (all columns, in input order; the text never enters the JVM); the
    rows written. Only the duplicates' (unit, row) travel, grouped per row group."""
    from pyspark.sql import functions as F

    positions = duplicates.select("id").join(fp.select("id", "unit", "row"), "id").groupBy("unit").agg(
        F.collect_list("row").alias("rows"))
    units = spark.range(len(source.units)).select(F.col("id").cast("int").alias("unit"))
    per_unit = units.join(positions, "unit", "left").repartition(max(1, min(len(source.units),
                                                                           int(spark.conf.get("spark.sql.shuffle.partitions")))), "unit")
    plan = spark.sparkContext.broadcast(source.units)

    def rewrite(batches):
        import numpy as np

        for batch in batches:
            for unit, rows in zip(batch.column("unit").to_pylist(), batch.column("rows").to_pylist()):
                part = plan.value[unit]
                drop = np.sort(np.asarray(rows or [], dtype=np.int64))
                writer, row = None, 0
                for b in read_unit(part, None):
                    if writer is None:
                        writer = PartWriter(directory, part["part"], b.schema)
                    keep = np.ones(b.num_rows, dtype=bool)
                    mine = drop[(drop >= row) & (drop < row + b.num_rows)] - row
                    keep[mine] = False
                    writer.write(b.filter(pa.array(keep)))
                    row += b.num_rows
                if writer is not None:
                    writer.close()
                yield pa.RecordBatch.from_pydict({"rows": [writer.rows if writer else 0]})

    written = sum(r.rows for r in per_unit.mapInArrow(rewrite, "rows long").collect())
    if source.files:
        ensure_schema_file(directory, storage.parquet_schema(source.files[0]))
    return written


def resolve_clusters(found: dict):
    """(id, cluster_id, phase) of every duplicate, cluster_id the *kept* representative: a
    representative removed by a later phase hands its duplicates on to that phase's one."""
    from pyspark.sql import functions as F

    later = None  # id -> final representative, for documents removed by later phases
    resolved = []
    for name in reversed(PHASES):
        if name not in found:
            continue
        dups = found[name]
        if later is not None:
            moved = later.select(F.col("id").alias("cluster_id"), F.col("cluster_id").alias("final"))
            dups = dups.join(moved, "cluster_id", "left").select("id", F.coalesce("final", "cluster_id").alias("cluster_id"))
        later = dups if later is None else later.union(dups)
        resolved.append(dups.withColumn("phase", F.lit(name)))
    if not resolved:
        return found  # nothing enabled: never reached, DedupConfig needs a phase
    out = resolved[0]
    for df in resolved[1:]:
        out = out.union(df)
    return out


def summarize(duplicates, documents: int, kept: int, quarantined: int, near_stats: dict, quality_col: str | None) -> dict:
    """stats.json: the kept count as the kept/ writers counted it, the duplicates' counts from the
    persisted DataFrame that duplicates/ was written from, in one aggregation; they must reconcile."""
    from pyspark.sql import functions as F

    # Per cluster: its size and how many of its duplicates each phase removed; then per size.
    # One small row per cluster size comes back, never a row per document or cluster.
    per_cluster = duplicates.groupBy("cluster_id").agg(
        F.count(F.lit(1)).alias("n"), *[F.sum((F.col("phase") == name).cast("long")).alias(name) for name in PHASES])
    by_size = (per_cluster.groupBy((F.col("n") + 1).alias("size"))
               .agg(F.count(F.lit(1)).alias("clusters"), *[F.sum(name).alias(name) for name in PHASES]).collect())
    per_phase = {name: sum(r[name] for r in by_size) for name in PHASES}
    removed = sum(per_phase.values())
    sizes = [(r["size"], r["clusters"]) for r in by_size]
    stats = {
        "input": documents + quarantined,
        "documents": documents,
        "quarantined": quarantined,
        "kept": kept,
        "duplicates": removed,
        "duplicates_by_phase": {name: per_phase.get(name, 0) for name in PHASES},
        "cluster_sizes": {str(size): clusters for size, clusters in sorted(sizes)},
        "near": near_stats,
        "quality_column": quality_col,
        "reconciles": documents == kept + removed,
    }
    if not stats["reconciles"]:
        raise RuntimeError(f"counts do not reconcile: {documents} documents != {kept} kept + {removed} duplicates")
    return stats


def print_summary(s: dict, path: str) -> None:
    by = s["duplicates_by_phase"]
    print(f"[dedup] {s['input']} input -> {s['kept']} kept, {s['duplicates']} duplicates "
          f"(url {by['url']}, exact {by['exact']}, near {by['near']}), {s['quarantined']} quarantined; "
          f"output in {path}", file=sys.stderr)
    if s["near"]:
        n = s["near"]
        print(f"[dedup]   near: {n.get('bands')}x{n.get('rows')} bands, {n.get('candidate_edges')} candidate edges, "
              f"{n.get('verified_edges', '-')} verified, {n.get('cc_rounds')} CC rounds", file=sys.stderr)
