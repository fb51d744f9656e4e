"""Golden outputs: clean, dedup, score and pack of data/sample, pinned value by value.

A refactor of the jobs must not change what they write. Each test compares one stage's counts,
drop reasons and a sha256 of its kept documents (for pack: of its shards' checksums) with the
values below. A change to them must be explained in the commit that makes it.
"""
from __future__ import annotations

import json

from corpus_tools.storage import join, read_json
from tests.digests import kept_sha256, manifest_sha256

# Produced by the code at commit 018d4366c63819856443e4d885df53e9858afda7, with the fixtures of
# tests/conftest.py. A change to any value must be explained in the commit that makes it.
GOLDEN = {
    "clean": {
        "input": 4069, "segments": 4069, "kept": 2506, "rejected": 1563, "quarantined": 0,
        "drop/all_lines_removed": 1, "drop/c4_curly_bracket": 43, "drop/c4_too_few_sentences": 307,
        "drop/fineweb_too_few_terminal_punctuation_lines": 77, "drop/fineweb_too_many_duplicate_line_chars": 203,
        "drop/fineweb_too_many_newlines": 2, "drop/fineweb_too_many_short_lines": 21,
        "drop/gopher_mean_word_length_too_long": 4, "drop/gopher_too_few_alphabetic_words": 50,
        "drop/gopher_too_few_stop_words": 1, "drop/gopher_too_few_words": 6, "drop/gopher_too_many_bullet_lines": 4,
        "drop/gopher_too_many_duplicate_10gram_chars": 1, "drop/gopher_too_many_duplicate_5gram_chars": 35,
        "drop/gopher_too_many_duplicate_8gram_chars": 1, "drop/gopher_too_many_duplicate_9gram_chars": 1,
        "drop/gopher_too_many_duplicate_lines": 72, "drop/gopher_too_many_duplicate_paragraph_chars": 1,
        "drop/gopher_too_many_duplicate_paragraphs": 3, "drop/gopher_too_many_ellipses": 1,
        "drop/gopher_too_many_hashes": 2, "drop/gopher_top_2gram_too_frequent": 15,
        "drop/gopher_top_3gram_too_frequent": 4, "drop/gopher_top_4gram_too_frequent": 5,
        "drop/lang_score_too_low": 324, "drop/mean_line_length_too_short": 6, "drop/too_few_chars": 185,
        "drop/too_many_advertising_keywords": 7, "drop/too_many_digits": 6, "drop/too_many_gambling_keywords": 101,
        "drop/too_many_punctuation_runs": 15, "drop/too_many_replacement_chars": 2, "drop/too_many_symbols": 8,
        "drop/zh_sentences_too_long": 1, "drop/zh_too_few_cjk_chars": 47, "drop/zh_too_little_punctuation": 1,
        "kept_sha256": "45a433775444cc6bfbfda3035ba2b43ef360085ea9d45901f08474f1f6ee14b7",
    },
    "dedup": {
        "input": 2506, "kept": 2223, "duplicates": 283, "quarantined": 0,
        "duplicates_by_phase/url": 212, "duplicates_by_phase/exact": 19, "duplicates_by_phase/near": 52,
        "cluster_sizes": {"2": 214, "3": 25, "4": 5, "5": 1},
        "kept_sha256": "fec17ae941f1f93bb870ba9eafbb030e3e28d2104cb3f452d2d034a423a13cfd",
    },
    "score": {
        "input": 2506, "kept": 1625, "rejected": 881, "quarantined": 0,
        "bucket/high": 663, "bucket/medium": 661, "bucket/low": 881, "bucket/unscored": 301,
        "drop/ppl_bucket_low": 881,
        "kept_sha256": "432f7b2a484b523df1b945bf97de3d56d9c201577d7d714219763492c76f8c98",
    },
    "pack": {
        "input": 2506, "packed": 2506, "quarantined": 0, "dropped": {"empty": 0}, "shards": 21, "tokens": 1448139,
        "manifest_sha256": "26268ed86c119dd178a68a2f84247f1d29e059e536da8a4b847b77dd452fc147",
    },
}


def counts(stats: dict, *names: str) -> dict:
    return {name: stats[name] for name in names}


def prefixed(counters: dict, *prefixes: str) -> dict:
    return {k: v for k, v in sorted(counters.items()) if k.startswith(prefixes)}


def clean_values(out: str) -> dict:
    stats = read_json(join(out, "stats.json"))
    return {**counts(stats, "input", "kept", "rejected", "quarantined", "segments"),
            **prefixed(stats["counters"], "drop/"), "kept_sha256": kept_sha256(out)}


def dedup_values(out: str) -> dict:
    stats = read_json(join(out, "stats.json"))
    return {**counts(stats, "input", "kept", "duplicates", "quarantined", "cluster_sizes"),
            **{f"duplicates_by_phase/{k}": v for k, v in sorted(stats["duplicates_by_phase"].items())},
            "kept_sha256": kept_sha256(out)}


def score_values(out: str) -> dict:
    stats = read_json(join(out, "stats.json"))
    return {**counts(stats, "input", "kept", "rejected", "quarantined"),
            **prefixed(stats["counters"], "drop/", "bucket/"), "kept_sha256": kept_sha256(out)}


def pack_values(out: str) -> dict:
    stats = read_json(join(out, "stats.json"))
    return {**counts(stats, "input", "packed", "quarantined", "shards", "tokens"), "dropped": stats["dropped"],
            "manifest_sha256": manifest_sha256(out)}


def assert_golden(stage: str, observed: dict) -> None:
    expected = GOLDEN[stage]
    moved = {k: (expected.get(k), observed.get(k)) for k in expected.keys() | observed.keys()
             if expected.get(k) != observed.get(k)}
    assert not moved, f"{stage}: values moved (golden, now): {json.dumps(moved, indent=1, sort_keys=True)}"


def test_clean(sample_clean_output):
    assert_golden("clean", clean_values(sample_clean_output))


def test_dedup(sample_dedup_output):
    assert_golden("dedup", dedup_values(sample_dedup_output))


def test_score(sample_score_output):
    assert_golden("score", score_values(sample_score_output))


def test_pack(sample_pack_output):
    assert_golden("pack", pack_values(sample_pack_output))
