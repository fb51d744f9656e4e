"""Stats merge with + and reconcile input = kept + rejected + quarantined."""
from __future__ import annotations

import pyarrow as pa

from corpus_tools.stats import Histogram, Stats

SCHEMA_COLUMNS = dict(
    id=pa.string(), source=pa.string(), segment=pa.int32(), lang=pa.string(), lang_score=pa.float32(),
    input_chars=pa.int64(), n_chars=pa.int64(), chars_removed=pa.map_(pa.string(), pa.int64()),
    status=pa.string(), drop_reason=pa.string(), error=pa.string(),
)


def annotated(rows: list[dict]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(
        {name: [r.get(name) for r in rows] for name in SCHEMA_COLUMNS},
        schema=pa.schema(list(SCHEMA_COLUMNS.items())),
    )


ROWS = [
    dict(id="a", source="news", segment=0, lang="zh", lang_score=0.9, input_chars=100, n_chars=90,
         chars_removed=[("nav", 10)], status="kept"),
    dict(id="b", source="web", segment=0, lang="en", lang_score=0.5, input_chars=50, n_chars=50,
         status="rejected", drop_reason="gopher_too_few_words"),
    dict(id="c", source="web", segment=0, lang="en", lang_score=0.99, input_chars=3000, n_chars=1500, status="kept"),
    dict(id="c#1", source="web", segment=1, lang="en", lang_score=0.99, input_chars=0, n_chars=1500, status="kept"),
    dict(id="x.jsonl@5", source="web", status="quarantined", error="malformed_json: Expecting value"),
]


def test_counts_and_reconciliation():
    stats = Stats.of_batch(annotated(ROWS)).to_dict()
    assert (stats["input"], stats["kept"], stats["rejected"], stats["quarantined"]) == (4, 3, 1, 1)
    assert stats["extra_segments"] == 1 and stats["reconciles"]
    c = stats["counters"]
    assert c["drop/gopher_too_few_words"] == 1
    assert c["quarantine/malformed_json"] == 1
    assert c["lang/zh/kept"] == 1 and c["lang/en/rejected"] == 1
    assert c["chars_removed/nav"] == 10
    assert c["chars/input"] == 3150 and c["chars/kept"] == 3090 and c["chars/rejected"] == 50


def test_merging_partitions_equals_counting_all_at_once():
    whole = Stats.of_batch(annotated(ROWS))
    parts = Stats.of_batch(annotated(ROWS[:2])) + Stats.of_batch(annotated(ROWS[2:]))
    assert parts.to_dict() == whole.to_dict()
    assert Stats.from_dict(whole.to_dict()).to_dict() == whole.to_dict()


def test_broken_accounting_is_reported():
    stats = Stats.of_batch(annotated(ROWS))
    stats.counters["kept"] -= 1
    assert stats.reconcile() and not stats.to_dict()["reconciles"]


def test_log2_histogram_bins():
    h = Histogram.empty("log2")
    import numpy as np

    h.add(np.array([0, 1, 2, 3, 4, 1000]))
    assert h.counts[0] == 1 and h.counts[1] == 1 and h.counts[2] == 2 and h.counts[3] == 1 and h.counts[10] == 1
