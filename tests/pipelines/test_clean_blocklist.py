"""`ziya clean --url-blocklist` on a real Spark session: blocked documents are rejected with their
category, every document is accounted for, the rest is cleaned as without a list; a missing or bad
list is one line before Spark starts."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from corpus_tools.clean import CleanConfig
from pipelines import clean
from tests.hostile_inputs import count_input_records
from tests.pipelines.test_clean_job import read_dir

PROSE = ("The committee met on Tuesday to review the budget for the coming year. Members discussed the "
         "cost of repairs to the old bridge, which has been closed since the spring floods. After a long "
         "debate they agreed to ask the council for more money and to publish the plan next month.")
DOCS = [  # id, url; the ones named blocked_<category> are blocked
    ("blocked_adult-1", "https://porn.example/video/1"),
    ("blocked_adult-2", "http://www.Cams.Porn.Example:8080/"),
    ("blocked_adult-3", "free.host.org/~adult/gallery.html"),
    ("blocked_gambling-1", "http://casino.cc/?ref=9"),
    ("blocked_gambling-2", "https://m.casino.cc/slots"),
    ("blocked_syndicated-1", "https://news.site.org/wire/2024/story"),
    ("kept-1", "http://notporn.example/"),
    ("kept-2", "http://free.host.org/~bob/"),
    ("kept-3", "https://news.site.org/local/story"),
    ("kept-4", None),
    ("kept-5", ""),
    ("kept-6", "https://casino.cc.example.org/"),
]


def write_inputs(folder) -> str:
    folder.mkdir()
    with open(folder / "docs.jsonl", "w", encoding="utf-8") as f:
        for i, (doc_id, url) in enumerate(DOCS):
            f.write(json.dumps({"id": doc_id, "text": f"{PROSE} (Report {i}.)", "url": url}) + "\n")
        f.write(json.dumps({"id": "blocked_adult-empty", "text": "", "url": "http://porn.example/"}) + "\n")
        f.write("{not json\n")  # quarantined, as without a list
    return str(folder)


def write_lists(root) -> list[str]:
    ut1 = root / "ut1"
    for category, name, text in (("adult", "domains", "porn.example\n"), ("adult", "urls", "free.host.org/~adult/\n"),
                                 ("gambling", "domains", "# UT1 gambling\ncasino.cc\n")):
        (ut1 / category).mkdir(parents=True, exist_ok=True)
        (ut1 / category / name).write_text(text)
    (root / "syndicated.txt").write_text("news.site.org/wire/\n")
    return [str(ut1), str(root / "syndicated.txt")]


def test_clean_drops_blocked_urls_with_their_category_and_accounts_for_every_document(spark, tmp_path, capfd):
    inputs = write_inputs(tmp_path / "in")
    lists = write_lists(tmp_path / "lists")
    stats = clean.run(spark, [inputs], str(tmp_path / "out"), CleanConfig(url_blocklists=lists))
    capfd.readouterr()
    plain = clean.run(spark, [inputs], str(tmp_path / "plain"), CleanConfig())

    assert stats["reconciles"] and stats["input"] == count_input_records([inputs]) == len(DOCS) + 2
    kept, rejected = read_dir(str(tmp_path / "out" / "kept")), read_dir(str(tmp_path / "out" / "rejected"))
    quarantined = read_dir(str(tmp_path / "out" / "quarantine"))
    assert len(kept) + len(rejected) + len(quarantined) == stats["input"] and len(quarantined) == 1
    ids = [r["id"] for r in kept + rejected]
    assert sorted(ids) == sorted([d for d, _ in DOCS] + ["blocked_adult-empty"])

    blocked = {r["id"]: r["drop_reason"] for r in rejected if r["drop_reason"].startswith("url_blocked_")}
    assert blocked == {doc_id: "url_" + doc_id.split("-")[0] for doc_id in ids if doc_id.startswith("blocked_")}
    c = stats["counters"]
    assert (c["drop/url_blocked_adult"], c["drop/url_blocked_gambling"], c["drop/url_blocked_syndicated"]) == (4, 2, 1)
    assert stats["url_blocklists"]["categories"]["adult"] == {"domains": 1, "url_prefixes": 1}
    first = next(r for r in rejected if r["id"] == "blocked_adult-1")
    assert first["text"].startswith(PROSE) and first["url"] == "https://porn.example/video/1"  # as it was read

    # everything not blocked is cleaned exactly as without a list
    def by_id(folder):
        return {r["id"]: (r["text"], r.get("drop_reason")) for r in read_dir(folder)}
    with_list = {**by_id(str(tmp_path / "out" / "kept")), **by_id(str(tmp_path / "out" / "rejected"))}
    without = {**by_id(str(tmp_path / "plain" / "kept")), **by_id(str(tmp_path / "plain" / "rejected"))}
    assert {k: v for k, v in with_list.items() if k not in blocked} == {k: v for k, v in without.items() if k not in blocked}
    assert plain["kept"] - stats["kept"] == sum(1 for k in blocked if without[k][1] is None)


def test_the_lists_can_live_on_an_object_store(spark, tmp_path, s3_bucket):
    from corpus_tools import storage

    inputs = write_inputs(tmp_path / "in")
    storage.write_atomically(f"{s3_bucket}/lists/gambling/domains", "casino.cc\nporn.example\n")
    stats = clean.run(spark, [inputs], str(tmp_path / "out"), CleanConfig(url_blocklists=[f"{s3_bucket}/lists"]))
    assert stats["reconciles"] and stats["counters"]["drop/url_blocked_gambling"] == 5


# Runs `ziya clean` in a fresh process (no test Spark session around) and reports the exit code, stderr
# and whether a SparkContext was ever started.
CLI = r"""
import contextlib, io, json, sys
from ziya.cli import main
from pyspark import SparkContext

err = io.StringIO()
with contextlib.redirect_stderr(err):
    rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "err": err.getvalue(), "spark": SparkContext._active_spark_context is not None}))
"""


def run_cli(*argv: str) -> dict:
    done = subprocess.run([sys.executable, "-c", CLI, *argv], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_a_missing_or_bad_list_is_one_line_before_spark_starts(tmp_path):
    inputs = write_inputs(tmp_path / "in")
    good = write_lists(tmp_path / "lists")[0]
    bad = tmp_path / "bad.txt"
    bad.write_text("ok.com\nads.*.example.com\n")
    cases = [(str(tmp_path / "missing.txt"), f"url blocklist does not exist: {tmp_path}/missing.txt"),
             (str(bad), f"{bad}:2: '*' is allowed in a URL's path")]
    for path, says in cases:
        out = str(tmp_path / "out")
        got = run_cli("clean", "--input", inputs, "--output", out, "--url-blocklist", good, "--url-blocklist", path)
        lines = got["err"].strip().splitlines()
        assert got["rc"] == 2 and len(lines) == 1 and lines[0].startswith(f"ziya clean: error: {says}"), got
        assert not got["spark"], "Spark started before the error"
        assert not os.path.exists(out) and not os.path.exists(out + ".incomplete")


def test_relative_list_paths_resolve_on_the_driver(tmp_path, monkeypatch):
    from pipelines.stage import resolve_paths

    monkeypatch.chdir(tmp_path)
    cfg = resolve_paths(CleanConfig(url_blocklists=["lists/ut1", "s3a://bucket/l.txt"]), ("url_blocklists",))
    assert cfg.url_blocklists == [str(tmp_path / "lists" / "ut1"), "s3://bucket/l.txt"]
