"""corpus_tools.report on a tiny hand-made clean output (no Spark, no fastText)."""
from __future__ import annotations

import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_tools import report
from corpus_tools.clean import ANNOTATED_SCHEMA, OUTPUTS
from corpus_tools.stats import Stats


def doc(id, text, status, reason=None, kind="news", lang="zh", source="s1", signals=None, removed=None, raw_chars=None):
    return {
        "id": id, "text": text, "source": source, "url": None, "meta": json.dumps({"kind": kind}),
        "segment": 0, "lang": lang, "lang_score": 0.9, "lang_share": 1.0,
        "input_chars": raw_chars if raw_chars is not None else len(text) + sum((removed or {}).values()),
        "n_chars": len(text), "signals": list((signals or {}).items()),
        "chars_removed": list(removed.items()) if removed else None, "status": status, "drop_reason": reason,
    }


ROWS = [
    doc("a", "好" * 300, "kept", signals={"c4_sentences": 9.0}, removed={"c4_unterminated_lines": 50}),
    doc("b", "good text " * 40, "kept", lang="en", source="s2", kind="docs", signals={"c4_sentences": 7.0}, raw_chars=420),
    doc("c", "短", "rejected", "too_few_chars", signals={"chars": 1.0}),
    doc("d", "spam spam", "rejected", "too_few_chars", kind="spam", lang="en", signals={"chars": 9.0}),
    doc("e", "x" * 250, "rejected", "c4_too_few_sentences", kind="spam", lang="en", source="s2",
        signals={"chars": 250.0, "c4_sentences": 1.0}),
    {"id": "f.jsonl@7", "source": "s1", "file": "f.jsonl", "offset": 7, "error": "malformed_json: at 3",
     "raw": "{oops", "status": "quarantined"},
]


def write_output(root: str, rows: list[dict]) -> str:
    """The directory `pipelines.clean.run` would write for these annotated rows."""
    batch = pa.RecordBatch.from_pylist(rows, schema=ANNOTATED_SCHEMA)
    table = pa.Table.from_batches([batch])
    for name, (status, columns) in OUTPUTS.items():
        os.makedirs(os.path.join(root, name))
        part = table.filter(pa.compute.equal(table["status"], status)).select(columns)
        if part.num_rows:  # outputs older than ensure_schema_file had no file when empty
            pq.write_table(part, os.path.join(root, name, "part-00000.parquet"))
    with open(os.path.join(root, "stats.json"), "w") as f:
        json.dump(Stats.of_batch(batch).to_dict(), f)
    with open(os.path.join(root, "config.json"), "w") as f:
        json.dump({"filters": {}}, f)
    return root


@pytest.fixture
def out(tmp_path):
    return write_output(str(tmp_path / "clean"), ROWS)


def test_load_documents_reads_kept_and_rejected_with_status_and_map_columns(out):
    docs = report.load_documents(out, columns=report.LIGHT_COLUMNS)
    assert list(docs["id"]) == ["a", "b", "c", "d", "e"]
    assert list(docs["status"]) == ["kept"] * 2 + ["rejected"] * 3
    assert docs.loc[0, "signals"] == {"c4_sentences": 9.0} and docs.loc[0, "chars_removed"] == {"c4_unterminated_lines": 50}
    assert docs.loc[1, "chars_removed"] == {}
    assert docs["drop_reason"].tolist()[2:] == ["too_few_chars", "too_few_chars", "c4_too_few_sentences"]
    assert "text" not in docs


def test_load_documents_fetches_only_the_requested_ids(out):
    texts = report.load_documents(out, columns=["id", "text"], ids=["e", "a"])
    assert sorted(texts["id"]) == ["a", "e"] and set(texts["text"]) == {"好" * 300, "x" * 250}


def test_an_output_without_part_files_is_an_empty_frame(tmp_path):
    out = write_output(str(tmp_path / "clean"), ROWS[:2])
    assert report.load_output(out, "quarantine").columns.tolist() == report.QUARANTINE_COLUMNS
    assert len(report.load_output(out, "rejected", columns=["id", "drop_reason"])) == 0
    assert list(report.load_documents(out, columns=["id"])["status"]) == ["kept", "kept"]


def test_funnel_and_reconciliation(out):
    stats = report.load_stats(out)
    assert report.check_reconciliation(stats) == []
    funnel = report.funnel(stats)
    assert funnel["docs"].to_dict() == {"input": 6, "quarantined": 1, "documents": 5, "rejected": 3, "kept": 2}
    assert funnel.loc["kept", "share_of_input"] == pytest.approx(2 / 6)


def test_reconciliation_reports_a_broken_identity(out):
    stats = report.load_stats(out)
    stats["counters"]["drop/too_few_chars"] += 1
    stats["kept"] += 1
    problems = report.check_reconciliation(stats)
    assert any("drop reasons sum to 4" in p for p in problems)
    assert any(p.startswith("kept: top level 3") for p in problems)


def test_char_funnel_adds_up(out):
    stats = report.load_stats(out)
    chars = report.char_funnel(stats, report.load_documents(out, columns=report.LIGHT_COLUMNS))["chars"]
    assert chars["kept"] == 300 + 400 and chars["removed_by_line_rules"] == 50
    assert chars["in_rejected_docs"] == 1 + 9 + 250
    assert chars["removed_by_preprocessing"] == 20  # doc b: 420 raw characters, 400 after preprocessing
    assert chars["input"] == chars.drop("input").sum()


def test_counter_tables_are_sorted_with_shares(out):
    stats = report.load_stats(out)
    drops = report.counter_table(stats, "drop/", total=stats["input"])
    assert drops.index.tolist() == ["too_few_chars", "c4_too_few_sentences"]
    assert drops["count"].tolist() == [2, 1] and drops["share"].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert drops["share_of_total"].tolist() == pytest.approx([2 / 6, 1 / 6])
    assert report.counters(stats, "quarantine/").to_dict() == {"malformed_json": 1}
    assert report.counters(stats, "no_such/").empty


def test_keep_rates_from_counters_and_from_documents_agree(out):
    stats = report.load_stats(out)
    docs = report.load_documents(out, columns=report.LIGHT_COLUMNS)
    by_lang = report.status_counters(stats, "lang")
    assert by_lang.loc["en"].to_dict() == {"kept": 1, "rejected": 2, "total": 3, "keep_rate": pytest.approx(1 / 3)}
    assert by_lang.loc["zh", "keep_rate"] == 0.5
    assert report.keep_rates(docs, "lang").equals(by_lang)
    kinds = report.keep_rates(docs, report.meta_field(docs, "kind"))
    assert kinds.index.name == "kind" and kinds["kept"].to_dict() == {"news": 1, "spam": 0, "docs": 1}
    assert report.reasons_by(docs, "source").loc["too_few_chars"].to_dict() == {"s1": 2, "s2": 0}
    assert report.reasons_by(docs, "source").index.tolist() == ["too_few_chars", "c4_too_few_sentences"]


def test_meta_field_tolerates_missing_and_bad_meta():
    import pandas as pd

    docs = pd.DataFrame({"meta": ['{"kind": "news"}', None, "not json", "[1]", "{}"]})
    assert report.meta_field(docs, "kind").tolist() == ["news", None, None, None, None]


def test_histogram_rows_follow_the_stats_bins(out):
    stats = report.load_stats(out)
    kept = report.histogram(stats, "chars/kept")
    assert kept.loc["[256, 512)", "count"] == 2  # 300 and 400 characters
    assert kept.index[0] == "0" and kept["count"].sum() == 2
    trimmed = report.trim_empty_bins(kept[["count"]])
    assert trimmed.index.tolist() == ["[256, 512)"]
    scores = report.histogram(stats, "lang_score")
    assert scores.index[-1] == "[0.95, 1.00]" and scores.loc["[0.90, 0.95)", "count"] == 5


def test_signals_summary_and_histogram(out):
    docs = report.load_documents(out, columns=report.LIGHT_COLUMNS)
    summary = report.signal_summary(docs, ["c4_sentences"])
    assert summary.loc[("c4_sentences", "kept"), "measured"] == 2
    assert summary.loc[("c4_sentences", "kept"), "p50"] == 8.0
    assert summary.loc[("c4_sentences", "rejected"), "measured"] == 1  # c and d failed before C4 measured them
    hist = report.signal_histogram(docs, "c4_sentences", bins=4, upper_quantile=1.0)
    assert hist["kept"].sum() == 2 and hist["rejected"].sum() == 1 and hist["rejected"].iloc[0] == 1
    assert report.signal_histogram(docs, "no_such_signal").empty


def test_line_removals_per_group(out):
    docs = report.load_documents(out, columns=report.LIGHT_COLUMNS)
    table = report.line_removals(docs, report.meta_field(docs, "kind"))
    assert table.loc["news"].to_dict() == {"docs": 1, "kept_chars": 300, "c4_unterminated_lines": 50,
                                           "removed_share": pytest.approx(50 / 350)}
    assert table.loc["docs", "removed_share"] == 0
    assert report.line_removals(docs).loc["all", "docs"] == 2


def test_sample_is_reproducible_and_independent_of_row_order(out):
    docs = report.load_documents(out, columns=report.LIGHT_COLUMNS)
    first = report.sample(docs, 2, seed=3, by="drop_reason")
    again = report.sample(docs.iloc[::-1], 2, seed=3, by="drop_reason")
    assert first["id"].tolist() == again["id"].tolist()
    assert first["drop_reason"].fillna("kept").value_counts().to_dict() == {"too_few_chars": 2, "c4_too_few_sentences": 1}
    assert len(report.sample(docs, 10, seed=0)) == 5


def test_text_helpers():
    assert report.truncate("abcdef", 3) == "abc… [+3 chars]"
    assert report.truncate("abc", 3) == "abc" and report.truncate(None) is None
    assert report.text_bar(1, 1, width=4) == "████"
    assert report.text_bar(1, 2, width=1) == "▌"
    assert report.text_bar(0, 5) == report.text_bar(np.nan, 5) == report.text_bar(3, 0) == ""
    assert report.last_signal({"chars": 900.0, "c4_sentences": 2.0}) == "c4_sentences=2"
    assert report.last_signal({}) == ""
