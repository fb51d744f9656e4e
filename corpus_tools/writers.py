"""Parquet part files written by whoever processes a split (a Spark task, a local loop).

Each unit of work writes its own part, named by the unit (`part-00007.parquet`), through
`storage.AtomicOutput`: a retried or speculative task replaces its part whole instead of adding a
second copy, two attempts never share a temporary name, and a reader never sees half a file, on
local disk and object stores alike.
"""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from corpus_tools import storage

ROW_GROUP_BYTES = 64 * 1024 * 1024  # buffer this much before writing a row group


class PartWriter:
    """Streams record batches into `<directory>/<part>.parquet` (zstd); no rows, no file."""

    def __init__(self, directory: str, part: str, schema: pa.Schema):
        self.path = storage.join(directory, f"{part}.parquet")
        self.schema = schema
        self._out: storage.AtomicOutput | None = None
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.RecordBatch] = []
        self._pending_bytes = 0
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        if not batch.num_rows:
            return
        batch = batch.select(self.schema.names)
        if not batch.schema.equals(self.schema):  # e.g. nullability as Spark hands columns over
            batch = batch.cast(self.schema)
        self._pending.append(batch)
        self._pending_bytes += batch.nbytes
        self.rows += batch.num_rows
        if self._pending_bytes >= ROW_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        if self._writer is None:
            self._out = storage.AtomicOutput(self.path)
            self._writer = pq.ParquetWriter(self._out.stream, self.schema, compression="zstd")
        self._writer.write_table(pa.Table.from_batches(self._pending, self.schema))
        self._pending, self._pending_bytes = [], 0

    def close(self) -> None:
        self._flush()
        if self._writer is not None:
            self._writer.close()
            self._out.commit()


def ensure_schema_file(directory: str, schema: pa.Schema) -> None:
    """An output with no rows still gets one empty file carrying its schema, so every output
    directory can be read (by Spark, pandas or the next stage)."""
    if not storage.parquet_parts(directory):
        out = storage.AtomicOutput(storage.join(directory, "part-empty.parquet"))
        pq.write_table(schema.empty_table(), out.stream, compression="zstd")
        out.commit()
