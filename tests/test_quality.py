"""The fastText reference-vs-web classifier (corpus_tools.quality) and batch scoring/thresholds
without Spark (corpus_tools.lm.score)."""
from __future__ import annotations

import json
import os
import random

import numpy as np
import pyarrow as pa
import pytest

from corpus_tools.lm.model import ModelError
from corpus_tools.lm.score import QuantileGrid, ScoreConfig, assign, grid_fractions
from corpus_tools.quality import QualityClassifier, features, train

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN_TXT = os.path.join(HERE, "data", "kenlm", "train.txt")


def _docs(lines: list[str], size: int = 4) -> list[str]:
    return ["\n".join(lines[i:i + size]) for i in range(0, len(lines) - size + 1, size)]


@pytest.fixture(scope="module")
def classifier(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("quality")
    lines = [line.strip() for line in open(TRAIN_TXT, encoding="utf-8")][:1000]
    rng = random.Random(0)
    good = _docs(lines)
    bad = []
    for doc in good:
        words = doc.split()
        rng.shuffle(words)
        bad.append(" ".join(words) + " free spins casino bonus click here")
    for name, docs in (("good", good), ("bad", bad)):
        with open(folder / f"{name}.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps({"text": d}) + "\n" for d in docs)
    out = str(folder / "quality.bin")
    train([str(folder / "good.jsonl")], [str(folder / "bad.jsonl")], out)
    return out


def test_classifier_prefers_reference_like_text(classifier):
    cls = QualityClassifier(classifier)
    good, bad, missing = cls.probabilities([
        "the driver frees the buffer when the queue is released .",
        "casino free spins bonus click here queue the buffer",
        None,
    ])
    assert 0.0 <= bad < good <= 1.0
    assert missing is None


def test_wrong_or_missing_classifier_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        QualityClassifier(str(tmp_path / "nope.bin"))
    (tmp_path / "broken.bin").write_bytes(b"not a fasttext model")
    with pytest.raises(ModelError, match="cannot load quality model"):
        QualityClassifier(str(tmp_path / "broken.bin"))


def test_features_space_cjk_characters_and_fold_digits():
    assert features("人民日报 2026 News") == "人 民 日 报 0000 news"


def _batch(scores: list[float | None], langs: list[str], quality: list[float | None] | None = None) -> pa.RecordBatch:
    n = len(scores)
    return pa.RecordBatch.from_pydict({
        "id": [f"d{i}" for i in range(n)], "lang": langs, "ppl": scores, "ppl_para": scores,
        "quality_score": quality or [None] * n,
    })


def test_assign_uses_exact_cut_points_and_grid_percentiles():
    cfg = ScoreConfig(keep=["high"], max_ppl=95.0)
    values = [float(v) for v in range(1, 101)]  # 100 documents, ppl 1..100
    fractions = grid_fractions(cfg)
    # exact quantiles of 1..100: the f quantile is the value of rank ceil(100 f)
    grid = QuantileGrid(fractions, [values[int(np.ceil(round(100 * f, 9))) - 1] for f in fractions])
    out = assign(_batch(values + [None], ["en"] * 100 + ["xx"]), {"en": grid}, cfg).to_pydict()
    buckets = out["quality_bucket"]
    assert buckets[:30] == ["high"] * 30 and buckets[30:60] == ["medium"] * 30 and buckets[60:100] == ["low"] * 40
    assert buckets[100] is None and out["ppl_percentile"][100] is None
    assert out["ppl_percentile"][0] == pytest.approx(0.01) and out["ppl_percentile"][99] == 1.0
    reasons = out["drop_reason"]
    assert reasons[:30] == [None] * 30 and reasons[100] is None
    assert set(reasons[30:60]) == {"ppl_bucket_medium"} and set(reasons[60:100]) == {"ppl_bucket_low"}


def test_quality_threshold_names_its_reason():
    cfg = ScoreConfig(quality_model="q.bin", min_quality=0.5)
    out = assign(_batch([10.0, 20.0], ["en", "en"], [0.9, 0.1]), {}, cfg).to_pydict()
    assert out["drop_reason"] == [None, "quality_score_too_low"]
