"""scripts/build_scale_corpus.py on a ~4 MB build: deterministic whatever the number of workers,
the manifest reconciles with the files, planted pairs are what they say, unplanted documents are
not near duplicates of each other, zh/en shares are near their targets."""
from __future__ import annotations

import json
import math
import os
import sys
from collections import Counter

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))

import build_scale_corpus as scale  # noqa: E402
from corpus_tools.minhash import MinHasher, shingles  # noqa: E402

MiB = 1 << 20


def _build(out, workers: int) -> str:
    cfg = scale.BuildConfig(str(out), size_bytes=4 * MiB, file_bytes=MiB + MiB // 2, seed=11)
    scale.build(cfg, workers)
    return str(out)


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> tuple[str, str]:
    base = tmp_path_factory.mktemp("scale")
    return _build(base / "two_workers", 2), _build(base / "one_worker", 1)


@pytest.fixture(scope="module")
def records(builds) -> list[dict]:
    return [rec for rec, _ in scale.iter_records(builds[0])]


@pytest.fixture(scope="module")
def manifest(builds) -> dict:
    with open(os.path.join(builds[0], "_manifest.json")) as fh:
        return json.load(fh)


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def test_same_seed_same_bytes_with_one_or_two_workers(builds):
    names = sorted(os.listdir(builds[0]))
    assert names == sorted(os.listdir(builds[1]))
    assert "_manifest.json" in names and "_planted.jsonl" in names and "scale-00002.jsonl" in names
    assert not [n for n in names if n.endswith(".tmp")]
    for name in names:
        assert _read(os.path.join(builds[0], name)) == _read(os.path.join(builds[1], name)), name


def test_a_rebuild_in_place_is_identical_and_drops_stale_parts(builds, tmp_path):
    out = tmp_path / "again"
    os.makedirs(out)
    (out / "scale-00099.jsonl").write_text("{}\n")
    _build(out, 2)
    assert sorted(os.listdir(out)) == sorted(os.listdir(builds[0]))
    assert _read(os.path.join(out, "scale-00000.jsonl")) == _read(os.path.join(builds[0], "scale-00000.jsonl"))


def test_manifest_counts_match_the_files(builds, records, manifest):
    files = sorted(n for n in os.listdir(builds[0]) if n.startswith("scale-"))
    assert [f[0] for f in manifest["files"]] == files
    assert len(files) == math.ceil(4 / 1.5)
    for name, size, docs in manifest["files"]:
        path = os.path.join(builds[0], name)
        assert os.path.getsize(path) == size
        with open(path, "rb") as fh:
            assert sum(1 for _ in fh) == docs
    assert manifest["bytes"] == sum(os.path.getsize(os.path.join(builds[0], n)) for n in files) >= 4 * MiB
    assert manifest["docs"] == len(records)
    assert manifest["kinds"] == dict(Counter(r["kind"] for r in records))
    assert manifest["langs"] == dict(Counter(r["lang"] for r in records))
    text_bytes = Counter()
    for r in records:
        text_bytes[r["lang"]] += len(r["text"].encode())
    assert manifest["lang_text_bytes"] == dict(text_bytes)
    assert manifest["planted"] == dict(Counter(r["kind"] for r in records if r["dup_of"]))
    assert manifest["planted_file"] == "_planted.jsonl"


def test_records_have_the_sample_fields_and_unique_ids(records):
    assert {tuple(r) for r in records} == {("id", "text", "url", "source", "lang", "kind", "origin", "dup_of")}
    ids = [r["id"] for r in records]
    assert len(set(ids)) == len(ids)
    urls = [r["url"] for r in records if r["url"] and not r["dup_of"]]
    assert len(set(urls)) == len(urls)  # copies may share their original's URL; nothing else does
    assert 0.1 < sum(r["url"] is None for r in records) / len(records) < 0.3
    assert all(len(scale.json_line(r).encode()) <= scale.MAX_RECORD_BYTES for r in records)


def test_planted_pairs_are_exact_and_near_copies(builds, records):
    by_id = {r["id"]: r for r in records}
    with open(os.path.join(builds[0], "_planted.jsonl")) as fh:
        pairs = [json.loads(line) for line in fh]
    kinds = Counter(p["kind"] for p in pairs)
    assert set(kinds) == {"exact_duplicate", "near_duplicate"}
    for kind, rate in scale.PLANTED_RATES.items():  # 3% each, give or take
        assert 0.5 * rate < kinds[kind] / len(records) < 1.5 * rate
    for p in pairs:
        copy, orig = by_id[p["id"]], by_id[p["dup_of"]]
        assert (copy["kind"], copy["dup_of"], orig["dup_of"]) == (p["kind"], orig["id"], None)
        assert orig["kind"] in scale.GOOD_KINDS + ("mixed_language",)
        if p["kind"] == "exact_duplicate":
            assert copy["text"] == orig["text"]
        else:
            assert copy["text"] != orig["text"] and 0.01 <= p["edit_rate"] <= 0.05
            a, b = set(shingles(copy["text"], 3)), set(shingles(orig["text"], 3))
            assert len(a & b) / len(a | b) >= 0.45, p
    assert any(p["id"].split("-")[0] != p["dup_of"].split("-")[0] for p in pairs)  # copies across files too


def test_unplanted_documents_are_not_near_duplicates(records):
    """Brute force over ~3000 documents: every unplanted pair's estimated Jaccard (3-grams) < 0.5.
    'short' pages (titles, stock error pages) are left out: they repeat by design."""
    docs = [r for r in records if r["kind"] != "short"][:3000]
    sigs = MinHasher(ngram=3).signatures([r["text"] for r in docs])
    group = np.array([hash(r["dup_of"] or r["id"]) for r in docs])
    worst = 0.0
    for i in range(len(docs) - 1):
        est = (sigs[i + 1:] == sigs[i]).mean(axis=1)
        est[group[i + 1:] == group[i]] = 0  # a planted copy and its original (or two copies of one)
        worst = max(worst, float(est.max()))
    assert worst < 0.5


def test_language_shares_near_their_targets(manifest):
    text = sum(manifest["lang_text_bytes"].values())
    zh, en = manifest["lang_text_bytes"]["zh"] / text, manifest["lang_text_bytes"]["en"] / text
    assert 0.40 < zh < 0.54 and 0.38 < en < 0.52
    assert {"mixed", "code"} <= set(manifest["langs"]) and len(manifest["langs"]) >= 6
    for kind in ("news", "review", "docs", "package_description", "poem", "code", "mixed_language",
                 "html_boilerplate", "spam", "short", "traditional"):
        assert manifest["kinds"].get(kind, 0) > 0, kind


def test_documents_are_recombined_and_varied(records):
    """Every good document draws on several sample documents, and re-drawn names grow the vocabulary."""
    sample = [d["text"] for d in scale.read_sample(scale.BuildConfig("", 1, 1, 0).sample_dir)]
    sample_words = set(scale._WORD.findall("\n".join(sample)))
    words = set(scale._WORD.findall("\n".join(r["text"] for r in records)))
    assert len(words - sample_words) > 0.1 * len(words)
    news = [r for r in records if r["kind"] == "news"][:50]
    assert all(r["text"] not in sample for r in news)
