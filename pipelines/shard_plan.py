"""Shard boundaries for `ziya pack`, on Spark: a parallel prefix sum over the small (source, id,
n_tokens) rows of every document, so one huge source is summed by many tasks, not one.

A document whose first token lies at offset o within its source (documents in id order) belongs
to shard key o // shard_tokens: boundaries depend on the data only, not on partitioning.
"""
from __future__ import annotations

import hashlib
import re

import numpy as np


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


