"""`ziya run PIPELINE.toml` on a slice of the sample corpus, on a real Spark session: the plan, a
rerun that recomputes nothing, a config change that re-runs that stage and the ones after it only,
a restart at a stage boundary, a run killed mid-stage that resumes and equals an uninterrupted one,
and bad pipeline files refused in one line before any work."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import zstandard

from corpus_tools import storage
from pipelines import pipeline
from tests.conftest import REPO, SAMPLE
from tests.pipelines.test_clean_blocklist import run_cli
from tests.pipelines.test_clean_job import read_dir

SOURCES = ("news", "docs", "reviews", "packages", "web")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> str:
    """The first 70 documents of five sample files, as plain JSONL (~1 MB, so 64 KB splits make many parts)."""
    folder = tmp_path_factory.mktemp("slice")
    for name in SOURCES:
        with open(f"{SAMPLE}/{name}.jsonl.zst", "rb") as f:
            lines = zstandard.ZstdDecompressor().stream_reader(f).read().splitlines()[:70]
        (folder / f"{name}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return str(folder)


@pytest.fixture(scope="module")
def benchmark(tmp_path_factory, corpus) -> str:
    text = json.loads(open(f"{corpus}/news.jsonl", encoding="utf-8").readline())["text"]
    path = tmp_path_factory.mktemp("bench") / "bench.jsonl"
    path.write_text(json.dumps({"question": text[20:120], "answer": "A"}, ensure_ascii=False) + "\n", encoding="utf-8")
    return str(path)


def write_pipeline(folder, corpus: str, benchmark: str, models: str, threshold: float = 0.7, extra: str = "") -> str:
    recipe = folder / "recipe.toml"
    recipe.write_text('[[stages]]\nname = "general"\ntokens = 20000\nlr_rewarm = false\n'
                      'sources = { people_daily_1998 = 0.5, python_docs = 0.5 }\n')
    path = folder / "pipeline.toml"
    path.write_text(f"""
output = "{folder}/out"
inputs = ["{corpus}"]
{extra}
[[stages]]
stage = "clean"
config = {{ input = {{ split_bytes = 65536 }} }}
[[stages]]
stage = "dedup"
config = {{ threshold = {threshold} }}
[[stages]]
stage = "decontaminate"
config = {{ benchmarks = ["{benchmark}"] }}
[[stages]]
stage = "score"
config = {{ models = "{models}" }}
[[stages]]
stage = "pack"
config = {{ shard_tokens = 50000 }}
[[stages]]
stage = "mix"
recipe = "{recipe}"
""")
    return str(path)


def states(rows) -> dict[str, str]:
    return {r["step"].name: r["state"] for r in rows}


def digests(root: str) -> dict[str, str]:
    """Per Spark stage: a hash of its kept ids and texts (pack: its shards' sha256)."""
    out = {}
    for stage in ("clean", "dedup", "decontaminate", "score"):
        rows = sorted((r["id"], r["text"]) for r in read_dir(os.path.join(root, stage, "kept")))
        out[stage] = hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()
    manifest = storage.read_json(os.path.join(root, "pack", "manifest.json"))
    out["pack"] = hashlib.sha256(json.dumps([s["bin_sha256"] for s in manifest["shards"]]).encode()).hexdigest()
    return out


@pytest.fixture(scope="module")
def finished(spark, corpus, benchmark, sample_score_models, tmp_path_factory):
    """The pipeline run once, uninterrupted; (its folder, pipeline file, rows, its plan before it ran)."""
    folder = tmp_path_factory.mktemp("pipeline")
    path = write_pipeline(folder, corpus, benchmark, sample_score_models)
    pipe = pipeline.load(path)
    before = pipeline.plan(pipe)
    rows = pipeline.run(pipe, lambda: spark)
    return folder, path, rows, before


def test_the_plan_the_run_and_its_funnel(finished):
    folder, path, rows, before = finished
    assert [state for _, state in before] == ["run (new)"] + ["run (after an earlier step)"] * 5
    assert list(states(rows).values()) == ["ran"] * 6
    lines = pipeline.funnel(rows)
    clean = rows[0]["summary"]
    assert lines[1].split()[:4] == ["clean", "clean", f"{clean['input']:,}", f"{clean['kept']:,}"]
    pack = next(r["summary"] for r in rows if r["step"].stage == "pack")
    assert f"{pack['tokens']:,}" in lines[5]
    # each stage read the one before it
    assert rows[1]["summary"]["input"] == clean["kept"]
    assert rows[2]["summary"]["input"] == rows[1]["summary"]["kept"]
    assert rows[2]["summary"]["rejected"] == 1  # the benchmark's passage
    assert storage.read_json(os.path.join(folder, "out", "blends.json"))["stages"]
    assert [state for _, state in pipeline.plan(pipeline.load(path))] == ["up to date"] * 6


def test_a_rerun_recomputes_nothing(spark, finished, capfd):
    folder, path, _, _ = finished
    stamps = {p: os.stat(p).st_mtime_ns for p, _ in storage.list_files(str(folder / "out")) if "_pipeline" not in p}
    rows = pipeline.run(pipeline.load(path), lambda: spark)
    assert list(states(rows).values()) == ["up to date"] * 6
    assert {p: os.stat(p).st_mtime_ns for p in stamps} == stamps
    assert "nothing to do" in capfd.readouterr().err


def test_a_config_change_reruns_that_stage_and_the_ones_after_it_only(spark, finished, corpus, benchmark,
                                                                        sample_score_models, tmp_path):
    folder, path, _, _ = finished
    changed = write_pipeline(folder, corpus, benchmark, sample_score_models, threshold=0.8)
    pipe = pipeline.load(changed)
    assert [state for _, state in pipeline.plan(pipe)] == ["up to date", "run (its config changed)"] + \
        ["run (after an earlier step)"] * 4
    rows = pipeline.run(pipe, lambda: spark)
    assert list(states(rows).values()) == ["up to date"] + ["ran"] * 5
    # a restart at a stage boundary: pack's output and record gone as if killed before it began
    storage.remove_tree(str(folder / "out" / "pack"))
    storage.remove(str(folder / "out" / "_pipeline" / "pack.json"))
    rows = pipeline.run(pipeline.load(changed), lambda: spark)
    assert list(states(rows).values()) == ["up to date"] * 4 + ["ran", "up to date"]
    write_pipeline(folder, corpus, benchmark, sample_score_models)  # as it was, for the other tests


def test_a_run_killed_mid_stage_resumes_there_and_equals_an_uninterrupted_run(spark, finished, corpus, benchmark,
                                                                               sample_score_models, tmp_path):
    folder = tmp_path / "killed"
    folder.mkdir()
    path = write_pipeline(folder, corpus, benchmark, sample_score_models)
    proc = subprocess.Popen([sys.executable, "-m", "ziya.cli", "run", path, "--master", "local[1]"], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    done_dir = folder / "out" / "clean.incomplete" / "_done"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and len(list(done_dir.glob("*.json")) if done_dir.exists() else []) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its JVM and Python workers
    proc.wait()
    finished_parts = len(list(done_dir.glob("*.json")))
    assert finished_parts >= 2 and not (folder / "out" / "clean" / "_SUCCESS").exists(), "not killed mid-clean"

    pipe = pipeline.load(path)
    assert pipeline.plan(pipe)[0][1].startswith("resume (")
    rows = pipeline.run(pipe, lambda: spark)
    assert states(rows)["clean"] == "resumed" and rows[0]["summary"]["resumed_splits"] >= finished_parts
    assert digests(str(folder / "out")) == digests(str(finished[0] / "out"))


@pytest.mark.parametrize("change, says", [
    (lambda s: s.replace('stage = "dedup"', 'stage = "dedupe"'), "stage 2: unknown stage 'dedupe'"),
    (lambda s: s.replace('stage = "dedup"', 'stage = "pack_again"'), "unknown stage 'pack_again'"),
    (lambda s: s.replace('stage = "clean"', 'stage = "pack"', 1), "stage 2: dedup cannot come after pack"),
    (lambda s: s.replace('inputs = ["', 'inputs = ["/no/such/corpus", "'), "input /no/such/corpus"),
    (lambda s: s.replace("threshold = 0.7", "threshold = 7"), "stage 2 (dedup): config.threshold = 7: expected"),
    (lambda s: s.replace("bench.jsonl", "missing.jsonl"), "benchmarks does not exist"),
    (lambda s: s.replace('[[stages]]\nstage = "clean"\nconfig = { input = { split_bytes = 65536 } }\n', ""),
     "score needs clean before it"),
    (lambda s: s.replace('output = ', 'outptu = '), "unknown key(s) ['outptu']"),
], ids=["typo", "unknown", "order", "missing_input", "bad_config", "missing_file", "needs", "unknown_key"])
def test_a_bad_pipeline_file_is_one_line_before_any_work(tmp_path, corpus, benchmark, change, says):
    good = write_pipeline(tmp_path, corpus, benchmark, str(tmp_path))
    bad = tmp_path / "bad.toml"
    bad.write_text(change(open(good).read()))
    got = run_cli("run", str(bad))
    lines = got["err"].strip().splitlines()
    assert got["rc"] == 2 and len(lines) == 1 and lines[0].startswith("ziya run: error: "), got
    assert says in lines[0], lines
    assert not got["spark"] and not (tmp_path / "out").exists()
