"""Part files: whole or absent, and a rerun replaces rather than adds."""
from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq

from corpus_tools.writers import PartWriter, ensure_schema_file

SCHEMA = pa.schema([("id", pa.string()), ("n", pa.int64())])


def batch(n: int) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({"id": [str(i) for i in range(n)], "n": list(range(n)), "extra": [0] * n})


def test_rows_are_written_under_the_part_name_with_only_the_schema_columns(tmp_path):
    w = PartWriter(str(tmp_path / "kept"), "part-00003", SCHEMA)
    w.write(batch(3))
    w.write(batch(2))
    w.close()
    assert os.listdir(tmp_path / "kept") == ["part-00003.parquet"]
    table = pq.read_table(tmp_path / "kept" / "part-00003.parquet")
    assert table.num_rows == 5 and table.schema.names == ["id", "n"]


def test_a_retried_part_replaces_the_first_attempt(tmp_path):
    for rows in (4, 2):
        w = PartWriter(str(tmp_path), "part-00000", SCHEMA)
        w.write(batch(rows))
        w.close()
    assert pq.read_table(tmp_path / "part-00000.parquet").num_rows == 2
    assert os.listdir(tmp_path) == ["part-00000.parquet"]


def test_no_rows_no_file_then_a_schema_file(tmp_path):
    w = PartWriter(str(tmp_path / "q"), "part-00000", SCHEMA)
    w.write(batch(0))
    w.close()
    assert not (tmp_path / "q").exists()
    ensure_schema_file(str(tmp_path / "q"), SCHEMA)
    table = pq.read_table(tmp_path / "q")
    assert table.num_rows == 0 and table.schema.names == ["id", "n"]
