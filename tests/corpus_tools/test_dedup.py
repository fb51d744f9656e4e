"""The dedup stage's per-document work without Spark: config, text keys, fingerprints."""
from __future__ import annotations

import doctest

import numpy as np
import pyarrow as pa
import pytest

from corpus_tools import dedup
from corpus_tools.config import ConfigError
from corpus_tools.dedup import DedupConfig, Fingerprinter, signatures_of, text_key


def test_doctests():
    assert doctest.testmod(dedup).failed == 0


def test_text_key_folds_case_width_and_whitespace_only():
    assert text_key("Hello  World\n") == text_key("hello world") == text_key("ＨＥＬＬＯ world")
    assert text_key("hello world") != text_key("hello, world")
    assert len(text_key("")) == 16


def test_config_validates_and_resolves_bands():
    with pytest.raises(ConfigError):
        DedupConfig.from_dict({"threshold": 0})
    with pytest.raises(ConfigError):
        DedupConfig(bands=20)
    with pytest.raises(ConfigError):
        DedupConfig(bands=20, rows=10)  # 200 > 128 permutations
    with pytest.raises(ConfigError):
        DedupConfig.from_dict({"treshold": 0.8})
    cfg = DedupConfig().resolved()
    assert cfg.bands * cfg.rows <= 128 and DedupConfig(bands=16, rows=8).resolved().bands == 16


def test_quality_column_choice():
    assert DedupConfig().quality(["id", "text"]) == (None, True)
    assert DedupConfig().quality(["id", "ppl"]) == ("ppl", False)
    assert DedupConfig().quality(["id", "ppl", "quality_score"]) == ("quality_score", True)
    assert DedupConfig(quality_column=None).quality(["quality_score"]) == (None, True)
    assert DedupConfig(quality_column="ppl", quality_higher_is_better=True).quality(["ppl"]) == ("ppl", True)
    with pytest.raises(ConfigError):
        DedupConfig(quality_column="score").quality(["id"])


def test_fingerprints_of_a_batch():
    cfg = DedupConfig(num_perm=32, bands=4, rows=8)
    text = "the quick brown fox jumps over the lazy dog " * 5
    batch = pa.RecordBatch.from_pydict({
        "id": ["a", "b", "c"], "text": [text, text.upper(), " ... "],
        "url": ["https://www.x.org/a?utm_source=1", None, "x.org/a"],
    })
    fp = Fingerprinter(cfg).batch(batch)
    rows = fp.to_pylist()
    assert [r["url_key"] for r in rows] == ["x.org/a", None, "x.org/a"]
    assert rows[0]["text_key"] == rows[1]["text_key"] != rows[2]["text_key"]
    assert rows[0]["signature"] == rows[1]["signature"] and len(rows[0]["bands"]) == 4
    assert rows[2]["signature"] is None and rows[2]["bands"] is None  # no shingles
    assert rows[0]["quality"] is None
    sigs = signatures_of(fp.column("signature").filter(pa.array([True, True, False])), 32)
    assert sigs.shape == (2, 32) and sigs.dtype == np.uint32


def test_verified_runs_choose_bands_that_miss_fewer_true_pairs():
    from corpus_tools.minhash import optimal_param

    verified = DedupConfig().resolved()
    unverified = DedupConfig(verify=False).resolved()
    assert (unverified.bands, unverified.rows) == optimal_param(DedupConfig().threshold, 128)
    assert verified.bands > unverified.bands and verified.bands * verified.rows <= 128
