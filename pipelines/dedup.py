"""`ziya dedup`: URL, exact and MinHash LSH near dedup, on Spark.

    ziya dedup --input out/clean --output out/dedup [--threshold 0.7] [--num-perm 128] [--ngram 3]
    spark-submit pipelines/dedup.py --input ... --output ...   # the same job on a cluster

Phases, each a function over DataFrames:
  read         a stage's Parquet output as is (all its columns), or raw JSONL/Parquet through
               corpus_tools.readers (bad records go to quarantine/, as in `ziya clean`)
  fingerprint  one pass over the text (mapInArrow): URL key, normalized-text hash, MinHash
               signature and LSH band hashes; every later phase works on these small columns
  url          exact URL dedup: documents sharing a URL key, one kept per key
  exact        exact dedup of the rest on the normalized-text hash
  near         the rest: band buckets -> candidate edges (each bucket a star on its smallest
               id, so a bucket of k documents gives k-1 edges, not k^2/2) -> verification of each
               edge by estimated Jaccard -> connected components (large-star/small-star, no
               driver-side collect) -> one representative per component
  write        kept/ (all input columns), duplicates/ (id, cluster_id, phase), stats.json

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
import os
import shutil
import sys

import pyarrow.parquet as pq

from corpus_tools.dedup import PHASES, DedupConfig, Fingerprinter, config_json, signatures_of
from corpus_tools.document import DOCUMENT_SCHEMA, QUARANTINE_SCHEMA
from corpus_tools.readers import Split, list_input_files, read_split
from corpus_tools.writers import PartWriter, ensure_schema_file
from pipelines.stage import Phases, StageOutput, contract_parquet, plan_parts, resolve_stage_inputs, unit_tasks

FINGERPRINT_DDL = "id string, url_key string, text_key binary, quality double, signature binary, bands array<bigint>"
STAGED_INPUT = "staged_input"  # raw input parsed into contract Parquet, removed before commit (no "_": Spark would skip it)


# ---------------------------------------------------------------- read

def read_input(spark, inputs: list[str], cfg: DedupConfig, out: StageOutput):
    """(documents DataFrame, name of its text column, records quarantined).

    Parquet that already follows the contract (an `id` and the text column: a stage's `kept/`)
    is read as is, keeping every column. Anything else is parsed by corpus_tools.readers, one
    Spark task per split writing its documents and quarantine records as part files."""
    files, text, quarantined = stage_input(spark, inputs, cfg, out)
    return spark.read.parquet(*files), text, quarantined


def stage_input(spark, inputs: list[str], cfg, out: StageOutput) -> tuple[list[str], str, int]:
    """(Parquet files that follow the document contract, name of their text column, records
    quarantined): the input's own files when they already follow it, else the parts that one
    Spark task per split parses them into (under `out`'s staged_input/ and quarantine/)."""
    paths = resolve_stage_inputs(inputs)
    files = [path for path, _ in list_input_files(paths)]
    text = cfg.input.text_field
    if contract_parquet(files, text):
        return files, text, 0
    rows = plan_parts(paths, cfg.input.split_bytes)
    counts = unit_tasks(spark, rows, _parse_split(json.dumps(cfg.input.__dict__), out.tmp), "quarantined long").collect()
    staged, quarantine = out.subdir(STAGED_INPUT), out.subdir("quarantine")
    ensure_schema_file(staged, DOCUMENT_SCHEMA)
    quarantined = sum(r.quarantined for r in counts)
    if quarantined:
        ensure_schema_file(quarantine, QUARANTINE_SCHEMA)
    parts = sorted(f for f in os.listdir(staged) if f.endswith(".parquet") and not f.startswith((".", "_")))
    return [os.path.join(staged, f) for f in parts], "text", quarantined


def _parse_split(input_json: str, out_dir: str):
    def parse_split(unit: dict):
        import pyarrow as pa

        from corpus_tools.readers import InputConfig

        input_cfg = InputConfig(**json.loads(input_json))
        split = dict(unit)
        part = split.pop("part")
        docs = PartWriter(os.path.join(out_dir, STAGED_INPUT), part, DOCUMENT_SCHEMA)
        bad = PartWriter(os.path.join(out_dir, "quarantine"), part, QUARANTINE_SCHEMA)
        for b in read_split(Split(**split), input_cfg):
            docs.write(b.documents)
            bad.write(b.quarantine)
        docs.close()
        bad.close()
        yield pa.RecordBatch.from_pydict({"quarantined": [bad.rows]})
    return parse_split


# ---------------------------------------------------------------- fingerprint

@functools.lru_cache(maxsize=2)
def _fingerprinter(cfg_json: str) -> Fingerprinter:
    """One Fingerprinter (and so one set of permutations) per Python worker."""
    return Fingerprinter(DedupConfig.from_dict(json.loads(cfg_json)))


def fingerprint(docs, text_col: str, quality_col: str | None, cfg: DedupConfig):
    """(id, url_key, text_key, quality, signature, bands) of every document."""
    from pyspark.sql import functions as F

    cols = [F.col("id").cast("string").alias("id"), F.col(text_col).alias("text")]
    if "url" in docs.columns:
        cols.append(F.col("url").cast("string").alias("url"))
    if quality_col:
        cols.append(F.col(quality_col).cast("double").alias("quality"))
    cfg_json = config_json(cfg)

    def fingerprints(batches):
        fp = _fingerprinter(cfg_json)
        for batch in batches:
            yield fp.batch(batch)
    return docs.select(*cols).mapInArrow(fingerprints, FINGERPRINT_DDL)


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


# ---------------------------------------------------------------- connected components

def connected_components(edges, checkpoint_every: int = 1, max_rounds: int = 64):
    """(components, rounds): components is (id, root) for every node of `edges` (u, v) other
    than a root, root being the smallest id of its component; rounds of large-star + small-star.

    Kiveris et al. 2014, "Connected Components in MapReduce and Beyond": alternating the two
    operations turns the graph into stars centred on each component's smallest node in
    O(log n) rounds, each a few joins and aggregations over the edge list, never a collect.
    """
    from pyspark.sql import functions as F

    e = (edges.where(F.col("u") != F.col("v"))
         .select(F.greatest("u", "v").alias("u"), F.least("u", "v").alias("v")).distinct())
    e = _materialize(e, cut=True)
    rounds = 0
    while not is_star_forest(e):
        if rounds == max_rounds:
            raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
        rounds += 1
        nxt = _materialize(small_star(large_star(e)), cut=rounds % checkpoint_every == 0)
        e.unpersist()
        e = nxt
    return e.select(F.col("u").alias("id"), F.col("v").alias("root")), rounds


def large_star(e):
    """Every node links its larger neighbours to the smallest node of its closed neighbourhood."""
    from pyspark.sql import functions as F

    both = e.select(F.col("u").alias("a"), F.col("v").alias("b")).union(e.select(F.col("v").alias("a"), F.col("u").alias("b")))
    low = both.groupBy("a").agg(F.least(F.col("a"), F.min("b")).alias("m"))
    return both.join(low, "a").where(F.col("b") > F.col("a")).select(F.col("b").alias("u"), F.col("m").alias("v")).distinct()


def small_star(e):
    """Every node links itself and its smaller neighbours to the smallest of them."""
    from pyspark.sql import functions as F

    low = e.groupBy("u").agg(F.min("v").alias("m"))
    moved = e.join(low, "u").where(F.col("v") != F.col("m")).select(F.col("v").alias("u"), F.col("m").alias("v"))
    return moved.union(low.select("u", F.col("m").alias("v"))).distinct()


def is_star_forest(e) -> bool:
    """True when every edge (u, v) is a leaf u's only edge to a root v (a node that is never a
    leaf): the fixpoint of both operations, where each component is one star."""
    from pyspark.sql import functions as F

    roles = e.select(F.col("u").alias("node"), F.lit(1).alias("leaf"), F.lit(0).alias("root")).union(
        e.select(F.col("v").alias("node"), F.lit(0).alias("leaf"), F.lit(1).alias("root")))
    per_node = roles.groupBy("node").agg(F.sum("leaf").alias("leaf"), F.max("root").alias("root"))
    return per_node.where((F.col("leaf") > 1) | ((F.col("leaf") == 1) & (F.col("root") == 1))).limit(1).count() == 0


def _materialize(df, cut: bool, count: bool = True):
    """Persist `df` (used twice: the convergence check and the next round); when `cut`,
    checkpoint it instead so the plan stops growing. A reliable checkpoint when the session
    has a checkpoint directory, else a local one. `count=False`: persist only, the caller's
    next action computes it."""
    from pyspark import StorageLevel

    if cut:
        if df.sparkSession.sparkContext.getCheckpointDir():
            return df.checkpoint(eager=True)
        return df.localCheckpoint(eager=True)
    df = df.persist(StorageLevel.MEMORY_AND_DISK)
    if count:
        df.count()
    return df


def near_duplicates(signed, cfg: DedupConfig, higher_is_better: bool, phase: Phases, stats: dict):
    """(id, cluster_id) of near duplicates among `signed` (documents with a signature)."""
    from pyspark.sql import functions as F

    with phase("near: candidate edges"):
        stats["signed"] = signed.count()  # computes and caches the signed documents
        edges = _materialize(candidate_edges(signed), cut=False, count=False)
        stats["candidate_edges"] = edges.count()
    if cfg.verify:
        with phase("near: verify"):
            verified = _materialize(verify_edges(edges, signed, cfg.num_perm, cfg.threshold), cut=False, count=False)
            stats["verified_edges"] = verified.count()
        edges.unpersist()
        edges = verified
    with phase("near: connected components"):
        components, rounds = connected_components(edges, cfg.checkpoint_every, cfg.max_cc_rounds)
        edges.unpersist()
        stats["cc_rounds"] = rounds
    with phase("near: representatives"):
        members = components.union(components.select(F.col("root").alias("id"), "root")).distinct()
        members = members.join(signed.select("id", "quality"), "id")
        dups = _materialize(group_duplicates(members, "root", higher_is_better), cut=False, count=False)
        # Every component has >= 2 members, so exactly one representative with >= 1 duplicate:
        # counting the distinct cluster ids of the persisted duplicates both computes them and
        # counts the components, without recomputing the members' join.
        stats["components"] = dups.select("cluster_id").distinct().count()
    return dups


# ---------------------------------------------------------------- the job

def spark_defaults(local: bool) -> dict[str, str]:
    """Dedup is shuffles and joins over small columns, a dozen stages per CC round."""
    from pipelines.spark import job_defaults

    return job_defaults(local, partitions_per_core=4)


def run(spark, inputs: list[str], output: str, cfg: DedupConfig, overwrite: bool = False) -> dict:
    from pyspark.sql import functions as F

    cfg = cfg.resolved()
    out = StageOutput(output, config_json(cfg), overwrite)
    finished = out.finished_stats("dedup")
    if finished is not None:
        return finished
    out.begin([{"inputs": inputs}])
    for name in (STAGED_INPUT, "kept", "duplicates", "quarantine"):  # left by an interrupted run
        shutil.rmtree(out.subdir(name), ignore_errors=True)
    phase = Phases("dedup")
    near_stats: dict = {}

    with phase("read"):
        docs, text_col, quarantined = read_input(spark, inputs, cfg, out)
    quality_col, higher = cfg.quality(docs.columns)
    with phase("fingerprint"):
        fp = _materialize(fingerprint(docs, text_col, quality_col, cfg), cut=False, count=False)
        documents = count_documents(fp)  # also computes and caches fp

    found: dict[str, object] = {}  # phase -> (id, cluster_id) of the documents it removed
    rest = fp
    if cfg.url:
        with phase("url"):
            found["url"] = _materialize(group_duplicates(rest.where(F.col("url_key").isNotNull()), "url_key", higher), cut=False)
            rest = rest.join(found["url"].select("id"), "id", "left_anti")
    if cfg.exact:
        with phase("exact"):
            found["exact"] = _materialize(group_duplicates(rest, "text_key", higher), cut=False)
            rest = rest.join(found["exact"].select("id"), "id", "left_anti")
    if cfg.near:
        signed = _materialize(rest.where(F.col("signature").isNotNull()).select("id", "quality", "signature", "bands"),
                              cut=False, count=False)  # computed by near_duplicates' first count
        near_stats.update(signed=None, bands=cfg.bands, rows=cfg.rows)
        found["near"] = near_duplicates(signed, cfg, higher, phase, near_stats)

    with phase("write"):
        duplicates = _materialize(resolve_clusters(found), cut=False, count=False)  # computed by its write
        duplicates.write.mode("overwrite").option("compression", "zstd").parquet(out.subdir("duplicates"))
        kept = docs.join(duplicates.select("id"), "id", "left_anti").select(*docs.columns)
        kept.write.mode("overwrite").option("compression", "zstd").parquet(out.subdir("kept"))
        shutil.rmtree(out.subdir(STAGED_INPUT), ignore_errors=True)  # kept/ is written: no longer read

    with phase("summary"):
        summary = summarize(spark, out, duplicates, documents, quarantined, near_stats, inputs, quality_col, phase)
    fp.unpersist()
    out.commit(summary)
    print_summary(summary, out.path)
    return summary


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


def summarize(spark, out: StageOutput, duplicates, documents: int, quarantined: int, near_stats: dict,
              inputs: list[str], quality_col: str | None, phase: Phases) -> dict:
    """stats.json: the kept count read back from the written kept/ (its Parquet footers, on the
    driver: no Spark job, no data read), the duplicates' counts from the persisted DataFrame
    that duplicates/ was written from, in one aggregation; they must reconcile."""
    from pyspark.sql import functions as F

    kept = parquet_rows(out.subdir("kept"))
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
        "inputs": inputs,
        "phase_seconds": phase.seconds,
        "reconciles": documents == kept + removed,
    }
    if not stats["reconciles"]:
        raise RuntimeError(f"counts do not reconcile: {documents} documents != {kept} kept + {removed} duplicates")
    return stats


def parquet_rows(directory: str) -> int:
    """Rows of the Parquet part files Spark wrote in `directory`, from their footers."""
    return sum(pq.ParquetFile(os.path.join(directory, name)).metadata.num_rows
               for name in os.listdir(directory)
               if name.endswith(".parquet") and not name.startswith(("_", ".")))


def print_summary(s: dict, path: str) -> None:
    by = s["duplicates_by_phase"]
    print(f"[dedup] {s['input']} input -> {s['kept']} kept, {s['duplicates']} duplicates "
          f"(url {by['url']}, exact {by['exact']}, near {by['near']}), {s['quarantined']} quarantined; "
          f"output in {path}", file=sys.stderr)
    if s["near"]:
        n = s["near"]
        print(f"[dedup]   near: {n.get('bands')}x{n.get('rows')} bands, {n.get('candidate_edges')} candidate edges, "
              f"{n.get('verified_edges', '-')} verified, {n.get('cc_rounds')} CC rounds", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    from ziya.cli import main as cli_main

    return cli_main(["dedup", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
