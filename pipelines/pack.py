"""`ziya pack`: tokenize documents and pack them into Megatron indexed-dataset shards, on Spark.

    ziya pack --input out/dedup --output out/pack [--tokenizer tokenizer.model] [--shard-tokens N]
    spark-submit pipelines/pack.py --input ... --output ...   # the same job on a cluster

Phases, each a function over DataFrames:
  tokenizer  load and check the model on the driver: a missing or corrupt file fails here,
             before any Spark work
  plan       one unit of work per row group of a stage's Parquet output (its kept/), or per
             split of raw JSONL/Parquet
  tokenize   one task per unit reads its documents itself (pyarrow, or corpus_tools.readers for raw
             input, whose bad records go to quarantine/), so the text never passes through the
             JVM, and encodes them in batches (SentencePiece through the word cache,
             corpus_tools.word_cache), EOS appended to every document; it streams the ids (uint16
             or int32) to its own spool file and hands Spark only a small row per document
             (source, id, n_tokens, spool, start), persisted
  assign     shard boundaries: per source, documents in id order; a document whose first token
             falls at offset o of its source goes to shard o // shard_tokens (a prefix sum over
             the small (source, id, tokens) rows, range-partitioned so even one huge source is
             summed in parallel; it also counts empty documents and checks ids are unique within
             a source); each shard's first id and counts come back to the driver
  write      the small rows shuffled to their (source, shard), sorted by id; one task per shard
             gathers the documents' ids from the spools (pread) and streams them to
             PREFIX.bin/.idx (corpus_tools.shards.ShardWriter). Tokens never cross into the JVM.
  manifest   manifest.json (every shard with its counts, sizes and sha256; totals per source; the
             tokenizer; the config), stats.json, committed atomically

Shards hold one source each (so a blend can weight sources) and never split a document: a shard
has fewer than shard_tokens tokens before its last document, the one that crosses the limit (a
document longer than shard_tokens makes its shard that much larger; the next document starts a
new shard). GPTDataset builds samples across document boundaries, so nothing is lost by not
splitting. Shard contents and names depend only on the
documents and the config, not on the input's partitioning or spark.sql.shuffle.partitions.
Nothing is lost: input = packed + empty + quarantined, checked before the output commits.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import sys

import numpy as np

from corpus_tools.document import QUARANTINE_SCHEMA
from corpus_tools.readers import InputConfig, Split, list_input_files, read_split
from corpus_tools.shards import EMPTY, MANIFEST, PackConfig, ShardWriter, encode_documents, resolved_config
from corpus_tools.tokenizer import Tokenizer, load_tokenizer
from corpus_tools.writers import PartWriter, ensure_schema_file
from pipelines.stage import (Phases, StageOutput, contract_parquet, mark_part_done, part_done, plan_parts,
                             resolve_stage_inputs, unit_tasks)

SPOOLED_DDL = "source string, id string, n_tokens long, spool string, start long"
PLACED_DDL = "shard string, id string, n_tokens long, spool string, start long"
WRITTEN_DDL = "name string, info string"
SHARDS = "shards"
SPOOL = "token_spool"  # each tokenize task's token ids, removed before commit (no "_": Spark would skip it)
UNKNOWN_SOURCE = "unknown"  # documents whose source is null
QUARANTINE = "quarantine"  # records of raw input that did not parse, with the reason


# ---------------------------------------------------------------- tokenize

@functools.lru_cache(maxsize=2)
def _tokenizer(model_path: str, sha256: str) -> Tokenizer:
    """One loaded model per Python worker process; the hash guards against a file changed under us."""
    tok = load_tokenizer(model_path)
    if tok.sha256 != sha256:
        raise RuntimeError(f"{model_path} changed while packing (sha256 {tok.sha256} != {sha256})")
    return tok


def plan_input(inputs: list[str], cfg: PackConfig) -> tuple[list[dict], str, str | None]:
    """(units of tokenize work, text column, source column). Parquet that follows the document
    contract (a stage's kept/) gives one unit per row group, read as is; raw JSONL/Parquet one unit
    per split, parsed by corpus_tools.readers as `ziya clean` parses it."""
    import pyarrow.parquet as pq

    paths = resolve_stage_inputs(inputs)
    files = [path for path, _ in list_input_files(paths)]
    text = cfg.input.text_field
    if not contract_parquet(files, text):
        return plan_parts(paths, cfg.input.split_bytes), "text", "source"
    groups = [(f, g) for f in files for g in range(pq.ParquetFile(f).num_row_groups)]
    units = [{"part": f"part-{i:05d}", "path": path, "row_group": g} for i, (path, g) in enumerate(groups)]
    names = set(pq.read_schema(files[0]).names)
    source = cfg.input.source_field if cfg.input.source_field in names else ("source" if "source" in names else None)
    return units, text, source


def tokenize(spark, units: list[dict], text_col: str, source_col: str | None, resolved: dict, cfg: PackConfig,
             out_dir: str):
    """(source, id, n_tokens, spool, start) of every document. One task per unit reads its
    documents itself (the text never passes through the JVM), writes their token ids (with EOS,
    in the pack's dtype) to its own spool file and hands Spark only these small rows; records of
    raw input that do not parse go to quarantine/. n_tokens is 0 for an empty document."""
    model_path, sha256 = resolved["tokenizer"]["path"], resolved["tokenizer"]["sha256"]
    input_json, threads = json.dumps(cfg.input.__dict__), cfg.encode_threads
    spool_dir, quarantine_dir = os.path.join(out_dir, SPOOL), os.path.join(out_dir, QUARANTINE)

    def tokenized(unit: dict):
        from pyspark import TaskContext

        tok = _tokenizer(model_path, sha256)
        # a retried task writes a spool of its own: the attempt is in the name
        name = f"{unit['part']}-{TaskContext.get().taskAttemptId()}.tokens"
        os.makedirs(spool_dir, exist_ok=True)
        with open(os.path.join(spool_dir, name), "wb") as spool:
            written = 0
            for batch in read_documents(unit, text_col, source_col, input_json, quarantine_dir):
                tokens, lengths = encode_documents(tok, batch.column("text"), threads)
                spool.write(tokens.data)
                yield spooled_batch(batch, lengths, name, written)
                written += len(tokens)

    if not units:
        return spark.createDataFrame([], SPOOLED_DDL)
    return unit_tasks(spark, units, tokenized, SPOOLED_DDL)


def read_documents(unit: dict, text_col: str, source_col: str | None, input_json: str, quarantine_dir: str,
                   batch_rows: int = 2048):
    """The (source, id, text) batches of one unit; a null source reads as `unknown`."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    def documents(source, ids, text):
        source = (pc.fill_null(pc.cast(source, pa.string()), UNKNOWN_SOURCE) if source is not None
                  else pa.array([UNKNOWN_SOURCE] * len(ids), pa.string()))
        return pa.RecordBatch.from_arrays([source, pc.cast(ids, pa.string()), text], names=["source", "id", "text"])

    if "row_group" not in unit:  # a split of raw input
        split = {k: v for k, v in unit.items() if k != "part"}
        bad = PartWriter(quarantine_dir, unit["part"], QUARANTINE_SCHEMA)
        for b in read_split(Split(**split), InputConfig(**json.loads(input_json)), with_meta=False):
            bad.write(b.quarantine)
            d = b.documents
            yield documents(d.column("source"), d.column("id"), d.column("text"))
        bad.close()
        return
    parquet = pq.ParquetFile(unit["path"])
    source_col = source_col if source_col in parquet.schema_arrow.names else None
    columns = ["id", text_col] + ([source_col] if source_col else [])
    for batch in parquet.iter_batches(batch_size=batch_rows, row_groups=[unit["row_group"]], columns=columns):
        yield documents(batch.column(source_col) if source_col else None, batch.column("id"), batch.column(text_col))


def quarantined_records(quarantine_dir: str) -> int:
    """Records of raw input that did not parse, from the quarantine parts' footers."""
    import pyarrow.parquet as pq

    if not os.path.isdir(quarantine_dir):
        return 0
    return sum(pq.ParquetFile(os.path.join(quarantine_dir, f)).metadata.num_rows
               for f in os.listdir(quarantine_dir) if f.endswith(".parquet") and not f.startswith("."))


def spooled_batch(batch, lengths: np.ndarray, spool: str, written: int):
    """The small row of each document: where its tokens start in its task's spool (in tokens)."""
    import pyarrow as pa

    starts = written + np.cumsum(lengths) - lengths
    return pa.RecordBatch.from_arrays(
        [batch.column("source"), batch.column("id"), pa.array(lengths, pa.int64()),
         pa.array([spool] * len(lengths), pa.string()), pa.array(starts, pa.int64())],
        names=["source", "id", "n_tokens", "spool", "start"])


# ---------------------------------------------------------------- count and assign

KEYED_DDL = "source string, id string, n_tokens long, key long, repeated long"


def plan_shards(tok, shard_tokens: int) -> tuple[dict[str, dict], list[dict]]:
    """({source: {documents, empty, tokens}}, every shard as {source, key, first_id, documents,
    tokens} sorted by (source, key)), from the small (source, id, n_tokens) rows, which this also
    computes (they are persisted by the caller).

    A document whose first token lies at offset o within its source (documents in id order)
    belongs to shard key o // shard_tokens: boundaries depend on the data only. The offsets are a
    prefix sum computed in parallel, however large a source: the rows are range-partitioned by
    (source, id) and sorted, each partition's run of a source (a segment) is summed, the driver
    turns the segments' sums into each segment's starting offset, and a second pass adds the
    running sum within the segment. Empty documents get no key (their group counts them). The
    same passes find ids repeated within a source, which would make the order (and so the shards)
    ambiguous (equal (source, id) keys always land in the same partition)."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    ranged = (tok.select("source", "id", "n_tokens").repartitionByRange("source", "id")
              .sortWithinPartitions("source", "id").persist(StorageLevel.MEMORY_AND_DISK))
    segments = (ranged.groupBy(F.spark_partition_id().alias("part"), "source")
                .agg(F.min("id").alias("first_id"), F.max("id").alias("last_id"), F.sum("n_tokens").alias("tokens"))
                .collect())
    keyed = ranged.mapInArrow(_keyed(segment_starts(segments), shard_tokens), KEYED_DDL)
    rows = keyed.groupBy("source", "key").agg(
        F.min("id").alias("first_id"), F.count(F.lit(1)).alias("documents"), F.sum("n_tokens").alias("tokens"),
        F.sum("repeated").alias("repeated")).collect()
    ranged.unpersist()
    repeated = {r.source for r in rows if r.repeated}
    if repeated:
        raise repeated_ids(repeated)
    per_source: dict[str, dict] = {}
    for r in rows:
        counts = per_source.setdefault(r.source, {"documents": 0, "empty": 0, "tokens": 0})
        counts["documents"] += r.documents
        counts["empty"] += r.documents if r.key is None else 0
        counts["tokens"] += r.tokens or 0
    shards = sorted(({k: v for k, v in r.asDict().items() if k != "repeated"} for r in rows if r.key is not None),
                    key=lambda r: (r["source"], r["key"]))
    return per_source, shards


def _source_runs(batch):
    """(source, start, end) of each run of one source in a batch sorted by (source, id)."""
    if batch.num_rows == 0:
        return []
    sources = batch.column("source").to_numpy(zero_copy_only=False)
    cuts = np.flatnonzero(sources[1:] != sources[:-1]) + 1
    bounds = np.r_[0, cuts, len(sources)]
    return [(sources[a], int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def segment_starts(segments) -> dict[tuple[str, str], int]:
    """{(source, segment's first id): tokens of that source before the segment}, from each
    segment's (source, first_id, last_id, tokens). Equal (source, id) keys share a partition, so
    segments of a source never overlap; one that did would mean the ids are not unique."""
    by_source: dict[str, list] = {}
    for s in segments:
        by_source.setdefault(s.source, []).append(s)
    starts = {}
    for source, segs in by_source.items():
        segs.sort(key=lambda s: s.first_id)  # Python orders str as Spark orders strings (by code point)
        offset = 0
        for i, s in enumerate(segs):
            if i and segs[i - 1].last_id >= s.first_id:
                raise repeated_ids({source})
            starts[(source, s.first_id)] = offset
            offset += s.tokens
    return starts


def repeated_ids(sources: set[str]) -> ValueError:
    return ValueError(f"document ids must be unique within a source; sources with repeated ids: {sorted(sources)}")


def _keyed(starts: dict[tuple[str, str], int], shard_tokens: int):
    """A mapInArrow function giving each document its shard key, (the tokens of its source before
    its segment + the running sum inside it) // shard_tokens, null for an empty document, and
    `repeated` = 1 where its id equals the previous document's."""

    def keyed(batches):
        import pyarrow as pa

        offset, last = {}, {}  # source -> tokens before its next row in this partition; its last id
        for batch in batches:
            ids = batch.column("id").to_numpy(zero_copy_only=False)
            tokens = batch.column("n_tokens").to_numpy()
            keys = np.empty(len(tokens), dtype=np.int64)
            repeated = np.zeros(len(tokens), dtype=np.int64)
            for source, a, b in _source_runs(batch):
                base = offset[source] if source in offset else starts[(source, ids[a])]
                keys[a:b] = (base + np.cumsum(tokens[a:b]) - tokens[a:b]) // shard_tokens
                offset[source] = base + int(tokens[a:b].sum())
                repeated[a + 1:b] = ids[a + 1:b] == ids[a:b - 1]
                repeated[a] = last.get(source) == ids[a]  # the run goes on from the previous batch
                last[source] = ids[b - 1]
            yield pa.RecordBatch.from_arrays(
                [batch.column("source"), batch.column("id"), batch.column("n_tokens"),
                 pa.array(keys, pa.int64(), mask=tokens == 0), pa.array(repeated)],
                names=["source", "id", "n_tokens", "key", "repeated"])
    return keyed


def name_shards(shards: list[dict]) -> list[dict]:
    """Give each shard its file name: `<source>-<k>`, k counting that source's shards from 0 (dense:
    a document longer than shard_tokens skips keys), the source made safe for a file name."""
    safe = {}
    for source in sorted({s["source"] for s in shards}):
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", source) or "_"
        if name != source:  # keep two sources that clean to the same name apart
            name += "-" + hashlib.blake2b(source.encode(), digest_size=4).hexdigest()
        safe[source] = name
    index: dict[str, int] = {}
    for s in shards:
        k = index.get(s["source"], 0)
        index[s["source"]] = k + 1
        s["name"] = f"{safe[s['source']]}-{k:05d}"
    return shards


# ---------------------------------------------------------------- write

def shard_column(shards: list[dict]):
    """A mapInArrow function adding each document's shard name: the last shard of its source
    whose first id is <= the document's id (a binary search over the small boundary list)."""
    by_source: dict[str, tuple[list, list]] = {}
    for s in shards:
        firsts, names = by_source.setdefault(s["source"], ([], []))
        firsts.append(s["first_id"])
        names.append(s["name"])
    bounds = {src: (np.array(firsts, dtype=object), np.array(names, dtype=object))
              for src, (firsts, names) in by_source.items()}

    def with_shard(batches):
        import pyarrow as pa

        for batch in batches:
            sources = batch.column("source").to_numpy(zero_copy_only=False)
            ids = batch.column("id").to_numpy(zero_copy_only=False)
            names = np.empty(len(ids), dtype=object)
            for src in set(sources):
                rows = sources == src
                firsts, shard_names = bounds[src]
                names[rows] = shard_names[np.searchsorted(firsts, ids[rows], side="right") - 1]
            yield pa.RecordBatch.from_arrays(
                [pa.array(names, pa.string()), *(batch.column(c) for c in ("id", "n_tokens", "spool", "start"))],
                names=["shard", "id", "n_tokens", "spool", "start"])
    return with_shard


def write_shards(rows, shards: list[dict], dtype: str, out_dir: str, partitions: int):
    """Send each document's spool location to its shard, sort each shard by id, and stream it to
    disk, gathering the tokens from the spools; one (name, ShardInfo json) row per shard. A shard
    an interrupted run finished is not rewritten."""
    from pyspark.sql import functions as F

    placed = rows.where(F.col("n_tokens") > 0).mapInArrow(shard_column(shards), PLACED_DDL)
    ordered = placed.repartition(partitions, "shard").sortWithinPartitions("shard", "id")
    return ordered.mapInArrow(_shard_writer(dtype, out_dir), WRITTEN_DDL).collect()


def _shard_writer(dtype: str, out_dir: str):
    shards_dir, spool_dir = os.path.join(out_dir, SHARDS), os.path.join(out_dir, SPOOL)

    def write(batches):
        spools = SpoolReader(spool_dir, dtype)
        current = None  # (name, ShardWriter or None when an earlier run finished it)
        for batch in batches:
            names = batch.column("shard").to_numpy(zero_copy_only=False)
            starts = np.flatnonzero(np.r_[True, names[1:] != names[:-1]])
            for start, end in zip(starts, np.r_[starts[1:], len(names)]):
                if current is None or current[0] != names[start]:
                    if current is not None:
                        yield _finish(current, out_dir)
                    current = _start(names[start], dtype, shards_dir, out_dir)
                if current[1] is not None:
                    current[1].add_documents(*spools.gather(batch.slice(start, end - start)))
        if current is not None:
            yield _finish(current, out_dir)
    return write


class SpoolReader:
    """Token ids of documents from the tokenize tasks' spool files, read with pread into one
    buffer per batch: nothing is memory-mapped, so a writer's memory is its batch, however much
    spool it has read (mapped spool pages would count against the worker until unmapped)."""

    def __init__(self, spool_dir: str, dtype: str):
        self.spool_dir, self.dtype = spool_dir, np.dtype(dtype)

    def gather(self, batch) -> tuple[np.ndarray, np.ndarray]:
        """(the documents' tokens concatenated in row order, tokens per document)."""
        spools = batch.column("spool").to_pylist()
        starts = batch.column("start").to_numpy() * self.dtype.itemsize
        lengths = batch.column("n_tokens").to_numpy()
        sizes = lengths * self.dtype.itemsize
        tokens = np.empty(int(lengths.sum()), dtype=self.dtype)
        view, at = memoryview(tokens).cast("B"), 0
        files = {spool: os.open(os.path.join(self.spool_dir, spool), os.O_RDONLY) for spool in set(spools)}
        try:
            for spool, start, size in zip(spools, starts.tolist(), sizes.tolist()):
                if os.preadv(files[spool], [view[at:at + size]], start) != size:
                    raise RuntimeError(f"spool {spool} ends before byte {start + size}")
                at += size
        finally:
            for fd in files.values():
                os.close(fd)
        return tokens, lengths


def _start(name: str, dtype: str, shards_dir: str, done_dir: str):
    if part_done(done_dir, name) is not None:
        return name, None
    return name, ShardWriter(os.path.join(shards_dir, name), np.dtype(dtype))


def _finish(current, done_dir: str):
    import pyarrow as pa

    name, writer = current
    if writer is None:
        info = part_done(done_dir, name)
    else:
        info = writer.close().to_dict()
        mark_part_done(done_dir, name, info)
    return pa.RecordBatch.from_pydict({"name": [name], "info": [json.dumps(info)]})


# ---------------------------------------------------------------- the job

def remove_partial_shards(shards_dir: str) -> None:
    """Half-written shard files (`.tmp`) of a killed task; whole shards are kept or replaced."""
    if os.path.isdir(shards_dir):
        for name in os.listdir(shards_dir):
            if name.endswith(".tmp"):
                os.remove(os.path.join(shards_dir, name))


def load_checked_tokenizer(cfg: PackConfig) -> Tokenizer:
    """The tokenizer, loaded on the driver first: a bad model fails before any Spark work."""
    return load_tokenizer(cfg.tokenizer)


def spark_defaults(local: bool) -> dict[str, str]:
    """The shuffles (per-source running sums, documents to their shard) are small on one machine.
    No adaptive execution: the write phase sizes its partitions from spark.sql.shuffle.partitions."""
    from pipelines.spark import job_defaults

    return job_defaults(local, partitions_per_core=4, adaptive=False)


def run(spark, inputs: list[str], output: str, cfg: PackConfig, overwrite: bool = False) -> dict:
    from pyspark import StorageLevel


    phase = Phases("pack")
    with phase("tokenizer"):
        tokenizer = load_checked_tokenizer(cfg)
    resolved = resolved_config(cfg, tokenizer)
    out = StageOutput(output, json.dumps(resolved, indent=2, sort_keys=True), overwrite)
    finished = out.finished_stats("pack")
    if finished is not None:
        return finished
    resumed = out.begin([{"inputs": inputs}])
    for name in (QUARANTINE, SPOOL):  # left by an interrupted run; finished shards are kept
        shutil.rmtree(out.subdir(name), ignore_errors=True)
    remove_partial_shards(out.subdir(SHARDS))

    with phase("plan"):
        units, text_col, source_col = plan_input(inputs, cfg)
    with phase("tokenize + assign"):
        rows = tokenize(spark, units, text_col, source_col, resolved, cfg, out.tmp)
        rows = rows.persist(StorageLevel.MEMORY_AND_DISK)  # small rows; the spools they point at stay put
        per_source, shards = plan_shards(rows, cfg.shard_tokens)
        shards = name_shards(shards)
        quarantined = quarantined_records(out.subdir(QUARANTINE))
        if quarantined:
            ensure_schema_file(out.subdir(QUARANTINE), QUARANTINE_SCHEMA)
    with phase(f"write {len(shards)} shards"):
        written = {}
        if shards:
            partitions = min(len(shards), int(spark.conf.get("spark.sql.shuffle.partitions")))
            written = {r.name: json.loads(r.info)
                       for r in write_shards(rows, shards, resolved["dtype"], out.tmp, partitions)}
    rows.unpersist()
    shutil.rmtree(out.subdir(SPOOL), ignore_errors=True)

    with phase("manifest"):
        manifest = build_manifest(shards, written, per_source, resolved)
        stats = build_stats(per_source, manifest, quarantined, inputs, resumed, phase.seconds)
        with open(os.path.join(out.tmp, MANIFEST), "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2, sort_keys=True, ensure_ascii=False)
    out.commit(stats)
    print_summary(stats, manifest, out.path)
    return stats


def build_manifest(shards: list[dict], written: dict[str, dict], per_source: dict, resolved: dict) -> dict:
    """manifest.json: each shard as written, checked against what the assignment planned."""
    entries = []
    for s in shards:
        info = written.get(s["name"])
        if info is None:
            raise RuntimeError(f"shard {s['name']} was planned but not written")
        if (info["documents"], info["tokens"]) != (s["documents"], s["tokens"]):
            raise RuntimeError(f"shard {s['name']}: wrote {info['documents']} documents / {info['tokens']} tokens, "
                               f"planned {s['documents']} / {s['tokens']}")
        entries.append({"prefix": f"{SHARDS}/{s['name']}", "source": s["source"], "first_id": s["first_id"], **info})
    sources = {}
    for source in sorted(per_source):
        mine = [e for e in entries if e["source"] == source]
        sources[source] = {"shards": len(mine), "documents": sum(e["documents"] for e in mine),
                           "tokens": sum(e["tokens"] for e in mine)}
    return {
        "format": "megatron-core indexed dataset (.bin/.idx, version 1), one sequence per document, EOS-terminated",
        "tokenizer": resolved["tokenizer"],
        "dtype": resolved["dtype"],
        "shards": entries,
        "sources": sources,
        "totals": {"shards": len(entries), "documents": sum(e["documents"] for e in entries),
                   "tokens": sum(e["tokens"] for e in entries),
                   "bytes": sum(e["bin_bytes"] + e["idx_bytes"] for e in entries)},
        "config": resolved,
    }


def build_stats(per_source: dict, manifest: dict, quarantined: int, inputs: list[str], resumed: int, seconds: dict) -> dict:
    documents = sum(s["documents"] for s in per_source.values())
    empty = sum(s["empty"] for s in per_source.values())
    packed = manifest["totals"]["documents"]
    stats = {
        "input": documents + quarantined,
        "documents": documents,
        "packed": packed,
        "dropped": {EMPTY: empty},
        "quarantined": quarantined,
        "tokens": manifest["totals"]["tokens"],
        "shards": manifest["totals"]["shards"],
        "per_source": {src: {**counts, "packed": manifest["sources"][src]["documents"]} for src, counts in per_source.items()},
        "inputs": inputs,
        "resumed": bool(resumed),
        "phase_seconds": seconds,
        "reconciles": documents == packed + empty,
    }
    if not stats["reconciles"]:
        raise RuntimeError(f"counts do not reconcile: {documents} documents != {packed} packed + {empty} empty")
    return stats


def print_summary(stats: dict, manifest: dict, path: str) -> None:
    print(f"[pack] {stats['input']} input -> {stats['packed']} packed, {stats['dropped'][EMPTY]} empty, "
          f"{stats['quarantined']} quarantined; {stats['tokens']:,} tokens in {stats['shards']} shards "
          f"({manifest['dtype']}); output in {path}", file=sys.stderr)
    for source, s in manifest["sources"].items():
        print(f"[pack]   {source}: {s['documents']} documents, {s['tokens']:,} tokens, {s['shards']} shards", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    from ziya.cli import main as cli_main

    return cli_main(["pack", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
