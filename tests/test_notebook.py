"""notebooks/quality_stats.ipynb runs end to end on a clean output of the sample corpus and shows its numbers."""
from __future__ import annotations

import json
import os
import re

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import REPO

NOTEBOOK = os.path.join(REPO, "notebooks", "quality_stats.ipynb")


def cell_text(cell) -> str:
    """Everything a cell printed or displayed, as plain text."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out:
            parts.append(out.data.get("text/plain", ""))
    return "\n".join(parts)


def tagged(nb, tag: str):
    cells = [c for c in nb.cells if tag in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"expected one cell tagged {tag!r}"
    return cells[0]


@pytest.fixture(scope="module")
def executed(sample_clean_output, sample_score_output):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=300,
                            resources={"metadata": {"path": os.path.dirname(NOTEBOOK)}})
    # Raises CellExecutionError (with the cell and its traceback) if any cell fails,
    # including the notebook's own reconciliation asserts.
    client.execute(env={**os.environ, "ZIYA_CLEAN_OUTPUT": sample_clean_output, "ZIYA_SCORE_OUTPUT": sample_score_output})
    with open(os.path.join(sample_clean_output, "stats.json"), encoding="utf-8") as f:
        return nb, json.load(f)


def test_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_funnel_table_shows_the_stats_json_counts(executed):
    nb, stats = executed
    rows = dict(re.findall(r"^(\w+)\s+(\d+)\s+\S+\s*$", cell_text(tagged(nb, "funnel")), flags=re.M))
    shown = {k: int(v) for k, v in rows.items()}
    assert shown == {k: stats[k] for k in ("input", "quarantined", "documents", "rejected", "kept")}
    assert shown["input"] == shown["quarantined"] + shown["rejected"] + shown["kept"]


def test_every_drop_reason_is_counted_and_sampled(executed):
    nb, stats = executed
    reasons = {k.removeprefix("drop/"): v for k, v in stats["counters"].items() if k.startswith("drop/")}
    assert reasons
    table = cell_text(tagged(nb, "drop_reasons"))
    for reason, n in reasons.items():
        assert re.search(rf"^{reason}\s+{n}\s", table, flags=re.M), reason
    samples = cell_text(tagged(nb, "rejected_samples"))
    for reason, n in reasons.items():
        assert f"=== rejected: {reason} ({min(n, 3)} of {n:,}) ===" in samples


def test_bucket_shares_show_the_score_stats(executed, sample_score_output):
    nb, _ = executed
    with open(os.path.join(sample_score_output, "stats.json"), encoding="utf-8") as f:
        counters = json.load(f)["counters"]
    table = cell_text(tagged(nb, "bucket_shares"))
    for lang in ("zh", "en"):
        row = re.search(rf"^{lang}\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", table, flags=re.M)
        assert row, lang
        assert [int(x) for x in row.groups()] == [counters.get(f"lang/{lang}/bucket/{b}", 0)
                                                 for b in ("high", "medium", "low", "unscored")]


def test_perplexity_histograms_and_bucket_samples_are_shown(executed):
    nb, _ = executed
    assert "ppl_para" in cell_text(tagged(nb, "ppl_histograms"))
    samples = cell_text(tagged(nb, "bucket_samples"))
    for lang in ("zh", "en"):
        for bucket in ("high", "medium", "low"):
            assert re.search(rf"=== {lang} / {bucket} \(\d+ of [\d,]+\) ===", samples), (lang, bucket)
