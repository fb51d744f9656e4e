"""Readers: turn input files into document batches, quarantining what cannot be parsed.

Inputs are JSON Lines (`.jsonl`, `.json`, `.jsonl.gz`, `.jsonl.zst`), Parquet, or web crawls
(`.warc`, `.warc.gz`, `.warc.wet.gz`: corpus_tools.warc), and `*.paths(.gz)` listings of crawl
files (Common Crawl's `warc.paths.gz`). Work is planned as `Split`s: a byte range of an
uncompressed JSONL file or of a per-record-gzipped WARC, a whole compressed file (compressed
streams cannot be split), or a row-group range of a Parquet file. Every record
gets a stable id (its own, or `derive_id(file, offset)`), so ids do not depend on how the
files were split. Memory stays bounded: records stream in batches of `batch_rows`.
"""
from __future__ import annotations

import gzip
import io
import json
import logging
import os
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterator

import pyarrow as pa
import pyarrow.fs as pafs
import zstandard

from corpus_tools import storage
from corpus_tools.config import PositiveInt
from corpus_tools.warc import WebConfig, is_warc, read_warc, warc_ranges
from corpus_tools.document import (
    DOCUMENT_SCHEMA,
    QUARANTINE_SCHEMA,
    RAW_PREFIX_CHARS,
    derive_id,
)

log = logging.getLogger(__name__)

JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
LISTING_SUFFIXES = (".paths", ".paths.txt")  # one crawl file a line, as Common Crawl's warc.paths.gz
COMPRESSED_SUFFIXES = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}
# Python's JSON parser recurses per level (~1,000 at most): deeper records are quarantined as this.
NESTED_TOO_DEEP = "nested_too_deep: more levels of arrays and objects than the JSON parser allows"


@dataclass(frozen=True)
class InputConfig:
    """How input records map onto the document contract."""

    text_field: str = "text"
    id_field: str | None = "id"  # None, or absent in a record: the id is derived
    url_field: str | None = "url"
    source_field: str | None = "source"
    source: str | None = None  # the source name when records carry none; default: file stem
    batch_rows: PositiveInt = 1024
    # Uncompressed JSONL larger than this is split. Cleaning runs at a few MB/s per core, so a
    # 32 MiB split is a task of ~10 s: small enough to balance cores, large enough to amortize.
    split_bytes: PositiveInt = 32 * 1024 * 1024
    max_record_bytes: PositiveInt = 64 * 1024 * 1024  # larger records are quarantined, not parsed
    web: WebConfig = field(default_factory=WebConfig)  # WARC/WET input: extraction, listings


@dataclass(frozen=True)
class Split:
    path: str
    file_key: str  # path relative to the input root: part of derived ids, so keep it stable
    fmt: str  # "jsonl", "parquet" or "warc"
    compression: str | None = None
    start: int = 0  # byte offset (jsonl) or first row group (parquet)
    end: int = -1  # exclusive; -1 means to the end


@dataclass
class Batch:
    documents: pa.RecordBatch
    quarantine: pa.RecordBatch
    skipped: Counter = field(default_factory=Counter)  # records that are not documents, by reason (WARC)


class InputError(storage.StorageError):
    """An input path that cannot be used at all (missing, unknown format)."""


# ---------------------------------------------------------------- planning

def list_input_files(paths: list[str]) -> list[tuple[str, str]]:
    """(path, file_key) for every input file under `paths` (local or object store), sorted.

    Inside directories, hidden files, `_`-prefixed files and folders (Spark's `_SUCCESS`) and
    files that are not data (README.md, ...) are skipped with a log line; a file named
    explicitly must be data."""
    return [(f.path, f.key) for f in input_files(paths)]


@dataclass(frozen=True)
class InputFile:
    path: str  # resolved: absolute local path or scheme://bucket/key
    key: str  # relative to the input root it was found under
    size: int


def input_files(paths: list[str], paths_root: str | None = None) -> list[InputFile]:
    """Every input file under `paths`, as `list_input_files` describes, with its size; a listing
    (`*.paths(.gz)`) stands for the files it names (`listed_files`)."""
    found = []
    for root in map(storage.resolve, paths):
        if storage.is_file(root) and file_format(root)[0] == "listing":
            found.extend(listed_files(root, paths_root))
            continue
        if storage.is_file(root):
            found.append(InputFile(root, storage.basename(root), storage.size(root)))
            continue
        listed = storage.list_files(root)
        if not listed and not storage.is_dir(root):
            raise InputError(f"input path does not exist: {root}")
        for path, size in listed:
            key = storage.relative(path, root)
            parts = key.replace(os.sep, "/").split("/")
            if any(part.startswith((".", "_")) for part in parts):
                continue
            if not _is_data_file(parts[-1]):
                log.info("skipping non-data file %s", path)
                continue
            found.append(InputFile(path, key, size))
    if not found:
        raise InputError(f"no input files under: {', '.join(paths)}")
    return sorted(found, key=lambda f: f.key)


def listed_files(listing: str, root: str | None = None) -> list[InputFile]:
    """The files a listing names, one a line: absolute paths and URLs as they are, relative ones
    under `root`, else under the listing's location up to the entry's first folder (Common Crawl's
    `crawl-data/CC-MAIN-.../warc.paths.gz` names `crawl-data/...` paths: they resolve under the
    folder holding `crawl-data/`), else beside the listing."""
    with storage.open_stream(listing) as raw:
        data = raw.read()
    if listing.lower().endswith(".gz"):
        data = gzip.decompress(data)
    base = storage.parent(listing)
    files = []
    for line in data.decode("utf-8").splitlines():
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        if "://" in entry or entry.startswith("/"):
            path = storage.resolve(entry)
        elif root:
            path = storage.join(storage.resolve(root), entry)
        else:
            head = entry.split("/", 1)[0]
            cut = base.rfind("/" + head + "/") if "/" in entry else -1
            path = storage.join(base[:cut] if cut >= 0 else base, entry)
        info = storage.info(path)  # one request per entry: a crawl's listing names ~100k files
        if info.type != pafs.FileType.File:
            raise InputError(f"{listing} names {entry}, which is not a file at {path} (set [input.web] "
                             "paths_root to where the listing's files live)")
        files.append(InputFile(path, entry, info.size))
    if not files:
        raise InputError(f"{listing}: the listing names no files")
    return files


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
    if is_warc(name) and compression != "zstd":
        return "warc", compression
    if name.endswith(LISTING_SUFFIXES):
        return "listing", compression
    raise InputError(f"unknown input format (expected .jsonl[.gz|.zst], .parquet, .warc[.gz], .warc.wet.gz "
                     f"or a .paths[.gz] listing): {path}")


def plan_splits(paths: list[str], split_bytes: int = InputConfig.split_bytes) -> list[Split]:
    return file_splits(input_files(paths), split_bytes)


def file_splits(files: list[InputFile], split_bytes: int = InputConfig.split_bytes) -> list[Split]:
    """The splits of listed input files (`input_files`)."""
    splits = []
    for f in files:
        fmt, compression = file_format(f.path)
        if fmt == "parquet":
            splits.extend(_parquet_splits(f.path, f.key))
        elif fmt == "warc":
            splits.extend(Split(f.path, f.key, "warc", compression, start, end)
                          for start, end in warc_ranges(f.path, f.size, compression, split_bytes))
        elif compression is None and f.size > split_bytes:
            splits.extend(Split(f.path, f.key, "jsonl", None, start, min(start + split_bytes, f.size))
                          for start in range(0, f.size, split_bytes))
        else:
            splits.append(Split(f.path, f.key, "jsonl", compression))
    return splits


def _parquet_splits(path: str, key: str) -> list[Split]:
    try:
        groups = storage.parquet_file(path).num_row_groups
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
        self.skipped: Counter = Counter()

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
        doc_id = canonical_text(doc_id) if doc_id not in (None, "") else derive_id(self.split.file_key, offset)
        url = record.get(cfg.url_field) if cfg.url_field else None
        source = record.get(cfg.source_field) if cfg.source_field else None
        used = {cfg.text_field, cfg.id_field, cfg.url_field, cfg.source_field}
        meta = {k: v for k, v in record.items() if k not in used} if self.with_meta else None
        return self._append({"id": doc_id, "text": text,
                             "source": canonical_text(source) if source is not None else self.default_source,
                             "url": canonical_text(url) if url is not None else None,
                             "meta": json.dumps(meta, ensure_ascii=False, default=str) if meta else None})

    def add_document(self, doc_id: str, text: str, url: str | None, meta: dict, offset: int) -> None:
        """Add a document a reader made (a WARC record's text), not parsed from a JSON record."""
        row = {"id": doc_id, "text": text, "source": self.default_source, "url": url,
               "meta": json.dumps(meta, ensure_ascii=False) if self.with_meta else None}
        error = self._append(row)
        if error:
            self.quarantine(offset, error, json.dumps({**row, "text": text[:RAW_PREFIX_CHARS]}, ensure_ascii=False))

    def _append(self, row: dict) -> str | None:
        for name, value in row.items():
            if value is not None and not _encodable(value):
                return f"invalid_unicode: a lone surrogate in {name}"
        for name, value in row.items():
            self._docs[name].append(value)
        return None

    def skip(self, reason: str) -> None:
        """Count a record that is not a document (a WARC request, a 404...)."""
        self.skipped[reason] += 1

    def add_checked(self, record: object, offset: int, raw: str | None = None) -> None:
        """`add_record`, quarantining the record (with `raw`, or a preview of it) when it cannot
        be a document, for whatever reason: one odd record never stops a job."""
        try:
            error = self.add_record(record, offset)
        except RecursionError:
            error = NESTED_TOO_DEEP
        except Exception as exc:  # a kind of record no rule above foresaw: said, not fatal
            error = f"unreadable_record: {type(exc).__name__}: {exc}"
        if error:
            self.quarantine(offset, error, raw if raw is not None else _preview(record))

    def quarantine(self, offset: int, error: str, raw: str | bytes = "") -> None:
        if isinstance(raw, bytes):
            raw = raw[: RAW_PREFIX_CHARS * 4].decode("utf-8", errors="replace")
        raw = raw[:RAW_PREFIX_CHARS]
        if not _encodable(raw):
            raw = raw.encode("utf-8", errors="backslashreplace").decode("utf-8")
        self._bad["source"].append(self.cfg.source or self.default_source)
        self._bad["file"].append(self.split.file_key)
        self._bad["offset"].append(offset)
        self._bad["error"].append(error)
        self._bad["raw"].append(raw)

    def flush(self) -> Batch:
        batch = Batch(
            pa.RecordBatch.from_pydict(self._docs, schema=DOCUMENT_SCHEMA),
            pa.RecordBatch.from_pydict(self._bad, schema=QUARANTINE_SCHEMA),
            self.skipped,
        )
        for column in (*self._docs.values(), *self._bad.values()):
            column.clear()
        self.skipped = Counter()
        return batch


def read_split(split: Split, cfg: InputConfig = InputConfig(), with_meta: bool = True) -> Iterator[Batch]:
    """Stream a split as batches of documents and quarantine records. `with_meta=False` leaves
    `meta` (the record's other fields as JSON) null, for readers that only need the text; then
    uncompressed JSONL is parsed a block at a time by pyarrow (`_jsonl_arrow_batches`)."""
    if split.fmt == "jsonl" and split.compression is None and not with_meta:
        yield from _jsonl_arrow_batches(split, cfg)
        return
    builder = _BatchBuilder(split, cfg, with_meta)
    read = {"jsonl": _jsonl_records, "parquet": _parquet_records, "warc": read_warc}[split.fmt]
    for _ in read(split, cfg, builder):
        if len(builder) >= cfg.batch_rows:
            yield builder.flush()
    if len(builder) or builder.skipped:
        yield builder.flush()


def _open_stream(split: Split) -> tuple[io.BufferedIOBase, "_FrameReader | None"]:
    """The split's file as a byte stream of its records, and the decoder of a compressed one
    (which says how the compressed stream ended)."""
    raw = storage.open_stream(split.path)  # seekable, ranged reads on object stores too
    if split.compression is None:
        return raw, None
    frames = _FrameReader(raw, split.compression)
    return io.BufferedReader(frames, buffer_size=1 << 20), frames


@dataclass(frozen=True)
class StreamDamage:
    """Why a compressed stream ended early: the reason, the compressed offset where the
    unreadable part starts, and its first bytes."""

    reason: str
    offset: int
    head: bytes


class _FrameReader(io.RawIOBase):
    """Decodes concatenated gzip members or zstd frames (as `cat a.gz b.gz` or a multi-frame
    writer makes them) and never raises on bad compressed data: it ends the stream instead, so
    every byte decoded before the damage is delivered, and says why in `damage` (None: a clean
    end). Damage is a stream that ends inside a frame (a truncated file), bytes after a frame
    that do not start another one (garbage appended to the file), or a frame that fails to decode
    (checksum, corrupt block). NUL padding between or after frames is skipped, as gzip does.
    gzip gives every byte before the damage (a failed piece is replayed a byte at a time); zstd,
    whose decoder cannot be copied, may give the bytes of the last piece before it to the damage."""

    # Compressed bytes per decompress call. zstd takes no output limit and expands up to ~32,000x,
    # gzip up to ~1,000x: small pieces keep memory bounded on a decompression bomb (<= ~64 MB).
    PIECE = {"gzip": 64 << 10, "zstd": 512}

    def __init__(self, raw: io.BufferedIOBase, codec: str, chunk: int = 1 << 20):
        self._raw, self._codec, self._chunk, self._piece = raw, codec, chunk, self.PIECE[codec]
        self._input, self._pos = b"", 0  # compressed bytes read, and how many were decoded
        self._consumed = 0  # compressed offset of `_input[_pos]`
        self._frame = None  # the decompressor of the frame being decoded; None between frames
        self._frame_start, self._frame_head = 0, b""
        self._output = memoryview(b"")
        self._ended = False
        self.damage: StreamDamage | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        n = 0  # fills `buf`: a piece decodes to a few kB, the buffered reader above asks for 1 MB
        while n < len(buf):
            if not self._output:
                if self._ended:
                    break
                self._output = memoryview(self._decode_some())
                continue
            k = min(len(buf) - n, len(self._output))
            buf[n:n + k] = self._output[:k]
            self._output = self._output[k:]
            n += k
        return n

    def _decode_some(self) -> bytes:
        if self._pos == len(self._input):
            self._input, self._pos = self._raw.read(self._chunk), 0
            if not self._input:
                if self._frame is not None:
                    self._end(f"truncated_file: the {self._codec} stream ends inside the frame at byte {self._frame_start}")
                self._ended = True
                return b""
        if self._frame is None:  # a frame starts here, after any NUL padding
            while self._pos < len(self._input) and self._input[self._pos] == 0:
                self._pos += 1
                self._consumed += 1
            if self._pos == len(self._input):
                return b""
            self._frame = _new_decompressor(self._codec)
            self._frame_start, self._frame_head = self._consumed, self._input[self._pos:self._pos + 64]
        piece = self._input[self._pos:self._pos + self._piece]
        before = self._frame.copy() if self._codec == "gzip" else None
        try:
            out = self._frame.decompress(piece)
        except (zlib.error, zstandard.ZstdError) as exc:
            if before is not None and len(piece) > 1:  # replay a byte at a time: keep what decodes before it
                self._frame, self._piece = before, 1
                return b""
            what = "no" if self._consumed == self._frame_start else "a corrupt"
            self._end(f"corrupt_compressed_data: {what} {self._codec} frame at byte {self._frame_start}: {exc}")
            return b""
        used = len(piece) - len(self._frame.unused_data)
        self._pos += used
        self._consumed += used
        if self._frame.eof:
            self._frame = None
        return out

    def _end(self, reason: str) -> None:
        self.damage = StreamDamage(reason, self._frame_start, self._frame_head)
        self._ended = True

    def close(self) -> None:
        self._raw.close()
        super().close()


def _new_decompressor(codec: str):
    """A decompressor of one gzip member or zstd frame: each says `eof` at the frame's end and
    hands back the bytes after it as `unused_data`."""
    if codec == "gzip":
        return zlib.decompressobj(wbits=31)  # the gzip header and trailer (CRC-32, size) are checked
    return zstandard.ZstdDecompressor().decompressobj()


def _jsonl_records(split: Split, cfg: InputConfig, out: _BatchBuilder) -> Iterator[None]:
    """Parse the lines whose first byte lies in [start, end) (Hadoop-style splits)."""
    stream, frames = _open_stream(split)
    with stream:
        yield from _parse_lines(stream, _first_line(stream, split), split.end, cfg, out, frames)


def _first_line(stream: io.BufferedIOBase, split: Split) -> int:
    """Offset of the split's first line: the line that straddles `start` belongs to the previous split."""
    if split.start == 0:
        return 0
    stream.seek(split.start - 1)
    return split.start - 1 + len(stream.readline())


def _parse_lines(stream: io.BufferedIOBase, offset: int, end: int, cfg: InputConfig, out: _BatchBuilder,
                 frames: _FrameReader | None = None) -> Iterator[None]:
    """Parse line by line from `offset` (where the stream is) while lines start before `end` (-1: to
    EOF). Where a compressed stream was damaged (`frames.damage`), what could not be read, with the
    unfinished line before the damage, becomes one quarantine record."""
    while end < 0 or offset < end:
        try:
            line = stream.readline(cfg.max_record_bytes + 1)
        except OSError as exc:  # the storage failed mid-file: the rest of it is unread
            out.quarantine(offset, f"read_error: {type(exc).__name__}: {exc}")
            yield
            return
        damage = frames.damage if frames is not None and not line.endswith(b"\n") else None
        if damage is not None and len(line) <= cfg.max_record_bytes:
            out.quarantine(offset, damage.reason, line or damage.head)
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


# ---------------------------------------------------------------- JSONL a block at a time

ARROW_BLOCK_BYTES = 16 << 20
MAX_ARROW_DEPTH = 500  # well below where json.loads gives up


def _jsonl_arrow_batches(split: Split, cfg: InputConfig) -> Iterator[Batch]:
    """The documents of uncompressed JSONL without meta, a block of whole lines at a time through
    pyarrow's JSON reader (4-5x faster than json.loads per record). A block that reader cannot take
    exactly as the record-by-record path would (`_arrow_documents` says None) goes through that
    path, so documents, ids and quarantine records are the same either way."""
    builder = _BatchBuilder(split, cfg, with_meta=False)
    no_quarantine = pa.RecordBatch.from_pylist([], schema=QUARANTINE_SCHEMA)
    for offset, block in _line_blocks(split, cfg, builder):
        documents = _arrow_documents(block, offset, cfg, split.file_key, builder.default_source)
        if documents is None:
            for _ in _parse_lines(io.BytesIO(block), offset, -1, cfg, builder):
                if len(builder) >= cfg.batch_rows:
                    yield builder.flush()
        else:
            for start in range(0, documents.num_rows, cfg.batch_rows):
                yield Batch(documents.slice(start, cfg.batch_rows), no_quarantine)
        if len(builder):
            yield builder.flush()
    if len(builder):  # a record too large or a read error after the last block
        yield builder.flush()


def _line_blocks(split: Split, cfg: InputConfig, out: _BatchBuilder) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) of runs of whole lines (up to ARROW_BLOCK_BYTES, and the line that crosses
    it) starting in [start, end). A line longer than max_record_bytes is quarantined and skipped,
    a read error quarantined, as `_parse_lines` does."""
    limit = min(ARROW_BLOCK_BYTES, cfg.max_record_bytes)
    stream, _ = _open_stream(split)  # uncompressed: read errors are the storage's
    with stream:
        offset = _first_line(stream, split)
        while split.end < 0 or offset < split.end:
            try:
                block = stream.read(limit if split.end < 0 else min(limit, split.end - offset))
                head = 0 if not block or block.endswith(b"\n") else len(block) - block.rfind(b"\n") - 1
                rest = stream.readline(cfg.max_record_bytes + 1 - head) if head else b""
            except OSError as exc:
                out.quarantine(offset, f"read_error: {type(exc).__name__}: {exc}")
                return
            if not block:
                return
            line = block[len(block) - head:] + rest  # the unfinished last line, completed
            if len(line) > cfg.max_record_bytes and not line.endswith(b"\n"):
                if len(block) > head:
                    yield offset, block[:len(block) - head]
                out.quarantine(offset + len(block) - head, f"record_too_large: over {cfg.max_record_bytes} bytes",
                               line[:RAW_PREFIX_CHARS])
                offset += len(block) + len(rest) + _skip_rest_of_line(stream)
                continue
            yield offset, block + rest
            offset += len(block) + len(rest)


def _arrow_documents(block: bytes, offset: int, cfg: InputConfig, file_key: str, default_source: str) -> pa.RecordBatch | None:
    """The block's documents as `_BatchBuilder.add_record` would make them (meta null), or None
    when pyarrow might not read it as json.loads reads each line: unless every line is one object
    (it starts with "{" and ends with "}": no blank line, BOM, trailing space or object spanning
    lines) and gives one row, and unless every text is a string, ids are strings or integers,
    sources and urls strings, and no line nested deeper than json.loads reads."""
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.json as pj

    data = np.frombuffer(block, np.uint8)
    newlines = np.flatnonzero(data == 0x0A)
    starts = np.r_[0, newlines[:-1] + 1] if block.endswith(b"\n") else np.r_[0, newlines + 1]
    ends = np.r_[newlines, len(data)][:len(starts)] - 1
    ends -= data[ends] == 0x0D  # "\r\n"
    if not (np.all(data[starts] == 0x7B) and np.all(data[ends] == 0x7D)):
        return None
    # pyarrow reads any depth, json.loads not (NESTED_TOO_DEEP): a line that may be deep goes the
    # record path, which decides. Opening brackets, in strings too, bound a line's depth from above.
    opens = np.flatnonzero((data == 0x5B) | (data == 0x7B))
    if (np.searchsorted(opens, ends) - np.searchsorted(opens, starts)).max() > MAX_ARROW_DEPTH:
        return None
    names = [f for f in (cfg.text_field, cfg.id_field, cfg.source_field, cfg.url_field) if f]
    if len(set(names)) != len(names):
        return None
    for id_type in (pa.string(), pa.int64()):
        schema = pa.schema([(f, id_type if f == cfg.id_field else pa.string()) for f in names])
        try:
            table = pj.read_json(io.BytesIO(block), read_options=pj.ReadOptions(use_threads=False, block_size=len(block) + 1),
                                 parse_options=pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore"))
        except pa.ArrowInvalid as exc:
            if id_type == pa.string() and f"Column(/{cfg.id_field}) changed from string to number" in str(exc):
                continue  # integer ids: read them as integers, write them as str() would
            return None
        except Exception:  # invalid UTF-8 (a UnicodeDecodeError), ...
            return None
        break
    else:
        return None
    if table.num_rows != len(starts) or table.column(cfg.text_field).null_count:
        return None
    n = table.num_rows
    ids = (pc.cast(table.column(cfg.id_field), pa.string()).combine_chunks() if cfg.id_field
           else pa.nulls(n, pa.string()))
    missing = pc.fill_null(pc.equal(ids, ""), True).to_numpy(zero_copy_only=False)
    if missing.any():  # no id of its own: derived from where the line starts, as the record path does
        rows = np.flatnonzero(missing)
        derived = [derive_id(file_key, offset + int(starts[i])) for i in rows]
        ids = pc.replace_with_mask(ids, pa.array(missing), pa.array(derived, pa.string()))
    source = (pc.fill_null(table.column(cfg.source_field), default_source).combine_chunks() if cfg.source_field
              else pa.array([default_source] * n, pa.string()))
    url = table.column(cfg.url_field).combine_chunks() if cfg.url_field else pa.nulls(n, pa.string())
    text = table.column(cfg.text_field).combine_chunks()
    return pa.RecordBatch.from_arrays([ids, text, source, url, pa.nulls(n, pa.string())], schema=DOCUMENT_SCHEMA)


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
    except RecursionError:
        return out.quarantine(offset, NESTED_TOO_DEEP, text)
    out.add_checked(record, offset, text)


def _parquet_records(split: Split, cfg: InputConfig, out: _BatchBuilder) -> Iterator[None]:
    try:
        pf = storage.parquet_file(split.path)
        groups = range(split.start, split.end if split.end >= 0 else pf.num_row_groups)
        row = sum(pf.metadata.row_group(g).num_rows for g in range(groups.start))
        for batch in pf.iter_batches(batch_size=cfg.batch_rows, row_groups=list(groups)):
            for record in batch.to_pylist():
                out.add_checked(record, row)
                row += 1
                yield
    except (pa.ArrowException, OSError) as exc:
        out.quarantine(split.start, f"unreadable_parquet: {type(exc).__name__}: {exc}")
        yield


def _preview(record: object) -> str:
    try:
        return json.dumps(record, ensure_ascii=False, default=str)[:RAW_PREFIX_CHARS]
    except (TypeError, ValueError, RecursionError):
        return repr(record)[:RAW_PREFIX_CHARS]


def canonical_text(value: object) -> str:
    """A field value as text: strings as they are, anything else (numbers, booleans, lists,
    objects) as canonical JSON (sorted keys, no spaces), so an id reads the same from every
    reader path and every input format."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _encodable(text: str) -> bool:
    """False for a string Arrow cannot hold: one with a lone surrogate (JSON's "\\ud800")."""
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False
