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


# ---------------------------------------------------------------- JSONL through pyarrow (with_meta=False)

ODD_LINES = [
    b'{"id": 7, "text": "an integer id"}\n',
    b'{"text": "no id: derived from the offset"}\n',
    b'{"id": "", "text": "an empty id"}\n',
    b'{"id": null, "text": "a null id", "source": null}\n',
    b'{"id": "s5", "text": "a number source", "source": 5}\n',
    b'\xef\xbb\xbf{"id": "bom", "text": "a byte order mark"}\n',
    b'{"id": "two", "text": "a"} {"id": "objects", "text": "b"}\n',
    b'{"id": "multi",\n',
    b'"text": "an object over two lines"}\n',
    b"\n",
    b"   \t \n",
    b'{"id": "trail", "text": "trailing spaces"}   \n',
    b'{"id": "crlf", "text": "windows line end"}\r\n',
    b'{"id": "dup", "text": "first", "text": "second"}\n',
    b'{"id": "nan", "text": "NaN elsewhere", "score": NaN}\n',
    b'{"id": "esc", "text": "tab\\t newline\\n quote\\" \\u4e2d\\u6587 \\ud83d\\ude00"}\n',
    b'{"id": "big", "text": "' + b"x" * 300 + b'"}\n',  # over max_record_bytes below
    b'{"id": 2.0, "text": "a float id"}\n',
    b'{"id": 12345678901234567890123, "text": "an id beyond int64"}\n',
]


def lean_and_full(path, cfg):
    """(documents without meta, quarantine) through the pyarrow path and the record path."""
    out = []
    for with_meta in (False, True):
        docs, bad = [], []
        for split in plan_splits([str(path)], cfg.split_bytes):
            for batch in read_split(split, cfg, with_meta=with_meta):
                docs += batch.documents.drop_columns(["meta"]).to_pylist()
                bad += batch.quarantine.to_pylist()
        out.append((docs, bad))
    return out


@pytest.mark.parametrize("block_bytes", [64, 1000, 1 << 20])
@pytest.mark.parametrize("split_bytes", [700, 1 << 20])
def test_arrow_path_gives_what_the_record_path_gives(tmp_path, monkeypatch, block_bytes, split_bytes):
    """Whatever pyarrow would read differently from json.loads goes through the record path."""
    import corpus_tools.readers as readers

    monkeypatch.setattr(readers, "ARROW_BLOCK_BYTES", block_bytes)
    good = [json.dumps({"id": f"g{i}", "text": f"good {i} 中文", "source": "web" if i % 3 else None}).encode() + b"\n"
            for i in range(40)]
    lines = [line for i, odd in enumerate(ODD_LINES) for line in (good[i % 40], odd)] + good
    (tmp_path / "odd.jsonl").write_bytes(b"".join(lines) + b'{"id": "last", "text": "no newline at the end"}')
    cfg = InputConfig(split_bytes=split_bytes, max_record_bytes=256)
    (lean_docs, lean_bad), (docs, bad) = lean_and_full(tmp_path / "odd.jsonl", cfg)
    assert lean_docs == docs
    assert sorted(map(str, lean_bad)) == sorted(map(str, bad))
    assert len(docs) + len(bad) >= len(good) + 14
    by_id = {d["text"]: d["id"] for d in docs}
    assert by_id["an integer id"] == "7" and by_id["no id: derived from the offset"] != ""
    assert {"record_too_large", "malformed_json"} <= {b["error"].split(":")[0] for b in bad}


def test_clean_jsonl_is_read_by_pyarrow_and_integer_ids_keep_their_digits(tmp_path, monkeypatch):
    import corpus_tools.readers as readers

    records = [{"id": i * 1000003, "text": f"text {i}", "url": f"u{i}"} for i in range(3000)]
    (tmp_path / "ints.jsonl").write_bytes(jsonl_bytes(records))

    def record_path(*args, **kwargs):
        raise AssertionError("clean input should not need the record path")

    monkeypatch.setattr(readers, "_parse_lines", record_path)
    split, = plan_splits([str(tmp_path)])
    batches = list(read_split(split, with_meta=False))
    assert all(b.documents.num_rows <= InputConfig().batch_rows for b in batches)
    docs = [d for b in batches for d in b.documents.to_pylist()]
    assert [d["id"] for d in docs] == [str(r["id"]) for r in records]
    assert docs[5] == {"id": "5000015", "text": "text 5", "source": "ints", "url": "u5", "meta": None}
