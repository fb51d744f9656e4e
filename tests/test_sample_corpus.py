"""The committed sample corpus (data/sample/, built by scripts/build_sample_corpus.py) is usable:
every file decodes, records carry the contract's fields, and it holds both good text and every
kind of junk the pipeline is meant to handle."""
from __future__ import annotations

import json
import os
from collections import Counter
from functools import lru_cache

import pytest
import zstandard

SAMPLE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "sample")
FILES = ("news", "reviews", "docs", "packages", "code", "web")
REQUIRED = ("id", "text", "url", "source")
METADATA = ("lang", "kind", "origin", "dup_of")
GOOD_KINDS = {"news", "review", "docs", "package_description", "poem", "code"}
JUNK_KINDS = {"html_boilerplate", "html_markup", "spam", "repeated", "repeated_chars", "traditional", "short",
              "exact_duplicate", "near_duplicate", "mixed_language", "fullwidth", "control_chars", "mojibake"}


def _path(name: str) -> str:
    return os.path.join(SAMPLE_DIR, f"{name}.jsonl.zst")


@lru_cache(maxsize=None)
def _records(name: str) -> tuple[dict, ...]:
    with open(_path(name), "rb") as f:
        data = zstandard.ZstdDecompressor().stream_reader(f).read().decode("utf-8")
    assert data.endswith("\n")
    return tuple(json.loads(line) for line in data[:-1].split("\n"))


def _all() -> list[dict]:
    return [r for name in FILES for r in _records(name)]


@pytest.mark.parametrize("name", FILES)
def test_file_decodes_with_required_fields(name):
    records = _records(name)
    assert 150 <= len(records) <= 3000
    for r in records:
        for key in REQUIRED + METADATA:
            assert key in r, (name, key)
        assert isinstance(r["text"], str) and r["text"]
        assert isinstance(r["id"], str) and r["id"]
        assert r["url"] is None or r["url"].startswith(("http://", "https://"))


def test_one_json_object_per_line_even_for_unicode_line_separators():
    for name in FILES:
        with open(_path(name), "rb") as f:
            text = zstandard.ZstdDecompressor().stream_reader(f).read().decode("utf-8")
        assert len(text.splitlines()) == len(_records(name)), name


def test_ids_are_unique():
    ids = [r["id"] for r in _all()]
    assert len(ids) == len(set(ids))


def test_total_size_is_a_few_megabytes():
    compressed = sum(os.path.getsize(_path(name)) for name in FILES)
    assert 1_000_000 <= compressed <= 4_000_000


def test_every_kind_is_present():
    kinds = Counter(r["kind"] for r in _all())
    assert GOOD_KINDS | JUNK_KINDS <= set(kinds)
    assert set(kinds) <= GOOD_KINDS | JUNK_KINDS, set(kinds) - GOOD_KINDS - JUNK_KINDS
    for kind in JUNK_KINDS:
        assert kinds[kind] >= 10, kind


def test_most_documents_are_good_text_in_both_languages():
    records = _all()
    good = [r for r in records if r["kind"] in GOOD_KINDS]
    assert len(good) >= 0.6 * len(records)
    by_lang = Counter(r["lang"] for r in good)
    assert by_lang["zh"] >= 800 and by_lang["en"] >= 800
    zh_bytes = sum(len(r["text"].encode()) for r in records if r["lang"] == "zh")
    en_bytes = sum(len(r["text"].encode()) for r in records if r["lang"] == "en")
    assert 0.3 <= zh_bytes / (zh_bytes + en_bytes) <= 0.7
    assert {"de", "fr", "ja", "ru"} <= {r["lang"] for r in records}


def test_copies_point_at_their_originals():
    by_id = {r["id"]: r for r in _all()}
    for r in by_id.values():
        if r["kind"] in ("exact_duplicate", "near_duplicate"):
            original = by_id[r["dup_of"]]
            if r["kind"] == "exact_duplicate":
                assert r["text"] == original["text"]
            else:
                assert r["text"] != original["text"]
                assert abs(len(r["text"]) - len(original["text"])) <= 0.1 * len(original["text"]) + 5
        elif r["dup_of"] is not None:
            assert r["dup_of"] in by_id


def test_some_urls_repeat_for_url_dedup():
    urls = Counter(r["url"] for r in _all() if r["url"])
    assert sum(1 for n in urls.values() if n > 1) >= 30


def test_junk_is_not_labelled_in_the_text():
    for r in _all():
        assert "near_duplicate" not in r["text"] and "exact_duplicate" not in r["text"]


def test_readme_lists_every_file():
    with open(os.path.join(SAMPLE_DIR, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    for name in FILES:
        assert f"{name}.jsonl.zst" in readme
