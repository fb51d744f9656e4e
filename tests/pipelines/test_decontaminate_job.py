"""`ziya decontaminate` on a real Spark session: raw JSONL with a bad record and a stage's output as
input, every document accounted for, rejected rows naming their benchmark, a rerun that is a no-op
unless a benchmark's contents change, bad benchmarks refused before Spark starts."""
from __future__ import annotations

import json
import os

import pyarrow.parquet as pq
import pytest

from corpus_tools import storage
from corpus_tools.decontaminate import DecontaminateConfig, normalize
from pipelines import decontaminate
from pipelines.stage import OutputExists
from tests.corpus_tools.test_decontaminate import CHINESE, ENGLISH, words, write_jsonl
from tests.pipelines.test_clean_blocklist import run_cli
from tests.pipelines.test_clean_job import read_dir


def benchmarks(folder) -> list[str]:
    folder.mkdir(exist_ok=True)
    gsm = write_jsonl(folder / "gsm_like.jsonl", [
        {"question": words(ENGLISH[0], 0, 40), "answer": "42"},
        {"question": "What is the sum of two and two when both are counted carefully by a patient child?",
         "answer": "4"}])
    zh = write_jsonl(folder / "cmmlu_like.jsonl", [{"question": CHINESE[0][:80], "choices": ["甲", "乙"]}])
    return [gsm, zh]


DOCS = [  # id, text; the contaminated ones are named after their benchmark
    ("gsm_like-1", "Notes from a forum post. " + words(ENGLISH[0], 5, 20).upper() + " Thanks for reading."),
    ("gsm_like-2", words(ENGLISH[0], 20, 15).replace(" ", "\n")),
    ("cmmlu_like-1", "转载：" + " ".join(CHINESE[0][10:40]) + "（完）"),
    ("clean-1", ENGLISH[1]),
    ("clean-2", CHINESE[1]),
    ("clean-3", "The sum of two and two, counted carefully by a patient child, is four."),  # short shared phrases
    ("clean-4", ""),
]


def write_corpus(folder) -> str:
    folder.mkdir()
    with open(folder / "docs.jsonl", "w", encoding="utf-8") as f:
        for doc_id, text in DOCS:
            f.write(json.dumps({"id": doc_id, "text": text, "source": "forum"}, ensure_ascii=False) + "\n")
        f.write("{not json\n")
    return str(folder)


def test_raw_input_every_document_is_accounted_for_and_rejected_rows_name_their_benchmark(spark, tmp_path):
    bench = benchmarks(tmp_path / "bench")
    out = str(tmp_path / "out")
    stats = decontaminate.run(spark, [write_corpus(tmp_path / "in")], out, DecontaminateConfig(benchmarks=bench))

    kept, rejected, bad = (read_dir(os.path.join(out, d)) for d in ("kept", "rejected", "quarantine"))
    assert (stats["input"], stats["kept"], stats["rejected"], stats["quarantined"]) == (len(DOCS) + 1, 4, 3, 1)
    assert len(kept) + len(rejected) + len(bad) == stats["input"] and stats["reconciles"]
    assert sorted(r["id"] for r in kept) == [d for d, _ in DOCS if d.startswith("clean")]
    for row in rejected:
        assert row["drop_reason"] == f"contaminated:{row['id'].split('-')[0]}.jsonl" and row["matched_ngrams"] >= 1
        assert row["benchmark_item"] == 0 and row["source"] == "forum"
        assert " ".join(row["matched_span"].split()).replace(" ", "") in normalize(
            {d: t for d, t in DOCS}[row["id"]]).replace(" ", "").replace("\n", "")
    g = stats["benchmarks"]["gsm_like.jsonl"]
    assert (g["items"], g["documents_hit"], g["rejected"], g["items_hit"]) == (2, 2, 2, 1)
    assert {s["id"] for s in g["samples"]} == {"gsm_like-1", "gsm_like-2"}
    assert stats["counters"] == {"drop/contaminated:gsm_like.jsonl": 2, "drop/contaminated:cmmlu_like.jsonl": 1}
    assert json.loads(open(os.path.join(out, "config.json")).read())["benchmarks_digest"]


def test_a_stage_output_keeps_its_columns_and_its_row_count(spark, sample_clean_output, tmp_path):
    # a benchmark made of three real kept documents' passages, reformatted: those three are found
    kept_in = read_dir(os.path.join(sample_clean_output, "kept"))
    long = [r for r in kept_in if r["lang"] == "en" and len(r["text"].split()) > 80][:3]
    items = [{"passage": " ".join(r["text"].split()[30:70]).upper()} for r in long]
    bench = write_jsonl(tmp_path / "reading.jsonl", items)
    out = str(tmp_path / "out")
    stats = decontaminate.run(spark, [sample_clean_output], out, DecontaminateConfig(benchmarks=[bench]))

    assert stats["documents"] == len(kept_in) == stats["kept"] + stats["rejected"]
    rejected = read_dir(os.path.join(out, "rejected"))
    assert {r["id"] for r in long} <= {r["id"] for r in rejected}
    assert stats["benchmarks"]["reading.jsonl"]["items_hit"] == 3
    kept_schema = pq.read_schema(storage.parquet_parts(os.path.join(out, "kept"))[0])
    assert kept_schema == pq.read_schema(storage.parquet_parts(os.path.join(sample_clean_output, "kept"))[0])

    # the same run again is a no-op; a benchmark edited in place is a different run
    again = decontaminate.run(spark, [sample_clean_output], out, DecontaminateConfig(benchmarks=[bench]))
    assert again == storage.read_json(os.path.join(out, "stats.json"))
    write_jsonl(tmp_path / "reading.jsonl", items[:2])
    with pytest.raises(OutputExists, match="different config"):
        decontaminate.run(spark, [sample_clean_output], out, DecontaminateConfig(benchmarks=[bench]))


def test_bad_benchmarks_are_one_line_before_spark_starts(tmp_path):
    corpus = write_corpus(tmp_path / "in")
    good = benchmarks(tmp_path / "bench")[0]
    bad = tmp_path / "bench" / "bad.jsonl"
    bad.write_text('{"q": 1}\n[1, 2]\n')
    cases = [([], "no benchmark given"),
             (["--benchmark", str(tmp_path / "missing.jsonl")], "missing.jsonl"),
             (["--benchmark", str(bad)], f"{bad}:2: expected a JSON object"),
             (["--benchmark", good, "--benchmark-fields", "passage"], "no item has any of the fields ['passage']")]
    for args, says in cases:
        out = str(tmp_path / "out")
        got = run_cli("decontaminate", "--input", corpus, "--output", out, *args)
        lines = got["err"].strip().splitlines()
        assert got["rc"] == 2 and len(lines) == 1 and lines[0].startswith("ziya decontaminate: error: "), got
        assert says in lines[0], got
        assert not got["spark"], "Spark started before the error"
        assert not os.path.exists(out) and not os.path.exists(out + ".incomplete")
