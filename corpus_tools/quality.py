"""A fastText classifier that tells reference-like text from raw web-like text.

    ziya quality train --positive build/reference/zh.train.jsonl --negative out/clean/rejected --output models/quality.bin
    cls = QualityClassifier("models/quality.bin"); cls.probabilities(texts)  # P(reference-like)

GPT-3 (Brown et al. 2020, appendix A) and RedPajama-v2 trained such a classifier on curated
reference text (WebText, Wikipedia, books) against raw Common Crawl and used its probability as a
quality signal; `ziya score --quality-model` adds it as `quality_score`. Each document becomes one
line (normalized like the perplexity models: lowercase, digits folded) cut to `max_chars`; CJK
characters are spaced so fastText's word and n-gram features see them.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import random
import re
import tempfile

from corpus_tools.lm.model import ModelError, lm_normalize, reference_texts

POSITIVE, NEGATIVE = "__label__ref", "__label__web"
_CJK = re.compile(r"([\u3400-\u9fff\uf900-\ufaff])")
_WS = re.compile(r"\s+")


def features(text: str, max_chars: int = 2000) -> str:
    """The single line fastText sees for a document."""
    text = lm_normalize(text[:max_chars])
    return _WS.sub(" ", _CJK.sub(r" \1 ", text)).strip()


@dataclasses.dataclass
class QualityTrainConfig:
    epoch: int = 5
    lr: float = 0.5
    word_ngrams: int = 2
    dim: int = 64
    min_count: int = 2
    bucket: int = 200_000  # hashed n-gram rows: fastText's 2M default makes a 512 MB model at dim 64
    max_docs_per_class: int = 50_000  # balanced classes: the larger one is subsampled
    seed: int = 0


def train(positive: list[str], negative: list[str], output: str, cfg: QualityTrainConfig = QualityTrainConfig()) -> dict:
    """Train and save the classifier; returns the class sizes."""
    import fasttext

    rng = random.Random(cfg.seed)
    pos = _sample([features(t) for t in reference_texts(positive)], cfg.max_docs_per_class, rng)
    neg = _sample([features(t) for t in reference_texts(negative)], cfg.max_docs_per_class, rng)
    if not pos or not neg:
        raise ModelError("quality train needs both positive and negative documents")
    n = min(len(pos), len(neg))
    pos, neg = pos[:n], neg[:n]
    rows = [f"{POSITIVE} {t}" for t in pos if t] + [f"{NEGATIVE} {t}" for t in neg if t]
    rng.shuffle(rows)
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
        path = f.name
    try:
        model = fasttext.train_supervised(path, epoch=cfg.epoch, lr=cfg.lr, wordNgrams=cfg.word_ngrams, dim=cfg.dim,
                                          minCount=cfg.min_count, bucket=cfg.bucket, seed=cfg.seed, thread=1, verbose=0)
    finally:
        os.remove(path)
    model.save_model(output)
    return {"positive": len(pos), "negative": len(neg), "output": output}


def _sample(items: list[str], limit: int, rng: random.Random) -> list[str]:
    items = [t for t in items if t]
    return rng.sample(items, limit) if len(items) > limit else items


class QualityClassifier:
    def __init__(self, path: str):
        import fasttext

        if not os.path.exists(path):
            raise ModelError(f"quality model not found: {path}")
        try:
            self.model = fasttext.load_model(path)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"cannot load quality model {path}: {exc}") from exc
        if POSITIVE not in self.model.get_labels():
            raise ModelError(f"{path} is not a quality classifier (no {POSITIVE} label)")

    def probabilities(self, texts: list[str | None]) -> list[float | None]:
        """P(reference-like) of each text; None for a missing text."""
        rows = [features(t) if t else "" for t in texts]
        labels, probs = self.model.predict(rows, k=2)
        out: list[float | None] = []
        for text, ls, ps in zip(texts, labels, probs):
            if not text:
                out.append(None)
                continue
            p = dict(zip(ls, ps)).get(POSITIVE, 0.0)
            out.append(float(min(1.0, max(0.0, p))))
        return out


@functools.lru_cache(maxsize=4)
def cached_classifier(path: str) -> QualityClassifier:
    """One loaded classifier per path per process (Spark Python worker)."""
    return QualityClassifier(path)
