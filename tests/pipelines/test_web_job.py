"""`ziya clean` on the sample crawl (data/web/, built by scripts/build_sample_warc.py) on a real Spark
session: every WARC record accounted for, the same output in one task or many, WET input, and the
stages after clean refusing raw crawls."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pyarrow.parquet as pq
import pytest

from corpus_tools.clean import CleanConfig
from corpus_tools.readers import InputConfig
from pipelines import clean

WEB = os.path.join(os.path.dirname(__file__), "..", "..", "data", "web")
WARC, WET = os.path.join(WEB, "handbook_crawl.warc.gz"), os.path.join(WEB, "handbook_crawl.warc.wet.gz")


def warc_record_types(path: str) -> Counter:
    from fastwarc.warc import ArchiveIterator

    with open(path, "rb") as f:
        return Counter(str(r.record_type).rsplit(".", 1)[-1] for r in ArchiveIterator(f, parse_http=False))


def rows(out: str, name: str) -> list[dict]:
    folder = os.path.join(out, name)
    return [r for f in sorted(os.listdir(folder)) if f.endswith(".parquet")
            for r in pq.read_table(os.path.join(folder, f)).to_pylist()]


@pytest.fixture(scope="module")
def crawl_runs(spark, tmp_path_factory):
    """The sample crawl cleaned in one task and in 64 KB splits."""
    root = tmp_path_factory.mktemp("web")
    whole = clean.run(spark, [WARC], str(root / "whole"), CleanConfig())
    split_cfg = CleanConfig(input=InputConfig(split_bytes=64 * 1024))
    split = clean.run(spark, [WARC], str(root / "split"), split_cfg)
    return (str(root / "whole"), whole), (str(root / "split"), split)


def test_every_warc_record_is_a_document_a_counted_skip_or_quarantined(crawl_runs):
    (out, stats), _ = crawl_runs
    truth = [json.loads(line) for line in open(os.path.join(WEB, "handbook_crawl.main.jsonl"), encoding="utf-8")]
    types = warc_record_types(WARC)  # the cut-off last record included
    c = stats["counters"]
    assert stats["input"] == len(truth) + 1  # every page, plus the quarantined cut-off record
    assert stats["input"] + stats["skipped"] == sum(types.values())
    assert c["skipped/request"] == types["request"] and c["skipped/warcinfo"] == 1
    assert c["skipped/metadata"] == types["metadata"] and c["skipped/revisit"] == types["revisit"]
    assert c["skipped/http_404"] > 0 and c["skipped/http_301"] > 0 and c["skipped/not_html"] > 0
    assert stats["quarantined"] == 1 and c["quarantine/truncated_record"] == 1
    assert stats["kept"] + stats["rejected"] + stats["quarantined"] == stats["input"]
    assert {r["id"] for r in rows(out, "kept") + rows(out, "rejected")} == {t["record_id"].strip("<>") for t in truth}


def test_chinese_pages_in_every_encoding_are_kept_as_valid_text(crawl_runs):
    (out, _), _ = crawl_runs
    kept = rows(out, "kept")
    by_encoding = Counter(json.loads(r["meta"])["encoding"] for r in kept if r["lang"] == "zh")
    assert {"gb18030", "big5hkscs", "utf-8"} <= set(by_encoding)
    assert not any("\ufffd" in r["text"] for r in kept)
    assert all(r["url"].startswith("https://") for r in kept)


def test_a_crawl_split_across_tasks_gives_the_output_of_one_task(crawl_runs):
    (whole_out, whole), (split_out, split) = crawl_runs
    assert split["splits"] > 3 and whole["splits"] == 1
    for name in ("kept", "rejected", "quarantine"):
        key = (lambda r: json.dumps(r, sort_keys=True, default=str))
        assert sorted(rows(split_out, name), key=key) == sorted(rows(whole_out, name), key=key)
    assert split["counters"] == whole["counters"]


def test_wet_input_reads_the_converted_text(spark, tmp_path):
    stats = clean.run(spark, [WET], str(tmp_path / "wet"), CleanConfig())
    truth = sum(1 for _ in open(os.path.join(WEB, "handbook_crawl.main.jsonl"), encoding="utf-8"))
    assert stats["input"] == truth and stats["skipped"] == 1 and stats["quarantined"] == 0
    assert stats["kept"] > truth // 2


def test_stages_after_clean_refuse_a_raw_crawl_in_one_line(tmp_path):
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ziya"), "dedup", "--input", WARC,
                           "--output", str(tmp_path / "dedup")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].endswith(
        "handbook_crawl.warc.gz: WARC/WET input is read by `ziya clean`; run it first and give this stage its output")
    assert not (tmp_path / "dedup").exists()
