"""Readers: every record is either a document or a quarantine record with a reason."""
from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from corpus_tools.readers import InputConfig, InputError, Split, file_format, plan_splits, read_split

GOOD = [{"id": f"d{i}", "text": f"document number {i}", "url": f"https://example.org/{i}", "lang_hint": "en"} for i in range(50)]
BAD_LINES = [
    b'{"text": "unterminated\n',  # malformed JSON
    b'\xff\xfe{"text": "x"}\n',  # invalid UTF-8
    b"[1, 2, 3]\n",  # not an object
    b'{"text": 42}\n',  # text not a string
    b'{"id": "no-text"}\n',  # missing text
    b'{"text": null}\n',  # null text
    b"\x00\x01\x02binary junk\x89PNG\n",  # binary junk
]


def jsonl_bytes(records) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in records)


def read_all(paths, cfg=InputConfig()):
    docs, bad = [], []
    for split in plan_splits(paths, cfg.split_bytes):
        for batch in read_split(split, cfg):
            docs += batch.documents.to_pylist()
            bad += batch.quarantine.to_pylist()
    return docs, bad


def test_reads_documents_and_keeps_other_fields_as_meta(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(jsonl_bytes(GOOD))
    docs, bad = read_all([str(tmp_path)])
    assert not bad
    assert [d["id"] for d in docs] == [r["id"] for r in GOOD]
    assert docs[0]["url"] == "https://example.org/0"
    assert docs[0]["source"] == "a"
    assert json.loads(docs[0]["meta"]) == {"lang_hint": "en"}


def test_without_meta_the_same_documents_and_quarantine_but_meta_null(tmp_path):
    (tmp_path / "mixed.jsonl").write_bytes(jsonl_bytes(GOOD[:3]) + b"".join(BAD_LINES) + jsonl_bytes(GOOD[3:5]))
    split, = plan_splits([str(tmp_path)])
    full, lean = list(read_split(split)), list(read_split(split, with_meta=False))
    for a, b in zip(full, lean):
        assert a.quarantine.equals(b.quarantine)
        assert a.documents.drop_columns(["meta"]).equals(b.documents.drop_columns(["meta"]))
        assert b.documents.column("meta").null_count == b.documents.num_rows
    assert full[0].documents.column("meta").null_count == 0


def test_each_kind_of_bad_line_is_quarantined_with_its_reason(tmp_path):
    (tmp_path / "mixed.jsonl").write_bytes(jsonl_bytes(GOOD[:3]) + b"".join(BAD_LINES) + jsonl_bytes(GOOD[3:5]))
    docs, bad = read_all([str(tmp_path)])
    assert len(docs) == 5
    kinds = [b["error"].split(":")[0] for b in bad]
    assert kinds == ["malformed_json", "invalid_utf8", "not_a_json_object", "text_not_a_string",
                     "missing_text_field", "missing_text_field", "invalid_utf8"]
    assert all(b["file"] == "mixed.jsonl" and b["offset"] > 0 for b in bad)


@pytest.mark.parametrize("suffix,compress", [(".jsonl.gz", gzip.compress), (".jsonl.zst", lambda b: zstandard.ZstdCompressor().compress(b))])
def test_compressed_files_read_whole(tmp_path, suffix, compress):
    (tmp_path / f"c{suffix}").write_bytes(compress(jsonl_bytes(GOOD)))
    docs, bad = read_all([str(tmp_path)])
    assert len(docs) == len(GOOD) and not bad


@pytest.mark.parametrize("suffix,compress", [(".jsonl.gz", gzip.compress), (".jsonl.zst", lambda b: zstandard.ZstdCompressor().compress(b))])
def test_truncated_compressed_file_is_quarantined_not_silently_short(tmp_path, suffix, compress):
    data = compress(jsonl_bytes(GOOD * 40))
    (tmp_path / f"t{suffix}").write_bytes(data[: len(data) // 2])
    docs, bad = read_all([str(tmp_path)])
    assert len(docs) < len(GOOD) * 40
    assert [b["error"].split(":")[0] for b in bad] == ["truncated_file"]


def test_derived_ids_do_not_depend_on_split_size(tmp_path):
    records = [{"text": f"line {i} " * 20} for i in range(300)]
    (tmp_path / "big.jsonl").write_bytes(jsonl_bytes(records))
    whole, _ = read_all([str(tmp_path)])
    pieces, _ = read_all([str(tmp_path)], InputConfig(split_bytes=1000))
    assert len(plan_splits([str(tmp_path)], 1000)) > 10
    assert [d["id"] for d in pieces] == [d["id"] for d in whole]
    assert len({d["id"] for d in whole}) == 300


def test_record_over_the_size_limit_is_quarantined(tmp_path):
    huge = json.dumps({"text": "x" * 5000}).encode() + b"\n"
    (tmp_path / "h.jsonl").write_bytes(huge + jsonl_bytes(GOOD[:2]))
    docs, bad = read_all([str(tmp_path)], InputConfig(max_record_bytes=1000))
    assert len(docs) == 2
    assert bad[0]["error"].startswith("record_too_large")


def test_parquet_input_with_custom_text_field_and_row_groups(tmp_path):
    table = pa.table({"content": [f"doc {i}" for i in range(100)] + [None]})
    pq.write_table(table, tmp_path / "p.parquet", row_group_size=30)
    cfg = InputConfig(text_field="content", id_field=None)
    docs, bad = read_all([str(tmp_path)], cfg)
    assert len(docs) == 100 and len(bad) == 1
    assert bad[0]["error"].startswith("missing_text_field") and bad[0]["offset"] == 100
    assert len({d["id"] for d in docs}) == 100


def test_unknown_format_and_missing_path_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="unknown input format"):
        file_format("data.csv")
    with pytest.raises(InputError, match="does not exist"):
        plan_splits([str(tmp_path / "nope")])


def test_corrupt_parquet_is_quarantined(tmp_path):
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    docs, bad = read_all([str(tmp_path)])
    assert not docs and bad[0]["error"].startswith("unreadable_parquet")


def test_split_boundaries_cover_every_line_once(tmp_path):
    records = [{"id": str(i), "text": "x" * (i % 37)} for i in range(500)]
    (tmp_path / "s.jsonl").write_bytes(jsonl_bytes(records))
    for size in (7, 100, 999):
        splits = [s for s in plan_splits([str(tmp_path)], size)]
        assert all(isinstance(s, Split) for s in splits)
        docs, _ = read_all([str(tmp_path)], InputConfig(split_bytes=size))
        assert sorted(int(d["id"]) for d in docs) == list(range(500))


def test_directories_skip_non_data_files_but_named_files_must_be_data(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(jsonl_bytes(GOOD[:2]))
    (tmp_path / "README.md").write_text("about this data")
    (tmp_path / "_SUCCESS").write_text("")
    assert [key for s in plan_splits([str(tmp_path)]) for key in [s.file_key]] == ["a.jsonl"]
    with pytest.raises(InputError, match="unknown input format"):
        plan_splits([str(tmp_path / "README.md")])
