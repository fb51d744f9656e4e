"""Parquet part files written by whoever processes a split (a Spark task, a local loop).

Each unit of work writes its own part, named by the unit (`part-00007.parquet`), first to a
hidden temporary name and then renamed: a retried or speculative task replaces its part
whole instead of adding a second copy, and a reader never sees half a file.
"""
from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP_BYTES = 64 * 1024 * 1024  # buffer this much before writing a row group


class PartWriter:
    """Streams record batches into `<directory>/<part>.parquet` (zstd); no rows, no file."""

    def __init__(self, directory: str, part: str, schema: pa.Schema):
        self.path = os.path.join(directory, f"{part}.parquet")
        self.tmp = os.path.join(directory, f".{part}.parquet.tmp")
        self.schema = schema
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.RecordBatch] = []
        self._pending_bytes = 0
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        if not batch.num_rows:
            return
        self._pending.append(batch.select(self.schema.names))
        self._pending_bytes += batch.nbytes
        self.rows += batch.num_rows
        if self._pending_bytes >= ROW_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        if self._writer is None:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            self._writer = pq.ParquetWriter(self.tmp, self.schema, compression="zstd")
        self._writer.write_table(pa.Table.from_batches(self._pending, self.schema))
        self._pending, self._pending_bytes = [], 0

    def close(self) -> None:
        self._flush()
        if self._writer is not None:
            self._writer.close()
            os.replace(self.tmp, self.path)


def ensure_schema_file(directory: str, schema: pa.Schema) -> None:
    """An output with no rows still gets one empty file carrying its schema, so every output
    directory can be read (by Spark, pandas or the next stage)."""
    os.makedirs(directory, exist_ok=True)
    if not any(name.endswith(".parquet") and not name.startswith(".") for name in os.listdir(directory)):
        pq.write_table(schema.empty_table(), os.path.join(directory, "part-empty.parquet"), compression="zstd")
