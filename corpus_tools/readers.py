"""Readers: turn input files into document batches, quarantining what cannot be parsed.

Inputs are JSON Lines (`.jsonl`, `.json`, `.jsonl.gz`, `.jsonl.zst`) or Parquet. Work is
planned as `Split`s: a byte range of an uncompressed JSONL file, a whole compressed file
(compressed streams cannot be split), or a row-group range of a Parquet file. Every record
gets a stable id (its own, or `derive_id(file, offset)`), so ids do not depend on how the
files were split. Memory stays bounded: records stream in batches of `batch_rows`.
"""
from __future__ import annotations

import gzip
import io
import json
import logging
import os
from dataclasses import dataclass
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from corpus_tools.document import (
    DOCUMENT_SCHEMA,
    QUARANTINE_SCHEMA,
    RAW_PREFIX_CHARS,
    derive_id,
)

log = logging.getLogger(__name__)

JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
COMPRESSED_SUFFIXES = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}


@dataclass(frozen=True)
class InputConfig:
    """How input records map onto the document contract."""

    text_field: str = "text"
    id_field: str | None = "id"  # None, or absent in a record: the id is derived
    url_field: str | None = "url"
    source_field: str | None = "source"
    source: str | None = None  # the source name when records carry none; default: file stem
    batch_rows: int = 1024
    # Uncompressed JSONL larger than this is split. Cleaning runs at a few MB/s per core, so a
    # 32 MiB split is a task of ~10 s: small enough to balance cores, large enough to amortize.
    split_bytes: int = 32 * 1024 * 1024
    max_record_bytes: int = 64 * 1024 * 1024  # larger records are quarantined, not parsed


@dataclass(frozen=True)
class Split:
    path: str
    file_key: str  # path relative to the input root: part of derived ids, so keep it stable
    fmt: str  # "jsonl" or "parquet"
    compression: str | None = None
    start: int = 0  # byte offset (jsonl) or first row group (parquet)
    end: int = -1  # exclusive; -1 means to the end


@dataclass
class Batch:
    documents: pa.RecordBatch
    quarantine: pa.RecordBatch


class InputError(ValueError):
    """An input path that cannot be used at all (missing, unknown format)."""


# ---------------------------------------------------------------- planning

def list_input_files(paths: list[str]) -> list[tuple[str, str]]:
    """(path, file_key) for every input file under `paths`, sorted.

    Inside directories, hidden files, `_`-prefixed files (Spark's `_SUCCESS`) and files
    that are not data (README.md, ...) are skipped with a log line; a file named
    explicitly must be data."""
    found = []
    for root in paths:
        if os.path.isfile(root):
            found.append((root, os.path.basename(root)))
        elif os.path.isdir(root):
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
                for name in sorted(filenames):
                    if name.startswith((".", "_")):
                        continue
                    full = os.path.join(dirpath, name)
                    if not _is_data_file(name):
                        log.info("skipping non-data file %s", full)
                        continue
                    found.append((full, os.path.relpath(full, root)))
        else:
            raise InputError(f"input path does not exist: {root}")
    if not found:
        raise InputError(f"no input files under: {', '.join(paths)}")
    return sorted(found, key=lambda pk: pk[1])


def _is_data_file(name: str) -> bool:
    try:
        file_format(name)
        return True
    except InputError:
        return False


def file_format(path: str) -> tuple[str, str | None]:
    """("jsonl" | "parquet", compression) from the file name."""
    name = path.lower()
    compression = None
    for suffix, codec in COMPRESSED_SUFFIXES.items():
        if name.endswith(suffix):
            compression, name = codec, name[: -len(suffix)]
    if name.endswith(".parquet"):
        return "parquet", None
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl", compression
    raise InputError(f"unknown input format (expected .jsonl[.gz|.zst] or .parquet): {path}")


def plan_splits(paths: list[str], split_bytes: int = InputConfig.split_bytes) -> list[Split]:
    splits = []
    for path, key in list_input_files(paths):
        fmt, compression = file_format(path)
        if fmt == "parquet":
            splits.extend(_parquet_splits(path, key))
        elif compression is None and os.path.getsize(path) > split_bytes:
            size = os.path.getsize(path)
            splits.extend(
                Split(path, key, "jsonl", None, start, min(start + split_bytes, size))
                for start in range(0, size, split_bytes)
            )
        else:
            splits.append(Split(path, key, "jsonl", compression))
    return splits


def _parquet_splits(path: str, key: str) -> list[Split]:
    try:
        groups = pq.ParquetFile(path).num_row_groups
    except Exception:  # unreadable footer: one split, whose reader quarantines the file
        return [Split(path, key, "parquet")]
    return [Split(path, key, "parquet", None, g, g + 1) for g in range(groups)] or [
        Split(path, key, "parquet")
    ]


# ---------------------------------------------------------------- reading

class _BatchBuilder:
    """Collects documents and quarantine records and emits them as Arrow batches."""

    def __init__(self, split: Split, cfg: InputConfig, with_meta: bool = True):
        self.split, self.cfg, self.with_meta = split, cfg, with_meta
        self.default_source = cfg.source or os.path.basename(split.file_key).split(".")[0]
        self._docs: dict[str, list] = {f.name: [] for f in DOCUMENT_SCHEMA}
        self._bad: dict[str, list] = {f.name: [] for f in QUARANTINE_SCHEMA}

    def __len__(self) -> int:
        return len(self._docs["id"]) + len(self._bad["error"])

    def add_record(self, record: object, offset: int) -> str | None:
        """Add a parsed record as a document; return why it cannot be one, if it cannot."""
        cfg = self.cfg
        if not isinstance(record, dict):
            return "not_a_json_object"
        if record.get(cfg.text_field) is None:
            return f"missing_text_field: {cfg.text_field!r}"
        text = record[cfg.text_field]
        if not isinstance(text, str):
            return f"text_not_a_string: {type(text).__name__}"
        doc_id = record.get(cfg.id_field) if cfg.id_field else None
        doc_id = str(doc_id) if doc_id not in (None, "") else derive_id(self.split.file_key, offset)
        url = record.get(cfg.url_field) if cfg.url_field else None
        source = record.get(cfg.source_field) if cfg.source_field else None
        used = {cfg.text_field, cfg.id_field, cfg.url_field, cfg.source_field}
        meta = {k: v for k, v in record.items() if k not in used} if self.with_meta else None
        self._docs["id"].append(doc_id)
        self._docs["text"].append(text)
        self._docs["source"].append(str(source) if source is not None else self.default_source)
        self._docs["url"].append(str(url) if url is not None else None)
        self._docs["meta"].append(json.dumps(meta, ensure_ascii=False, default=str) if meta else None)
        return None

    def quarantine(self, offset: int, error: str, raw: str | bytes = "") -> None:
        if isinstance(raw, bytes):
            raw = raw[: RAW_PREFIX_CHARS * 4].decode("utf-8", errors="replace")
        self._bad["source"].append(self.cfg.source or self.default_source)
        self._bad["file"].append(self.split.file_key)
        self._bad["offset"].append(offset)
        self._bad["error"].append(error)
        self._bad["raw"].append(raw[:RAW_PREFIX_CHARS])

    def flush(self) -> Batch:
        batch = Batch(
            pa.RecordBatch.from_pydict(self._docs, schema=DOCUMENT_SCHEMA),
            pa.RecordBatch.from_pydict(self._bad, schema=QUARANTINE_SCHEMA),
        )
        for column in (*self._docs.values(), *self._bad.values()):
            column.clear()
        return batch


def read_split(split: Split, cfg: InputConfig = InputConfig(), with_meta: bool = True) -> Iterator[Batch]:
    """Stream a split as batches of documents and quarantine records. `with_meta=False` leaves
    `meta` (the record's other fields as JSON) null, for readers that only need the text."""
    builder = _BatchBuilder(split, cfg, with_meta)
    records = _jsonl_records(split, cfg, builder) if split.fmt == "jsonl" else _parquet_records(split, cfg, builder)
    for _ in records:
        if len(builder) >= cfg.batch_rows:
            yield builder.flush()
    if len(builder):
        yield builder.flush()


def _open_stream(split: Split) -> io.BufferedIOBase:
    raw = open(split.path, "rb")
    if split.compression == "gzip":
        return gzip.GzipFile(fileobj=raw)
    if split.compression == "zstd":
        return io.BufferedReader(_ZstdReader(raw), buffer_size=1 << 20)
    return raw


class _ZstdReader(io.RawIOBase):
    """Decompresses a (multi-frame) zstd stream and, unlike `stream_reader`, raises
    EOFError when the input ends inside a frame: a truncated file must not look complete."""

    def __init__(self, raw: io.BufferedIOBase, chunk: int = 1 << 20):
        self._raw, self._chunk = raw, chunk
        self._dctx = zstandard.ZstdDecompressor()
        self._obj = self._dctx.decompressobj()
        self._pending = b""
        self._in_frame = False

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        while not self._pending:
            data = self._raw.read(self._chunk)
            if not data:
                if self._in_frame:
                    raise EOFError("zstd stream ended inside a frame (truncated file)")
                return 0
            while data:
                self._in_frame = True
                self._pending += self._obj.decompress(data)
                if not self._obj.eof:
                    break
                self._in_frame = False
                data = self._obj.unused_data
                self._obj = self._dctx.decompressobj()
        n = min(len(buf), len(self._pending))
        buf[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def _jsonl_records(split: Split, cfg: InputConfig, out: _BatchBuilder) -> Iterator[None]:
    """Parse the lines whose first byte lies in [start, end) (Hadoop-style splits)."""
    with _open_stream(split) as stream:
        offset = split.start
        if split.start > 0:  # the line that straddles `start` belongs to the previous split
            stream.seek(split.start - 1)
            offset = split.start - 1 + len(stream.readline())
        while split.end < 0 or offset < split.end:
            try:
                line = stream.readline(cfg.max_record_bytes + 1)
            except (EOFError, OSError, zstandard.ZstdError) as exc:
                out.quarantine(offset, f"truncated_file: {type(exc).__name__}: {exc}")
                yield
                return
            if not line:
                return
            start, offset = offset, offset + len(line)
            if len(line) > cfg.max_record_bytes and not line.endswith(b"\n"):
                offset += _skip_rest_of_line(stream)
                out.quarantine(start, f"record_too_large: over {cfg.max_record_bytes} bytes", line[:RAW_PREFIX_CHARS])
                yield
                continue
            if not line.strip():
                continue  # blank lines are not records
            _parse_line(line, start, out)
            yield


def _skip_rest_of_line(stream: io.BufferedIOBase) -> int:
    skipped = 0
    while True:
        chunk = stream.readline(1 << 20)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped


def _parse_line(line: bytes, offset: int, out: _BatchBuilder) -> None:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return out.quarantine(offset, f"invalid_utf8: {exc.reason} at byte {exc.start}", line)
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        return out.quarantine(offset, f"malformed_json: {exc.msg} at char {exc.pos}", text)
    error = out.add_record(record, offset)
    if error:
        out.quarantine(offset, error, text)


def _parquet_records(split: Split, cfg: InputConfig, out: _BatchBuilder) -> Iterator[None]:
    try:
        pf = pq.ParquetFile(split.path)
        groups = range(split.start, split.end if split.end >= 0 else pf.num_row_groups)
        row = sum(pf.metadata.row_group(g).num_rows for g in range(groups.start))
        for batch in pf.iter_batches(batch_size=cfg.batch_rows, row_groups=list(groups)):
            for record in batch.to_pylist():
                error = out.add_record(record, row)
                if error:
                    out.quarantine(row, error, _preview(record))
                row += 1
                yield
    except (pa.ArrowException, OSError) as exc:
        out.quarantine(split.start, f"unreadable_parquet: {type(exc).__name__}: {exc}")
        yield


def _preview(record: dict) -> str:
    try:
        return json.dumps(record, ensure_ascii=False, default=str)[:RAW_PREFIX_CHARS]
    except (TypeError, ValueError):
        return repr(record)[:RAW_PREFIX_CHARS]
