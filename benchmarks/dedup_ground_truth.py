"""A labelled near-duplicate benchmark set built from real, distinct documents.

    .venv/bin/python benchmarks/dedup_ground_truth.py            # -> benchmarks/data/dedup/

Originals: real English and Chinese documents of 1-5 KB of good kinds (news, reviews, docs,
package descriptions; not the bench corpus's recombined texts, copies or junk) taken from
`benchmarks/data/bench/*.jsonl` in a seeded order. A candidate is dropped when the true Jaccard
similarity of its shingle set (`corpus_tools.minhash.shingles`, 5-grams) with one already taken is
>= 0.3, so no two originals are near duplicates of each other.

Each original heads a group and gets 0-3 copies (no copy: 20%, one: 40%, two: 25%, three: 15%),
their kinds drawn without replacement from:
    exact   the same text
    edit1   1% of the words (en) or characters (zh) substituted, deleted or followed by an
    edit3   inserted one (uniformly), as `scripts/corpus_junk.near_duplicate` edits the bench
    edit5   corpus's near_duplicate documents: 1%, 3%, 5%
    swap    two sentences (or lines) swapped
Every pair of documents within a group is a true duplicate pair.

Hard negatives, each in a group of its own:
    boilerplate  sets of three documents with different real bodies wrapped in one shared
                 header + footer (cut from another real document) of 30% or 50% of their length
    half         an original's first half followed by another document's text (~50% different)
`negative_of` lists the groups a hard negative must not be merged with (the other documents of
its boilerplate set; the original's group).

Every document gets its own URL, so URL dedup merges nothing: the benchmark measures content
dedup. Deterministic for a seed. Output (git-ignored):
    benchmarks/data/dedup/docs/part-0000{0..3}.jsonl   id, text, url, group, kind, lang, negative_of
    benchmarks/data/dedup/manifest.json               counts and the true Jaccard of each copy
                                                      with its original, by kind and language
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from corpus_junk import near_duplicate  # noqa: E402  (scripts/corpus_junk.py)
from corpus_tools.minhash import MinHasher, shingles  # noqa: E402

GOOD_KINDS = ("news", "review", "docs", "package_description")
COPY_KINDS = ("exact", "edit1", "edit3", "edit5", "swap")
EDIT_RATES = {"edit1": 0.01, "edit3": 0.03, "edit5": 0.05}
COPIES_PER_ORIGINAL = ((0, 0.20), (1, 0.40), (2, 0.25), (3, 0.15))
MAX_ORIGINAL_JACCARD = 0.3  # originals are further apart than this (true Jaccard of 5-gram sets)
NGRAM = 5
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def load_candidates(bench_dir: Path, min_bytes: int, max_bytes: int) -> dict[str, list[dict]]:
    """Real good documents per language, in id order."""
    by_lang = defaultdict(list)
    for path in sorted(bench_dir.glob("bench-*.jsonl")):
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                d = json.loads(line)
                origin = d.get("origin") or ""
                if (d["kind"] in GOOD_KINDS and d["lang"] in ("en", "zh") and d.get("dup_of") is None
                        and not origin.startswith("recombined") and "+" not in origin
                        and min_bytes <= len(d["text"].encode()) <= max_bytes):
                    by_lang[d["lang"]].append(d)
    for docs in by_lang.values():
        docs.sort(key=lambda d: d["id"])
    return by_lang


def distinct(docs: list[dict], want: int, rng: random.Random) -> tuple[list[dict], int]:
    """Up to `want` documents in a seeded order, skipping any whose shingle set has a true Jaccard
    >= MAX_ORIGINAL_JACCARD with one already taken. MinHash estimates (128 permutations) pick the
    pairs worth checking exactly: an estimate < 0.15 is more than 3 standard errors below 0.3.
    Returns (taken, how many were skipped)."""
    order = docs[:]
    rng.shuffle(order)
    sigs = MinHasher(num_perm=128, ngram=NGRAM).signatures([d["text"] for d in order])
    taken, taken_sigs, taken_sets, skipped = [], np.empty((0, 128), np.uint32), [], 0
    for d, sig in zip(order, sigs):
        if len(taken) == want:
            break
        sh = set(shingles(d["text"], NGRAM))
        if not sh:
            continue
        close = np.flatnonzero((taken_sigs == sig).mean(axis=1) >= 0.15)
        if any(jaccard(sh, taken_sets[i]) >= MAX_ORIGINAL_JACCARD for i in close):
            skipped += 1
            continue
        taken.append(d)
        taken_sets.append(sh)
        taken_sigs = np.vstack([taken_sigs, sig])
    return taken, skipped


def swap_sentences(text: str, rng: random.Random, swaps: int = 1) -> str:
    """`swaps` random pairs of sentences (lines when there are fewer than four sentences) swapped."""
    parts = [p for p in _SENTENCE_END.split(text) if p]
    sep = " "
    if len(parts) < 4:
        parts, sep = text.split("\n"), "\n"
    if len(parts) < 2:
        return text[len(text) // 2:] + text[: len(text) // 2]
    for _ in range(swaps):
        i, j = rng.sample(range(len(parts)), 2)
        parts[i], parts[j] = parts[j], parts[i]
    return sep.join(parts)


def make_copy(kind: str, text: str, lang: str, rng: random.Random) -> str:
    if kind == "exact":
        return text
    if kind == "swap":
        return swap_sentences(text, rng)
    return near_duplicate(text, lang, rng, EDIT_RATES[kind])


def cut(text: str, chars: int) -> str:
    """About `chars` characters of `text`, ending at a line break when one is near."""
    piece = text[:chars]
    nl = piece.rfind("\n")
    return piece[:nl] if nl > chars * 0.7 else piece


def boilerplate_set(bodies: list[dict], source: dict, share: float) -> list[str]:
    """Each body wrapped in one header + footer taken from `source`, `share` of the final length."""
    mean_body = sum(len(b["text"]) for b in bodies) / len(bodies)
    block = cut(source["text"], int(mean_body * share / (1 - share)))
    split = len(block) * 2 // 3
    nl = block.rfind("\n", 0, split)
    split = nl if nl > split // 2 else split
    header, footer = block[:split].strip(), block[split:].strip()
    return [f"{header}\n\n{b['text'].strip()}\n\n{footer}" for b in bodies]


def half_different(original: str, other: str) -> str:
    """The first half of `original` followed by as much of `other` as the half it replaces."""
    half = len(original) // 2
    return original[:half].rstrip() + "\n" + cut(other, len(original) - half)


def build(bench_dir: Path, originals_per_lang: int, seed: int) -> tuple[list[dict], dict]:
    rng = random.Random(seed)
    candidates = load_candidates(bench_dir, 1000, 5000)
    boilerplate_sets_per_lang = originals_per_lang // 20  # 3 bodies + 1 header/footer source each
    halves_per_lang = originals_per_lang // 10
    pool_per_lang = 4 * boilerplate_sets_per_lang + halves_per_lang
    docs, copy_jaccard, skipped = [], defaultdict(list), {}
    for lang in ("en", "zh"):
        chosen, skipped[lang] = distinct(candidates[lang], originals_per_lang + pool_per_lang, rng)
        if len(chosen) < originals_per_lang + pool_per_lang:
            sys.exit(f"only {len(chosen)} distinct {lang} documents of 1-5 KB; need {originals_per_lang + pool_per_lang}")
        originals, pool = chosen[:originals_per_lang], chosen[originals_per_lang:]

        def add(text, group, kind, negative_of=()):
            docs.append({"text": text, "group": group, "kind": kind, "lang": lang, "negative_of": list(negative_of)})

        for n, orig in enumerate(originals):
            group = f"{lang}-g{n:05d}"
            add(orig["text"], group, "original")
            k = rng.choices([c for c, _ in COPIES_PER_ORIGINAL], [w for _, w in COPIES_PER_ORIGINAL])[0]
            base = set(shingles(orig["text"], NGRAM))
            for kind in rng.sample(COPY_KINDS, k):
                text = make_copy(kind, orig["text"], lang, rng)
                add(text, group, kind)
                copy_jaccard[f"{lang}/{kind}"].append(jaccard(base, set(shingles(text, NGRAM))))
        for s in range(boilerplate_sets_per_lang):
            *bodies, source = pool[4 * s: 4 * s + 4]
            share = 0.3 if s % 2 == 0 else 0.5
            groups = [f"{lang}-bp{s:04d}-{i}" for i in range(len(bodies))]
            for i, text in enumerate(boilerplate_set(bodies, source, share)):
                add(text, groups[i], f"boilerplate{int(share * 100)}", [g for g in groups if g != groups[i]])
        fillers = pool[4 * boilerplate_sets_per_lang:]
        for h, (n, filler) in enumerate(zip(rng.sample(range(originals_per_lang), halves_per_lang), fillers)):
            add(half_different(originals[n]["text"], filler["text"]), f"{lang}-half{h:04d}", "half",
                [f"{lang}-g{n:05d}"])
    rng.shuffle(docs)  # copies are not next to their originals
    for i, d in enumerate(docs):
        d["id"] = f"dd-{i:06d}"
        d["url"] = f"https://dedup-bench.example/{d['lang']}/{d['id']}"
    counts = defaultdict(int)
    for d in docs:
        counts[f"{d['lang']}/{d['kind']}"] += 1
    manifest = {
        "seed": seed, "bench_dir": str(bench_dir), "ngram": NGRAM, "docs": len(docs),
        "groups": len({d["group"] for d in docs}),
        "text_bytes": sum(len(d["text"].encode()) for d in docs),
        "counts": dict(sorted(counts.items())),
        "originals_skipped_as_near_duplicates": skipped,
        "copy_true_jaccard": {k: summary(v) for k, v in sorted(copy_jaccard.items())},
    }
    return docs, manifest


def summary(values: list[float]) -> dict:
    v = np.sort(np.asarray(values))
    return {"n": len(v), "min": round(float(v[0]), 4), "p10": round(float(np.quantile(v, 0.1)), 4),
            "median": round(float(np.median(v)), 4), "p90": round(float(np.quantile(v, 0.9)), 4),
            "share_ge_0.8": round(float((v >= 0.8).mean()), 4)}


def write(docs: list[dict], manifest: dict, out: Path, parts: int = 4) -> None:
    (out / "docs").mkdir(parents=True, exist_ok=True)
    for old in (out / "docs").glob("*.jsonl"):
        old.unlink()
    fields = ("id", "text", "url", "group", "kind", "lang", "negative_of")
    for p in range(parts):
        with open(out / "docs" / f"part-{p:05d}.jsonl", "w", encoding="utf-8") as f:
            for d in docs[p::parts]:
                f.write(json.dumps({k: d[k] for k in fields}, ensure_ascii=False) + "\n")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")


def read_docs(out: Path) -> list[dict]:
    """The benchmark documents, in id order (for the accuracy benchmark)."""
    docs = []
    for path in sorted((out / "docs").glob("*.jsonl")):
        with open(path, encoding="utf-8") as lines:
            docs += [json.loads(line) for line in lines if line.strip()]
    return sorted(docs, key=lambda d: d["id"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench", default=str(ROOT / "benchmarks/data/bench"), help="bench corpus folder")
    ap.add_argument("--output", default=str(ROOT / "benchmarks/data/dedup"))
    ap.add_argument("--originals", type=int, default=1000, help="originals per language (en, zh)")
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    t = time.perf_counter()
    docs, manifest = build(Path(args.bench), args.originals, args.seed)
    write(docs, manifest, Path(args.output))
    print(json.dumps({k: v for k, v in manifest.items() if k != "bench_dir"}, indent=1))
    print(f"{len(docs)} documents -> {args.output} ({time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":
    main()
