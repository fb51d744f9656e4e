"""`ziya pack`: tokenize documents and pack them into Megatron indexed-dataset shards, on Spark.

    ziya pack --input out/dedup --output out/pack [--tokenizer tokenizer.model] [--shard-tokens N]
    spark-submit ziya/cli.py pack --input ... --output ...   # the same job on a cluster

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
import json
import os
import sys
import tempfile

import numpy as np

from corpus_tools import config, storage
from corpus_tools.document import QUARANTINE_SCHEMA
from corpus_tools.readers import InputConfig
from corpus_tools.shards import EMPTY, MANIFEST, PackConfig, ShardWriter, encode_documents, resolved_config
from corpus_tools.tokenizer import Tokenizer, load_tokenizer
from corpus_tools.writers import ensure_schema_file
from pipelines.shard_plan import name_shards, plan_shards
from pipelines.stage import Run, StageInput, mark_part_done, part_done, read_unit, stage_input, unit_tasks
from pipelines.stages import PACK

run = PACK.run  # run(spark, inputs, output, cfg, overwrite=False) -> stats

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


def source_column(source: StageInput, cfg: PackConfig) -> str | None:
    """The column naming each document's source: raw input's is the contract's `source`; Parquet
    of a stage has the configured one, else `source`, else none (all `unknown`)."""
    if not source.contract:
        return "source"
    names = set(storage.parquet_schema(source.files[0]).names)
    return cfg.input.source_field if cfg.input.source_field in names else ("source" if "source" in names else None)


def tokenize(spark, units: list[dict], text_col: str, source_col: str | None, resolved: dict, cfg: PackConfig,
             spool_dir: str, quarantine_dir: str):
    """(source, id, n_tokens, spool, start) of every document. One task per unit reads its
    documents itself (the text never passes through the JVM), writes their token ids (with EOS,
    in the pack's dtype) to its own spool file and hands Spark only these small rows; records of
    raw input that do not parse go to quarantine/. n_tokens is 0 for an empty document."""
    model_path, sha256 = resolved["tokenizer"]["path"], resolved["tokenizer"]["sha256"]
    input_json, threads = config.dumps(cfg.input), cfg.encode_threads

    def tokenized(unit: dict):
        from pyspark import TaskContext

        tok = _tokenizer(model_path, sha256)
        # a retried task writes a spool of its own: the attempt is in the name
        name = f"{unit['part']}-{TaskContext.get().taskAttemptId()}.tokens"
        spool = storage.open_output(storage.join(spool_dir, name))
        written = 0
        for batch in read_documents(unit, text_col, source_col, input_json, quarantine_dir):
            tokens, lengths = encode_documents(tok, batch.column("text"), threads)
            spool.write(tokens.data)
            yield spooled_batch(batch, lengths, name, written)
            written += len(tokens)
        spool.close()

    return unit_tasks(spark, units, tokenized, SPOOLED_DDL)


def read_documents(unit: dict, text_col: str, source_col: str | None, input_json: str, quarantine_dir: str,
                   batch_rows: int = 2048):
    """The (source, id, text) batches of one unit; a null source reads as `unknown`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = None
    if "row_group" in unit:
        names = storage.parquet_schema(unit["path"]).names
        source_col = source_col if source_col in names else None
        columns = ["id", text_col] + ([source_col] if source_col else [])
    for batch in read_unit(unit, config.load(InputConfig, json.loads(input_json)), quarantine_dir, columns, with_meta=False,
                           batch_rows=batch_rows):
        ids, text = batch.column("id"), batch.column(text_col)
        source = (pc.fill_null(pc.cast(batch.column(source_col), pa.string()), UNKNOWN_SOURCE) if source_col
                  else pa.array([UNKNOWN_SOURCE] * len(ids), pa.string()))
        yield pa.RecordBatch.from_arrays([source, pc.cast(ids, pa.string()), text], names=["source", "id", "text"])


def spooled_batch(batch, lengths: np.ndarray, spool: str, written: int):
    """The small row of each document: where its tokens start in its task's spool (in tokens)."""
    import pyarrow as pa

    starts = written + np.cumsum(lengths) - lengths
    return pa.RecordBatch.from_arrays(
        [batch.column("source"), batch.column("id"), pa.array(lengths, pa.int64()),
         pa.array([spool] * len(lengths), pa.string()), pa.array(starts, pa.int64())],
        names=["source", "id", "n_tokens", "spool", "start"])


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


def write_shards(rows, shards: list[dict], dtype: str, out_dir: str, spool_dir: str, partitions: int):
    """Send each document's spool location to its shard, sort each shard by id, and stream it to
    disk, gathering the tokens from the spools; one (name, ShardInfo json) row per shard. A shard
    an interrupted run finished is not rewritten."""
    from pyspark.sql import functions as F

    placed = rows.where(F.col("n_tokens") > 0).mapInArrow(shard_column(shards), PLACED_DDL)
    ordered = placed.repartition(partitions, "shard").sortWithinPartitions("shard", "id")
    return ordered.mapInArrow(_shard_writer(dtype, out_dir, spool_dir), WRITTEN_DDL).collect()


def _shard_writer(dtype: str, out_dir: str, spool_dir: str):
    shards_dir = storage.join(out_dir, SHARDS)

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
    spool it has read (mapped spool pages would count against the worker until unmapped). Spools
    on an object store are read with one ranged read per document."""

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
        if not storage.is_local(self.spool_dir):
            return self._gather_ranges(spools, starts, sizes, tokens, view), lengths
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

    def _gather_ranges(self, spools: list[str], starts, sizes, tokens: np.ndarray, view) -> np.ndarray:
        files = {spool: storage.open_input(storage.join(self.spool_dir, spool)) for spool in set(spools)}
        at = 0
        try:
            for spool, start, size in zip(spools, starts.tolist(), sizes.tolist()):
                data = files[spool].read_at(size, start)
                if len(data) != size:
                    raise RuntimeError(f"spool {spool} ends before byte {start + size}")
                view[at:at + size] = data
                at += size
        finally:
            for f in files.values():
                f.close()
        return tokens


def _start(name: str, dtype: str, shards_dir: str, done_dir: str):
    if part_done(done_dir, name) is not None:
        return name, None
    return name, ShardWriter(storage.join(shards_dir, name), np.dtype(dtype))


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

def prepare(cfg: PackConfig) -> Tokenizer:
    """The tokenizer, loaded on the driver first: a missing or corrupt model fails before any work."""
    return load_tokenizer(cfg.tokenizer)


def identity(cfg: PackConfig, tokenizer: Tokenizer) -> str:
    """The config as saved and compared: the tokenizer pinned by path, hash and size."""
    return json.dumps(resolved_config(cfg, tokenizer), indent=2, sort_keys=True)


def spool_location(run: Run) -> str:
    """Where tokenize tasks spool their ids for the shard writers, which read them back from other
    tasks: inside the output when it is on local disk (a cluster then needs it on a shared mount,
    as every local path), on this machine's disk when the output is remote but Spark runs here in
    local mode (no round trip through the store), else in the output's store."""
    from pipelines.spark import is_local_master

    if storage.is_local(run.out.tmp) or not is_local_master(run.spark.sparkContext.master):
        return run.subdir(SPOOL)
    return tempfile.mkdtemp(prefix="ziya-pack-spool-")


def work(run: Run) -> dict:
    from pyspark import StorageLevel

    cfg, out, phase, tokenizer = run.cfg, run.out, run.phase, run.prepared
    resolved = resolved_config(cfg, tokenizer)
    run.begin([{"inputs": run.inputs}])
    for name in (QUARANTINE, SPOOL):  # left by an interrupted run; finished shards are kept
        storage.remove_tree(out.subdir(name))
    remove_partial_shards(out.subdir(SHARDS))

    with phase("plan"):
        source = stage_input(run.listing, cfg.input)
        source_col = source_column(source, cfg)
    spool_dir = spool_location(run)
    with phase("tokenize + assign"):
        rows = tokenize(run.spark, source.units, source.text_column, source_col, resolved, cfg, spool_dir,
                        out.subdir(QUARANTINE))
        rows = rows.persist(StorageLevel.MEMORY_AND_DISK)  # small rows; the spools they point at stay put
        per_source, shards = plan_shards(rows, cfg.shard_tokens)
        shards = name_shards(shards)
        quarantined = storage.parquet_rows(storage.parquet_parts(out.subdir(QUARANTINE)))
        if quarantined:
            ensure_schema_file(out.subdir(QUARANTINE), QUARANTINE_SCHEMA)
    with phase(f"write {len(shards)} shards"):
        written = {}
        if shards:
            partitions = min(len(shards), int(run.spark.conf.get("spark.sql.shuffle.partitions")))
            written = {r.name: json.loads(r.info)
                       for r in write_shards(rows, shards, resolved["dtype"], out.tmp, spool_dir, partitions)}
    rows.unpersist()
    storage.remove_tree(spool_dir)

    with phase("manifest"):
        manifest = build_manifest(shards, written, per_source, resolved)
        stats = build_stats(per_source, manifest, quarantined, run.resumed)
        storage.write_json(storage.join(out.tmp, MANIFEST), manifest)
    return stats


def remove_partial_shards(shards_dir: str) -> None:
    """Half-written shard files (`.tmp`) of a killed task; whole shards are kept or replaced."""
    for path, _ in storage.list_files(shards_dir):
        if path.endswith(".tmp"):
            storage.remove(path)


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


def build_stats(per_source: dict, manifest: dict, quarantined: int, resumed: int) -> dict:
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
        "resumed": bool(resumed),
        "reconciles": documents == packed + empty,
    }
    if not stats["reconciles"]:
        raise RuntimeError(f"counts do not reconcile: {documents} documents != {packed} packed + {empty} empty")
    return stats


def print_summary(stats: dict, path: str) -> None:
    manifest = storage.read_json(storage.join(path, MANIFEST))
    print(f"[pack] {stats['input']} input -> {stats['packed']} packed, {stats['dropped'][EMPTY]} empty, "
          f"{stats['quarantined']} quarantined; {stats['tokens']:,} tokens in {stats['shards']} shards "
          f"({manifest['dtype']}); output in {path}", file=sys.stderr)
    for source, s in manifest["sources"].items():
        print(f"[pack]   {source}: {s['documents']} documents, {s['tokens']:,} tokens, {s['shards']} shards", file=sys.stderr)
