"""Perplexity scoring of document batches, percentiles within a language, buckets, thresholds.

The pieces `ziya score` (pipelines/score.py) wires into Spark, usable on plain Arrow batches:

    scorer = BatchScorer(cfg)                      # models load lazily, once per process
    scored = scorer.score(batch)                   # + ppl, ppl_para, quality_score
    grid = QuantileGrid.fractions(cfg)             # the quantiles to ask the engine for, per language
    out = assign(scored, grids, cfg)               # + ppl_percentile, quality_bucket, drop_reason

Ziya2 (Gan et al. 2023, section 3, "automatic scoring") ranks documents by KenLM perplexity under
models trained on reference text and keeps the best 30% as high and 30-60% as medium quality;
CCNet (Wenzek et al. 2020) cuts head/middle/tail at the same kind of per-language percentiles.
"""
from __future__ import annotations

import dataclasses
import json
import typing
from typing import Literal

import numpy as np
import pyarrow as pa

from corpus_tools.config import PositiveFloat, PositiveInt, Share, dumps, load

Bucket = Literal["high", "medium", "low"]
BUCKETS = typing.get_args(Bucket)
SCORE_FIELDS = [pa.field("ppl", pa.float64()), pa.field("ppl_para", pa.float64()), pa.field("quality_score", pa.float64())]
ASSIGN_FIELDS = [pa.field("ppl_percentile", pa.float64()), pa.field("quality_bucket", pa.string()),
                 pa.field("drop_reason", pa.string())]


@dataclasses.dataclass
class ScoreConfig:
    models: str = "models/kenlm"  # directory of <lang>.json/.arpa/.binary/.sp.model (ziya kenlm train)
    quality_model: str | None = None  # fastText classifier (ziya quality train) -> quality_score
    text_field: str = "text"
    lang_field: str = "lang"  # written by `ziya clean` (docs/document-contract.md)
    # what percentiles and buckets rank: ppl_para is CCNet's paragraph-weighted form
    score_column: Literal["ppl", "ppl_para"] = "ppl_para"
    # Cumulative shares of each language's documents, best (lowest perplexity) first: Ziya2's
    # best 30% -> high, 30-60% -> medium, the rest low.
    high_share: Share = 0.3
    medium_share: Share = 0.6
    grid_points: PositiveInt = 1000  # ppl_percentile resolution: 0.1%
    # percentile_approx accuracy = documents of the language, clamped to this: a rank error of about
    # one document up to a million documents per language, 1e-6 relative beyond, bounded sketch memory.
    max_accuracy: PositiveInt = 1_000_000
    # thresholding (None: off): keep these buckets / at most this perplexity / at least this quality
    keep: list[Bucket] | None = None
    max_ppl: PositiveFloat | None = None
    min_quality: Share | None = None  # quality_score is a probability
    batch_rows: PositiveInt = 256

    def __post_init__(self):
        if not 0 < self.high_share <= self.medium_share <= 1:
            raise ValueError(f"need 0 < high_share <= medium_share <= 1, got {self.high_share}, {self.medium_share}")
        if self.keep is not None and not self.keep:
            raise ValueError("keep: name at least one bucket (or leave keep out to keep all)")
        if self.min_quality is not None and not self.quality_model:
            raise ValueError("min_quality needs a quality_model")

    @classmethod
    def from_dict(cls, data: dict) -> "ScoreConfig":
        return load(cls, data, "score")

    @property
    def thresholds_on(self) -> bool:
        return self.keep is not None or self.max_ppl is not None or self.min_quality is not None


def config_json(cfg: ScoreConfig) -> str:
    return dumps(cfg)


# ---------------------------------------------------------------- scoring

class BatchScorer:
    """Adds ppl, ppl_para and quality_score to batches; models come from per-process caches."""

    def __init__(self, cfg: ScoreConfig):
        from corpus_tools.lm.model import available_models

        self.cfg = cfg
        self.models = available_models(cfg.models)

    def score(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The batch with ppl, ppl_para and quality_score added (replacing older ones)."""
        scores = self.scores(batch)
        return with_columns(batch, SCORE_FIELDS, [scores.column(f.name) for f in SCORE_FIELDS])

    def scores(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Only the language and the scores of each document, in the batch's row order."""
        from corpus_tools.lm.model import cached_model

        texts = batch.column(self.cfg.text_field).to_pylist()
        langs = batch.column(self.cfg.lang_field).to_pylist()
        ppl = [None] * len(texts)
        ppl_para = [None] * len(texts)
        rows_by_lang: dict[str, list[int]] = {}
        for i, (text, lang) in enumerate(zip(texts, langs)):
            if text and lang in self.models:
                rows_by_lang.setdefault(lang, []).append(i)
        for lang, rows in rows_by_lang.items():  # one tokenizer call per language and batch
            scored = cached_model(self.models[lang]).perplexities_batch([texts[i] for i in rows])
            for i, (doc_ppl, doc_ppl_para) in zip(rows, scored):
                ppl[i], ppl_para[i] = doc_ppl, doc_ppl_para
        quality = [None] * len(texts)
        if self.cfg.quality_model:
            from corpus_tools.quality import cached_classifier

            quality = cached_classifier(self.cfg.quality_model).probabilities(texts)
        arrays = [pa.array(ppl, pa.float64()), pa.array(ppl_para, pa.float64()), pa.array(quality, pa.float64())]
        lang = batch.column(self.cfg.lang_field)
        return pa.RecordBatch.from_arrays([lang] + arrays, schema=pa.schema(
            [pa.field(self.cfg.lang_field, lang.type)] + SCORE_FIELDS))


def with_columns(batch: pa.RecordBatch, fields: list[pa.Field], arrays: list[pa.Array]) -> pa.RecordBatch:
    """`batch` with these columns appended, replacing columns of the same names."""
    names = [f.name for f in fields]
    keep = [n for n in batch.schema.names if n not in names]
    base = batch.select(keep)
    return pa.RecordBatch.from_arrays(list(base.columns) + arrays,
                                      schema=pa.schema(list(base.schema) + fields))


# ---------------------------------------------------------------- percentiles and buckets

def grid_fractions(cfg: ScoreConfig) -> list[float]:
    """The quantiles to compute per language: a regular grid plus the bucket cut points, so the
    cuts fall exactly on grid points."""
    regular = {round(k / cfg.grid_points, 9) for k in range(1, cfg.grid_points + 1)}
    return sorted(regular | {cfg.high_share, cfg.medium_share, 1.0})


@dataclasses.dataclass
class QuantileGrid:
    """A language's score quantiles: values[k] is the fractions[k] quantile."""

    fractions: list[float]
    values: list[float]

    def percentile(self, scores: np.ndarray) -> np.ndarray:
        """For each score, the largest grid fraction whose quantile is <= it: with exact
        quantiles, the document of rank r among n gets r/n (rounded down to the grid)."""
        idx = np.searchsorted(np.asarray(self.values), scores, side="right")
        fr = np.asarray([0.0] + list(self.fractions))
        return fr[idx]

    def cut(self, fraction: float) -> float:
        return self.values[self.fractions.index(fraction)]

    def buckets(self, scores: np.ndarray, cfg: ScoreConfig) -> np.ndarray:
        """high: at most the high_share quantile (the best 30%: the documents of rank
        <= ceil(0.3 n)); medium: up to the medium_share quantile; the rest low."""
        return np.where(scores <= self.cut(cfg.high_share), "high",
                        np.where(scores <= self.cut(cfg.medium_share), "medium", "low"))


def assign(batch: pa.RecordBatch, grids: dict[str, QuantileGrid], cfg: ScoreConfig) -> pa.RecordBatch:
    """+ ppl_percentile, quality_bucket (null where unscored) and drop_reason (null: kept)."""
    n = batch.num_rows
    scores = np.array(batch.column(cfg.score_column).to_pylist(), dtype=float)  # None -> nan
    langs = np.array(batch.column(cfg.lang_field).to_pylist(), dtype=object)
    percentile = np.full(n, np.nan)
    bucket = np.full(n, None, dtype=object)
    for lang, grid in grids.items():
        rows = (langs == lang) & ~np.isnan(scores)
        if rows.any():
            percentile[rows] = grid.percentile(scores[rows])
            bucket[rows] = grid.buckets(scores[rows], cfg)
    scored = ~np.isnan(percentile)
    reasons = drop_reasons(batch, bucket, scored, cfg)
    arrays = [pa.array(np.where(scored, percentile, None).tolist(), pa.float64()),
              pa.array(bucket.tolist(), pa.string()), pa.array(reasons, pa.string())]
    return with_columns(batch, ASSIGN_FIELDS, arrays)


def drop_reasons(batch: pa.RecordBatch, bucket: np.ndarray, scored: np.ndarray, cfg: ScoreConfig) -> list[str | None]:
    """The first threshold each document fails, or None. Unscored documents (no model for their
    language, no text) pass the perplexity rules: nothing says they are bad."""
    n = batch.num_rows
    reasons: list[str | None] = [None] * n
    if cfg.keep is not None:
        for i in np.flatnonzero(scored & ~np.isin(bucket, cfg.keep)):
            reasons[i] = f"ppl_bucket_{bucket[i]}"
    if cfg.max_ppl is not None:
        ppl = np.array(batch.column(cfg.score_column).to_pylist(), dtype=float)
        for i in np.flatnonzero(ppl > cfg.max_ppl):
            reasons[i] = reasons[i] or "ppl_too_high"
    if cfg.min_quality is not None:
        q = np.array(batch.column("quality_score").to_pylist(), dtype=float)
        for i in np.flatnonzero(q < cfg.min_quality):
            reasons[i] = reasons[i] or "quality_score_too_low"
    return reasons


def grids_to_json(grids: dict[str, QuantileGrid]) -> str:
    return json.dumps({lang: dataclasses.asdict(g) for lang, g in grids.items()})


def grids_from_json(text: str) -> dict[str, QuantileGrid]:
    return {lang: QuantileGrid(**g) for lang, g in json.loads(text).items()}


def accuracy_for(documents: int, cfg: ScoreConfig) -> int:
    return int(min(max(documents, 10_000), cfg.max_accuracy))
