"""The chain clean -> dedup -> score -> pack on a real Spark standalone cluster (a master and a
worker from the pip pyspark, on 127.0.0.1), as a user runs it: `ziya <stage> --master spark://...`
and `spark-submit ziya/cli.py <stage>`, with relative input and output paths, from a working
directory that is not the checkout. Every stage's output equals the local-mode run's."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from corpus_tools.clean import CleanConfig
from corpus_tools.dedup import DedupConfig
from corpus_tools.lm.score import ScoreConfig
from corpus_tools.shards import PackConfig, verify_pack
from pipelines import clean, dedup, pack, score
from tests.conftest import REPO, SAMPLE
from tests.digests import stage_digest
from tests.services import BIN, client_env

FILES = ("news.jsonl.zst", "web.jsonl.zst")  # Chinese and English, 1.2 MB: every stage has work to do
SHARD_TOKENS = 50_000


def chain(out: str) -> list[list[str]]:
    """The four stages' arguments, relative paths only, as the README writes them."""
    return [["clean", "--input", "in", "--output", f"{out}/clean"],
            ["dedup", "--input", f"{out}/clean", "--output", f"{out}/dedup"],
            ["score", "--input", f"{out}/clean", "--output", f"{out}/score", "--models", "models"],
            ["pack", "--input", f"{out}/clean", "--output", f"{out}/pack", "--shard-tokens", str(SHARD_TOKENS)]]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, sample_score_models) -> str:
    """A user's working directory outside the checkout: in/ (part of the sample), models/."""
    root = tmp_path_factory.mktemp("user")
    os.makedirs(root / "in")
    for name in FILES:
        shutil.copy(os.path.join(SAMPLE, name), root / "in" / name)
    shutil.copytree(sample_score_models, root / "models")
    return str(root)


@pytest.fixture(scope="module")
def local(spark, workdir) -> dict[str, dict]:
    """Each stage's digest in local mode (the test session's Spark), on the same input."""
    out = os.path.join(workdir, "local")
    clean.run(spark, [os.path.join(workdir, "in")], f"{out}/clean", CleanConfig())
    dedup.run(spark, [f"{out}/clean"], f"{out}/dedup", DedupConfig())
    score.run(spark, [f"{out}/clean"], f"{out}/score", ScoreConfig(models=os.path.join(workdir, "models")))
    pack.run(spark, [f"{out}/clean"], f"{out}/pack", PackConfig(shard_tokens=SHARD_TOKENS))
    return {stage: stage_digest(f"{out}/{stage}") for stage in ("clean", "dedup", "score", "pack")}


def user_env() -> dict[str, str]:
    """The user's shell: executors run this venv's Python (on one host the worker finds it; on a
    real cluster it is a packed venv or a per-node install, see test_services)."""
    return client_env(PYSPARK_PYTHON=sys.executable)


def run_chain(launcher: list[str], workdir: str, out: str, flags: tuple[str, ...] = ()) -> dict[str, dict]:
    for args in chain(out):
        done = subprocess.run([*launcher, *args, *flags], cwd=workdir, env=user_env(), capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, f"{args[0]}: {done.stderr[-4000:]}"
    return {stage: stage_digest(os.path.join(workdir, out, stage)) for stage in ("clean", "dedup", "score", "pack")}


def test_the_chain_with_master_url_equals_local_mode(spark_cluster, workdir, local):
    assert run_chain([os.path.join(BIN, "ziya")], workdir, "cli", ("--master", spark_cluster)) == local
    assert verify_pack(os.path.join(workdir, "cli", "pack")).ok


def test_the_chain_through_spark_submit_equals_local_mode(spark_cluster, workdir, local):
    submit = [os.path.join(BIN, "spark-submit"), "--master", spark_cluster, os.path.join(REPO, "ziya", "cli.py")]
    assert run_chain(submit, workdir, "submitted") == local


def test_a_stage_on_the_cluster_reads_and_writes_s3(spark_cluster, s3_bucket, workdir, local):
    """The worker was started without AWS_* settings (as on a real cluster): the driver's reach the
    executors through spark.executorEnv (pipelines.spark.get_session)."""
    from corpus_tools import storage

    for name in FILES:
        storage.write_atomically(f"{s3_bucket}/in/{name}", open(os.path.join(workdir, "in", name), "rb").read())
    done = subprocess.run([os.path.join(BIN, "ziya"), "clean", "--input", f"{s3_bucket}/in", "--output",
                           f"{s3_bucket}/clean", "--master", spark_cluster], cwd=workdir, env=user_env(),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    assert stage_digest(f"{s3_bucket}/clean") == local["clean"]
