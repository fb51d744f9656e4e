"""Hostile input never makes a reader raise or lose a record: every record read is a document or
one quarantine record with a reason, for each kind of damage, in every reader path (record by
record with meta, pyarrow blocks without meta, compressed streams, Parquet), plus a property-based
fuzz test of that accounting."""
from __future__ import annotations

import gzip
import json
import tracemalloc

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus_tools.readers import InputConfig, plan_splits, read_split

CODECS = {"gzip": (".jsonl.gz", lambda b: gzip.compress(b, mtime=0)), "zstd": (".jsonl.zst", lambda b: zstandard.ZstdCompressor().compress(b))}
RECORDS = [{"id": f"d{i}", "text": f"record {i} " * (i % 17 + 1), "lang_hint": "en"} for i in range(300)]


def jsonl(records) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)  # ensure_ascii: "\ud800" stays an escape


def read(path, with_meta=True, cfg=InputConfig()):
    docs, bad = [], []
    for split in plan_splits([str(path)], cfg.split_bytes):
        for batch in read_split(split, cfg, with_meta):
            docs += batch.documents.to_pylist()
            bad += batch.quarantine.to_pylist()
    return docs, bad


def kind(record: dict) -> str:
    return record["error"].split(":")[0]


# ---------------------------------------------------------------- damaged compressed streams

@pytest.mark.parametrize("codec", CODECS)
def test_trailing_garbage_keeps_every_record_and_quarantines_the_garbage(tmp_path, codec):
    suffix, compress = CODECS[codec]
    path = tmp_path / f"g{suffix}"
    path.write_bytes(compress(jsonl(RECORDS)) + b"<html>appended by a broken download</html>")
    docs, bad = read(path)
    assert [d["id"] for d in docs] == [r["id"] for r in RECORDS]
    assert [kind(b) for b in bad] == ["corrupt_compressed_data"]
    assert bad[0]["raw"].startswith("<html>appended") and bad[0]["offset"] == len(jsonl(RECORDS))


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("cut", [0.1, 0.5, 0.99])
def test_truncation_keeps_what_was_decoded_then_one_quarantine_record(tmp_path, codec, cut):
    suffix, compress = CODECS[codec]
    many = [{"id": f"r{i}", "text": f"record {i} of many, {i * 7919 % 10007} {i * 104729 % 1299709}"} for i in range(30_000)]
    data = compress(jsonl(many))  # zstd decodes whole blocks (<= 128 kB): many blocks, so a cut loses one
    path = tmp_path / f"t{suffix}"
    path.write_bytes(data[: int(len(data) * cut)])
    docs, bad = read(path)
    expected = [r["id"] for r in many]
    assert docs and [d["id"] for d in docs] == expected[: len(docs)]
    assert [kind(b) for b in bad] == ["truncated_file"]
    assert bad[0]["raw"].startswith('{"id": ') or bad[0]["raw"] == ""  # the unfinished record, if any


@pytest.mark.parametrize("codec", CODECS)
def test_a_file_that_is_not_compressed_at_all_is_one_quarantine_record(tmp_path, codec):
    path = tmp_path / f"plain{CODECS[codec][0]}"
    path.write_bytes(jsonl(RECORDS[:5]))
    docs, bad = read(path)
    assert not docs and [kind(b) for b in bad] == ["corrupt_compressed_data"]
    assert bad[0]["raw"].startswith('{"id": "d0"')


@pytest.mark.parametrize("codec", CODECS)
def test_concatenated_frames_and_nul_padding_read_whole(tmp_path, codec):
    suffix, compress = CODECS[codec]
    path = tmp_path / f"m{suffix}"
    path.write_bytes(compress(jsonl(RECORDS[:100])) + b"\0" * 64 + compress(jsonl(RECORDS[100:])) + b"\0" * 512)
    docs, bad = read(path)
    assert len(docs) == len(RECORDS) and not bad


def test_gzip_checksum_failure_is_quarantined(tmp_path):
    data = bytearray(gzip.compress(jsonl(RECORDS)))
    data[-6] ^= 0xFF  # the CRC-32 in the trailer
    (tmp_path / "crc.jsonl.gz").write_bytes(bytes(data))
    docs, bad = read(tmp_path / "crc.jsonl.gz")
    assert len(docs) == len(RECORDS)  # decoded before the trailer said it was wrong
    assert [kind(b) for b in bad] == ["corrupt_compressed_data"]


def test_a_decompression_bomb_streams_in_bounded_memory(tmp_path):
    """200 MB of one line in ~6 kB of zstd: quarantined as too large, read in bounded pieces."""
    line = b'{"text": "' + b"a" * (200 << 20) + b'"}\n'
    (tmp_path / "bomb.jsonl.zst").write_bytes(zstandard.ZstdCompressor(level=19).compress(line) + zstandard.ZstdCompressor().compress(jsonl(RECORDS[:3])))
    tracemalloc.start()
    docs, bad = read(tmp_path / "bomb.jsonl.zst", cfg=InputConfig(max_record_bytes=1 << 20))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 << 20, peak  # the 200 MB line never sits in memory (pieces decode to <= ~16 MB)
    assert [d["id"] for d in docs] == ["d0", "d1", "d2"]
    assert [kind(b) for b in bad] == ["record_too_large"]


# ---------------------------------------------------------------- hostile records, every field

FIELD_RECORDS = {  # a record with an unrepresentable value in this field
    "text": {"id": "x", "text": "a\ud800b"},
    "id": {"id": "\udfff", "text": "ok"},
    "url": {"id": "x", "text": "ok", "url": "https://example.org/\ud800"},
    "source": {"id": "x", "text": "ok", "source": "web\ud800"},
    "meta": {"id": "x", "text": "ok", "extra": {"key\ud800": 1}},
}


@pytest.mark.parametrize("field", FIELD_RECORDS)
@pytest.mark.parametrize("with_meta", [True, False])
def test_a_lone_surrogate_in_any_field_is_quarantined(tmp_path, field, with_meta):
    (tmp_path / "s.jsonl").write_bytes(jsonl([RECORDS[0], FIELD_RECORDS[field], RECORDS[1]]))
    docs, bad = read(tmp_path / "s.jsonl", with_meta)
    if field == "meta" and not with_meta:  # meta is not read: the record is a fine document
        assert [d["id"] for d in docs] == ["d0", "x", "d1"] and not bad
        return
    assert [d["id"] for d in docs] == ["d0", "d1"]
    assert [b["error"] for b in bad] == [f"invalid_unicode: a lone surrogate in {field}"]
    assert "\\ud" in bad[0]["raw"] or "\\ud" in bad[0]["raw"].lower()


def deep(levels: int, leaf="x"):
    value = leaf
    for i in range(levels):
        value = [value] if i % 2 else {"k": value}
    return value


def deep_line(field: str, levels: int) -> bytes:
    """A record whose `field` is nested `levels` deep, written without recursing."""
    head, tail = b'{"k": [' * (levels // 2), b"]}" * (levels // 2)
    record = {"id": "x", "text": "ok", field: "@"}
    return json.dumps(record).encode().replace(b'"@"', head + b'"leaf"' + tail) + b"\n"


@pytest.mark.parametrize("field", ["text", "id", "url", "source", "extra"])
@pytest.mark.parametrize("with_meta", [True, False])
def test_deep_nesting_in_any_field_is_quarantined_the_same_on_every_path(tmp_path, field, with_meta):
    (tmp_path / "n.jsonl").write_bytes(jsonl([RECORDS[0]]) + deep_line(field, 50_000) + jsonl([RECORDS[1]]))
    docs, bad = read(tmp_path / "n.jsonl", with_meta)
    assert [d["id"] for d in docs] == ["d0", "d1"]
    assert [kind(b) for b in bad] == ["nested_too_deep"]


@pytest.mark.parametrize("with_meta", [True, False])
def test_moderate_nesting_is_a_document(tmp_path, with_meta):
    (tmp_path / "m.jsonl").write_bytes(deep_line("extra", 200) + deep_line("id", 200))
    docs, bad = read(tmp_path / "m.jsonl", with_meta)
    assert len(docs) == 2 and not bad
    assert docs[1]["id"] == json.dumps(json.loads(deep_line("id", 200))["id"], separators=(",", ":"))


# ---------------------------------------------------------------- ids

ODD_IDS = [{"y": 2, "x": [1, "a"]}, [3, {"b": None, "a": True}], True, 12, 1.5, "plain"]
CANONICAL = ['{"x":[1,"a"],"y":2}', '[3,{"a":true,"b":null}]', "true", "12", "1.5", "plain"]


def test_non_string_ids_are_canonical_json_on_every_path(tmp_path):
    records = [{"id": i, "text": f"t{n}"} for n, i in enumerate(ODD_IDS)]
    (tmp_path / "ids.jsonl").write_bytes(jsonl(records))
    (tmp_path / "ids.jsonl.zst").write_bytes(CODECS["zstd"][1](jsonl(records)))
    for path in ("ids.jsonl", "ids.jsonl.zst"):
        for with_meta in (True, False):
            docs, bad = read(tmp_path / path, with_meta)
            assert [d["id"] for d in docs] == CANONICAL and not bad, (path, with_meta)
    # integer ids take the block (pyarrow) path, and read as the record path would
    (tmp_path / "ints.jsonl").write_bytes(jsonl([{"id": 7, "text": "a"}, {"id": 8, "text": "b"}]))
    assert [d["id"] for d in read(tmp_path / "ints.jsonl", False)[0]] == ["7", "8"]


def test_parquet_struct_and_list_ids_are_canonical_json(tmp_path):
    table = pa.table({"id": [{"y": 2, "x": 1}, {"y": 0, "x": 5}], "text": ["a", "b"]})
    pq.write_table(table, tmp_path / "s.parquet")
    pq.write_table(pa.table({"id": [[1, 2], [3]], "text": ["a", "b"]}), tmp_path / "l.parquet")
    assert [d["id"] for d in read(tmp_path / "s.parquet")[0]] == ['{"x":1,"y":2}', '{"x":5,"y":0}']
    assert [d["id"] for d in read(tmp_path / "l.parquet")[0]] == ["[1,2]", "[3]"]


# ---------------------------------------------------------------- fuzz: the accounting holds

FUZZ = settings(max_examples=300, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
any_char = st.characters(codec=None, exclude_categories=())  # lone surrogates included
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(any_char, max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(any_char, max_size=5), inner, max_size=3),
    max_leaves=8)
records = st.dictionaries(st.sampled_from(["id", "text", "url", "source", "meta", "x"]), json_values, max_size=5)
# a record as a line: mostly well-formed JSON, or raw bytes, or a deep one
lines = st.one_of(
    records.map(lambda r: json.dumps(r).encode()),
    records.map(lambda r: json.dumps({**r, "text": "kept text"}).encode()),
    st.binary(max_size=40).map(lambda b: b.replace(b"\n", b" ")),
    st.integers(990, 1100).map(lambda n: deep_line("id", n).rstrip(b"\n")),
)


def mutate(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    """Flip bytes at positions (mod the length): may join lines, cut them, break UTF-8 or JSON."""
    buf = bytearray(data)
    for pos, value in edits:
        if buf:
            buf[pos % len(buf)] = value
    return bytes(buf)


@FUZZ
@given(body=st.lists(lines, max_size=30), edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4),
       split_bytes=st.sampled_from([64, 512, 1 << 20]), with_meta=st.booleans(), newline_at_end=st.booleans())
def test_fuzz_every_line_is_a_document_or_a_quarantine_record(tmp_path_factory, body, edits, split_bytes, with_meta, newline_at_end):
    data = mutate(b"\n".join(body) + (b"\n" if newline_at_end else b""), edits)
    path = tmp_path_factory.mktemp("fuzz") / "f.jsonl"
    path.write_bytes(data)
    docs, bad = read(path, with_meta, InputConfig(split_bytes=split_bytes, max_record_bytes=4096))
    records_in = sum(1 for line in data.split(b"\n") if line.strip())
    assert len(docs) + len(bad) == records_in
    assert all(b["error"] and b["file"] == "f.jsonl" for b in bad)


@FUZZ
@given(body=st.lists(records, min_size=1, max_size=40), codec=st.sampled_from(sorted(CODECS)),
       damage=st.sampled_from(["none", "truncate", "garbage"]), where=st.floats(0, 1), garbage=st.binary(min_size=1, max_size=30))
def test_fuzz_damaged_compressed_streams_keep_the_records_before_the_damage(tmp_path_factory, body, codec, damage, where, garbage):
    suffix, compress = CODECS[codec]
    body = [{**r, "text": f"t{n}"} for n, r in enumerate(body)]  # texts tell records apart (ids may be derived)
    data = original = compress(jsonl(body))
    if damage == "truncate":
        data = data[: int(len(data) * where)]
    elif damage == "garbage" and garbage.strip(b"\0"):
        data += garbage
    path = tmp_path_factory.mktemp("fuzz") / f"f{suffix}"
    path.write_bytes(data)
    full, full_bad = read_plain(body)
    docs, bad = read(path)
    damaged = bool(data) and data != original
    streams = [b for b in bad if kind(b) in ("truncated_file", "corrupt_compressed_data")]
    records = [(b["offset"], b["error"]) for b in bad if b not in streams]
    assert [d["text"] for d in docs] == [d["text"] for d in full][: len(docs)]  # a prefix, in order
    assert records == [(b["offset"], b["error"]) for b in full_bad][: len(records)]
    assert len(streams) == damaged
    if data == original:
        assert len(docs) == len(full) and len(records) == len(full_bad)
    if damage == "garbage":  # appended bytes never cost a record
        assert len(docs) == len(full) and len(records) == len(full_bad)


def read_plain(body):
    """The documents and quarantine records of `body` as uncompressed JSONL, in memory."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "p.jsonl"
        path.write_bytes(jsonl(body))
        return read(path)
