"""WARC and WET files -> documents: one per HTTP 200 HTML `response` record (its main text, see
corpus_tools.html) or per WET `conversion` record (already text), through fastwarc.

Every record is accounted for: a document, a skip counted with its reason in `Batch.skipped`
(`request`, `warcinfo`, `metadata`, `revisit`, ... records; `http_404`, `http_301`...; `not_html`
for other content types), or a quarantine record with its file and (compressed) offset: a record
cut short (`truncated_record`) or gzip data that does not decode (`corrupt_record`), after which
reading goes on at the next gzip member that starts a WARC record.

Common Crawl writes each record as its own gzip member, so a large `.warc.gz` splits at byte
ranges: a split reads the records whose member starts in [start, end), finding its first member
by scanning for a gzip header that decodes to "WARC/". A file that is one gzip stream (members
not per record) is one split.
"""
from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Iterator

from corpus_tools import storage
from corpus_tools.html import Extractor, decode_html, extract_text, paragraph_lines

WARC_SUFFIXES = (".warc", ".wet")
GZIP_MAGIC = b"\x1f\x8b\x08"
HTML_TYPES = ("text/html", "application/xhtml+xml")
SCAN_CHUNK = 1 << 20
PROBE_BYTES = 64 << 10  # compressed bytes tried at a candidate member: enough for its WARC headers
MAX_TAIL_CHECK = 64 << 20  # a final member larger than this is not checked for bytes after it


def is_warc(name: str) -> bool:
    name = name.lower().removesuffix(".gz")
    return name.endswith(WARC_SUFFIXES)


@dataclass(frozen=True)
class WebConfig:
    """How WARC/WET input becomes documents (the `[input.web]` table)."""

    extractor: Extractor = "resiliparse"  # or "trafilatura" (slower; see benchmarks/bench_extract.py)
    # Where the relative entries of a `*.paths(.gz)` listing (Common Crawl's warc.paths.gz) live, e.g.
    # "s3://commoncrawl/"; None: the listing's own location, up to the entry's first folder.
    paths_root: str | None = None


# ---------------------------------------------------------------- planning

def warc_ranges(path: str, size: int, compression: str | None, split_bytes: int) -> list[tuple[int, int]]:
    """Byte ranges to read in parallel: per-record gzip members split at `split_bytes`; else one."""
    if compression != "gzip" or size <= split_bytes or not _members_per_record(path):
        return [(0, -1)]
    return [(start, min(start + split_bytes, size)) for start in range(0, size, split_bytes)]


def _members_per_record(path: str) -> bool:
    """Whether the file's first gzip member ends after one record (Common Crawl's layout)."""
    with storage.open_stream(path) as f:
        head = f.read(PROBE_BYTES)
    d = zlib.decompressobj(wbits=31)
    try:
        first = d.decompress(head, 4 << 20)
    except zlib.error:
        return False
    return d.eof and first.count(b"WARC/1.") == 1 and d.unused_data[:3] == GZIP_MAGIC


def _is_member_start(f, pos: int) -> bool:
    f.seek(pos)
    try:
        out = zlib.decompressobj(wbits=31).decompress(f.read(PROBE_BYTES), 16)
    except zlib.error:
        return False
    return out.startswith(b"WARC/")


def next_member(f, start: int, end: int) -> int | None:
    """The offset of the first gzip member at or after `start` (and before `end`, -1: EOF) whose
    data begins a WARC record; None if there is none."""
    size = f.seek(0, 2)  # object-store files refuse a seek past their end
    end = size if end < 0 else min(end, size)
    pos = start
    while pos < end:
        f.seek(pos)
        chunk = f.read(SCAN_CHUNK + 2)
        if len(chunk) < 3:
            return None
        i = chunk.find(GZIP_MAGIC)
        while i != -1 and i < SCAN_CHUNK:
            if pos + i >= end:
                return None
            if _is_member_start(f, pos + i):
                return pos + i
            i = chunk.find(GZIP_MAGIC, i + 1)
        pos += SCAN_CHUNK
    return None


# ---------------------------------------------------------------- reading

def read_warc(split, cfg, out) -> Iterator[None]:
    """Add the documents, skips and quarantine records of a WARC split to `out` (a readers
    `_BatchBuilder`), yielding after each record."""
    with storage.open_stream(split.path) as f:
        pos = split.start if split.start == 0 else next_member(f, split.start, split.end)
        while pos is not None:
            pos = yield from _records_from(f, pos, split, cfg, out)


def _records_from(f, start: int, split, cfg, out) -> Iterator[None]:
    """Read records from the member at `start` to the split's end; return None when done, or,
    after quarantining a stretch that does not decode, the member where reading goes on."""
    from fastwarc.warc import ArchiveIterator

    f.seek(start)
    done, current = None, None  # offsets of the last record handled and of the one being handled
    try:
        for record in ArchiveIterator(f, parse_http=True):
            current = record.stream_pos
            if split.end >= 0 and current >= split.end:
                return None
            _add_record(record, cfg, out)
            done, current = current, None
            yield
    except BaseException as exc:  # OSError, ValueError; fastwarc's Rust panics are BaseExceptions
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        reason = f"{type(exc).__name__}: {exc}"
    else:
        if split.compression != "gzip":
            return None
        # fastwarc ends quietly on a record it cannot parse: a member left after the last record
        # read is one it dropped, bytes after the last member a record cut short
        missed = next_member(f, start if done is None else done + 1, split.end)
        if missed is None:
            tail = _tail_after(f, start if done is None else done, split.end)
            if tail is None:
                return None
            out.quarantine(tail, f"truncated_record: bytes after the last gzip member at byte {tail} do not "
                           "decode as a WARC record", _excerpt(f, tail))
            yield
            return None
        reason, current = "not read as a WARC record", missed
    if split.compression != "gzip":  # no member boundary to resume at: the rest is one record
        at = current if current is not None else (start if done is None else done + 1)
        out.quarantine(at, f"corrupt_record: {reason}", _excerpt(f, at))
        yield
        return None
    bad = current if current is not None else (start if done is None else _find(f, GZIP_MAGIC, done + 1))
    out.quarantine(bad, f"corrupt_record: the gzip member at byte {bad} does not decode as a WARC record "
                   f"({reason})", _excerpt(f, bad))
    yield
    return next_member(f, bad + 1, split.end)


def _tail_after(f, member: int, end: int) -> int | None:
    """Where non-NUL bytes follow the gzip member at `member` up to `end` (-1: EOF), if they do."""
    f.seek(member)
    d = zlib.decompressobj(wbits=31)
    pos = member
    while not d.eof:
        chunk = f.read(PROBE_BYTES)
        if not chunk or pos - member > MAX_TAIL_CHECK:
            return None  # ends inside the member (fastwarc saw it) or too large a member to check
        try:
            d.decompress(chunk, 1)
            while d.unconsumed_tail and not d.eof:  # only the member's end matters, not its data
                d.decompress(d.unconsumed_tail, 1 << 16)
        except zlib.error:
            return None
        pos += len(chunk)
    after = pos - len(d.unused_data)
    f.seek(after)
    rest = f.read(SCAN_CHUNK if end < 0 else max(0, end - after))
    stripped = rest.lstrip(b"\0")
    return after + len(rest) - len(stripped) if stripped else None


def _find(f, needle: bytes, start: int) -> int:
    """The offset of the next `needle` at or after `start` (the file's size if there is none)."""
    pos = start
    while True:
        f.seek(pos)
        chunk = f.read(SCAN_CHUNK + len(needle) - 1)
        i = chunk.find(needle)
        if i != -1:
            return pos + i
        if len(chunk) < SCAN_CHUNK + len(needle) - 1:
            return pos + len(chunk)
        pos += SCAN_CHUNK


def _excerpt(f, pos: int) -> bytes:
    """What decodes of the gzip member at `pos` (its WARC headers, usually), else its raw bytes."""
    f.seek(pos)
    raw = f.read(PROBE_BYTES)
    try:
        return zlib.decompressobj(wbits=31).decompress(raw, 2048) or raw[:256]
    except zlib.error:
        return raw[:256]


def _add_record(record, cfg, out) -> None:
    from fastwarc.warc import WarcRecordType

    kind = record.record_type
    if kind == WarcRecordType.conversion:
        return _add_text(record, record.reader.read(), record.record_type, out, {})
    if kind != WarcRecordType.response:
        return out.skip(str(kind).rsplit(".", 1)[-1])
    http = record.http_headers
    if http is None or not len(http):  # no status line, or no header field after it: cut off
        return out.quarantine(record.stream_pos, "truncated_record: the HTTP headers are cut off", _headers(record))
    if http.status_code != 200:
        return out.skip(f"http_{http.status_code}")
    content_type = (record.http_content_type or "").lower()
    if content_type not in HTML_TYPES:
        return out.skip("not_html")
    body = record.reader.read()
    declared = http.get("Content-Length", "")  # crawlers that change the payload keep the original in
    if declared.isdigit() and len(body) < int(declared):  # X-Crawler-Content-Length and fix this one
        return out.quarantine(record.stream_pos, f"truncated_record: {len(body)} of the {declared} bytes its "
                              "HTTP Content-Length declares", _headers(record))
    html, codec, how = decode_html(body, record.http_charset)
    meta = {"content_type": content_type, "encoding": codec, "encoding_from": how}
    if record.headers.get("WARC-Truncated"):  # the crawler kept only the first MBs: text, but partial
        meta["warc_truncated"] = record.headers.get("WARC-Truncated")
    _add_text(record, extract_text(html, cfg.web.extractor), kind, out, meta)


def _add_text(record, text: str | bytes, kind, out, meta: dict) -> None:
    if isinstance(text, bytes):
        text = paragraph_lines(text.decode("utf-8", errors="replace"))
    headers = record.headers
    meta = {"warc_date": headers.get("WARC-Date"), "warc_record_id": record.record_id, **meta}
    if headers.get("WARC-Refers-To"):
        meta["warc_refers_to"] = headers.get("WARC-Refers-To")
    out.add_document(record.record_id.strip("<>"), text, headers.get("WARC-Target-URI"), meta, record.stream_pos)


def _headers(record) -> str:
    return json.dumps(dict(record.headers.items()), ensure_ascii=False)


