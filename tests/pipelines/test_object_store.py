"""Every stage on s3:// (a real S3-protocol server on 127.0.0.1): results identical to local disk,
commit, resume and the lock as on local disk, clear errors before any work."""
from __future__ import annotations

import json
import os
import socket

import pytest

from corpus_tools import storage
from corpus_tools.clean import CleanConfig
from corpus_tools.config import dumps
from corpus_tools.dedup import DedupConfig
from corpus_tools.lm.score import ScoreConfig
from corpus_tools.shards import PackConfig, verify_pack
from pipelines import clean, dedup, pack, score
from pipelines.stage import OutputLocked, StageOutput
from tests.conftest import SAMPLE, SAMPLE_PACK_SHARD_TOKENS
from tests.digests import stage_digest


@pytest.fixture(scope="module")
def bucket(s3_environment) -> str:
    """A bucket of this module's own, holding a copy of the sample corpus under in/."""
    name = "ziya-object-store"
    s3_environment.filesystem(allow_bucket_creation=True).create_dir(name)
    for f in sorted(os.listdir(SAMPLE)):
        with open(os.path.join(SAMPLE, f), "rb") as data:
            storage.write_atomically(f"s3://{name}/in/{f}", data.read())
    return f"s3://{name}"


@pytest.fixture(scope="module")
def s3_clean(spark, bucket) -> str:
    out = f"{bucket}/out/clean"
    clean.run(spark, [f"{bucket}/in"], out, CleanConfig())
    return out


def test_clean_on_s3_equals_local(s3_clean, sample_clean_output):
    assert stage_digest(s3_clean) == stage_digest(sample_clean_output)
    assert storage.is_finished_stage(s3_clean)
    assert not storage.list_files(s3_clean + ".incomplete"), "the attempt prefix is gone after the commit"
    assert not storage.exists(s3_clean + ".lock")


def test_dedup_on_s3_equals_local(spark, s3_clean, sample_dedup_output):
    out = s3_clean.replace("clean", "dedup")
    dedup.run(spark, [s3_clean], out, DedupConfig())
    assert stage_digest(out) == stage_digest(sample_dedup_output)


def test_score_on_s3_equals_local(spark, s3_clean, sample_score_models, sample_score_output):
    out = s3_clean.replace("clean", "score")
    score.run(spark, [s3_clean], out, ScoreConfig(models=sample_score_models, keep=["high", "medium"]))
    assert stage_digest(out) == stage_digest(sample_score_output)


def test_pack_on_s3_equals_local_and_verifies(spark, s3_clean, sample_pack_output):
    out = s3_clean.replace("clean", "pack")
    pack.run(spark, [s3_clean], out, PackConfig(shard_tokens=SAMPLE_PACK_SHARD_TOKENS))
    assert stage_digest(out) == stage_digest(sample_pack_output)
    report = verify_pack(out)
    assert report.ok and report.shards > 1, report.lines


def test_rerun_of_a_finished_s3_output_is_a_no_op(spark, s3_clean, capsys):
    stats = storage.read_json(f"{s3_clean}/stats.json")
    assert clean.run(spark, [f"{s3_clean}/../in"], s3_clean, CleanConfig()) == stats
    assert "already holds this run" in capsys.readouterr().err


def test_a_killed_run_on_s3_resumes_from_its_finished_parts(spark, bucket, capfd):
    """Finish one split by hand as a killed run would have (its parts and done marker under the
    attempt prefix, no manifest, no _SUCCESS), then run: the rest is done, the result whole."""
    from corpus_tools.readers import Split, input_files
    from pipelines.stage import plan_parts

    cfg = CleanConfig()
    target = f"{bucket}/out/resumed"
    plan = plan_parts(input_files([f"{bucket}/in"]), cfg.input.split_bytes)
    out = StageOutput(target, dumps(cfg))
    out.begin(plan)
    first = plan[0]
    clean.clean_part(dumps(cfg), Split(**{k: v for k, v in first.items() if k != "part"}), out.tmp, first["part"])
    assert not storage.is_finished_stage(target)

    stats = clean.run(spark, [f"{bucket}/in"], target, cfg)
    assert stats["resumed_splits"] == 1
    assert "resuming: 1 of" in capfd.readouterr().err
    assert stage_digest(target)["kept_sha256"] == stage_digest(f"{bucket}/out/clean")["kept_sha256"]


def test_a_publish_cut_short_is_finished_by_the_next_run(spark, s3_clean):
    """An object store has no rename: if the copy of a finished attempt to its final name was cut
    short, the next run with the same config finishes it (the attempt still holds _SUCCESS)."""
    target = s3_clean.replace("clean", "cut-short")
    for path, _ in storage.list_files(s3_clean):
        storage.write_atomically(target + ".incomplete/" + storage.relative(path, s3_clean), storage.read_bytes(path))
    some = storage.list_files(target + ".incomplete/kept")[0][0]
    storage.write_atomically(f"{target}/kept/{storage.basename(some)}", storage.read_bytes(some))  # half copied

    stats = clean.run(spark, ["s3://never-read/in"], target, CleanConfig())
    assert stats == storage.read_json(f"{s3_clean}/stats.json")
    assert stage_digest(target) == stage_digest(s3_clean)
    assert not storage.list_files(target + ".incomplete")


def test_a_second_run_into_the_same_s3_output_is_refused(spark, bucket):
    target = f"{bucket}/out/locked"
    holder = {"run": "clean", "host": "another-host", "pid": 1, "started": "2026-12-03T00:00:00+0000"}
    assert storage.create_exclusive(target + ".lock", json.dumps(holder))
    assert not storage.create_exclusive(target + ".lock", "{}"), "the conditional create must refuse"
    with pytest.raises(OutputLocked, match=r"\(clean on another-host, pid 1, "):
        clean.run(spark, [f"{bucket}/in"], target, CleanConfig())
    assert not storage.exists(target + ".incomplete/_run.json"), "refused before writing anything"
    storage.remove(target + ".lock")


def test_a_lock_left_by_a_killed_run_on_this_host_is_taken_over(tmp_path):
    target = str(tmp_path / "out")
    dead = {"run": "clean", "host": socket.gethostname(), "pid": 2 ** 22 + 7, "started": "then"}
    storage.create_exclusive(target + ".lock", json.dumps(dead))
    with StageOutput(target, "{}").lock("clean"):
        assert storage.read_json(target + ".lock")["pid"] == os.getpid()
    assert not os.path.exists(target + ".lock")
