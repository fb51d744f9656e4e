"""Shared fixtures: one SparkSession for the whole test session (starting one costs 15-40 s)."""
from __future__ import annotations

import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(REPO, "data", "sample")

TEST_SPARK_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.ui.showConsoleProgress": "false",
}


@pytest.fixture(scope="session")
def spark(s3_environment):
    """Local mode, started after the S3 server's AWS_* variables are set: Python workers inherit the
    JVM's environment as it was at launch, so they reach s3:// only if it was there first."""
    from pipelines.spark import get_session

    session = get_session("ziya-tests", "local[2]", TEST_SPARK_CONF)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def sample_clean_output(spark, tmp_path_factory):
    """`ziya clean` of data/sample with the default config, run once per test session; its path."""
    from corpus_tools.clean import CleanConfig
    from pipelines import clean

    out = str(tmp_path_factory.mktemp("sample_clean") / "clean")
    clean.run(spark, [SAMPLE], out, CleanConfig())
    return out


@pytest.fixture(scope="session")
def sample_dedup_output(spark, sample_clean_output, tmp_path_factory):
    """`ziya dedup` of the sample's clean output with the default config, run once per test session; its path."""
    from corpus_tools.dedup import DedupConfig
    from pipelines import dedup

    out = str(tmp_path_factory.mktemp("sample_dedup") / "dedup")
    dedup.run(spark, [sample_clean_output], out, DedupConfig())
    return out


SAMPLE_PACK_SHARD_TOKENS = 100_000  # small, so the larger sources of the sample span several shards


@pytest.fixture(scope="session")
def sample_pack_output(spark, sample_clean_output, tmp_path_factory):
    """`ziya pack` of the sample's clean output with the default base tokenizer (mistral-common's
    LLaMA-layout model), 100k-token shards, run once per test session; its path (shards/,
    manifest.json, stats.json)."""
    from corpus_tools.shards import PackConfig
    from pipelines import pack

    out = str(tmp_path_factory.mktemp("sample_pack") / "pack")
    pack.run(spark, [sample_clean_output], out, PackConfig(shard_tokens=SAMPLE_PACK_SHARD_TOKENS))
    return out


@pytest.fixture(scope="session")
def sample_score_models(tmp_path_factory):
    """Small 5-gram reference models (en: the KenLM fixture text, zh: the sample corpus' People's
    Daily news), trained here in seconds; their directory."""
    from corpus_tools.lm.model import TrainConfig, train

    folder = tmp_path_factory.mktemp("score_models")
    train([os.path.join(REPO, "tests", "data", "kenlm", "train.txt")], str(folder / "en"), TrainConfig("en", vocab_size=2000))
    train([os.path.join(SAMPLE, "news.jsonl.zst")], str(folder / "zh"), TrainConfig("zh", vocab_size=4000))
    return str(folder)


@pytest.fixture(scope="session")
def sample_score_output(spark, sample_clean_output, sample_score_models, tmp_path_factory):
    """`ziya score` of the sample clean output (keep high and medium), run once per test session; its path."""
    from corpus_tools.lm.score import ScoreConfig
    from pipelines import score

    out = str(tmp_path_factory.mktemp("sample_score") / "score")
    score.run(spark, [sample_clean_output], out, ScoreConfig(models=sample_score_models, keep=["high", "medium"]))
    return out


# --- Real services (tests/services.py): an S3-protocol server and a Spark standalone cluster ---


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """moto's S3 server on loopback, started once per test session (~1-2 s); an S3Service with
    `endpoint_url`, fake `access_key`/`secret_key` ("testing"), `region` ("us-east-1"), `env()`
    (the AWS_* variables) and `filesystem()` (an explicitly configured pyarrow S3FileSystem)."""
    from tests.services import S3Service, moto_s3_server

    with moto_s3_server(str(tmp_path_factory.mktemp("moto"))) as url:
        yield S3Service(url)


@pytest.fixture(scope="session")
def s3_environment(s3_server):
    """The standard AWS_* variables pointing at the session's S3 server, set for the whole test session
    (the driver, the local Spark session and every subprocess a test starts read them); restored after."""
    saved = {key: os.environ.get(key) for key in s3_server.env()}
    os.environ.update(s3_server.env())
    yield s3_server
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def s3_bucket(s3_environment):
    """A fresh, empty bucket on the session's S3 server (reachable as `FileSystem.from_uri("s3://...")`
    through the session's AWS_* variables); its root URI, "s3://<bucket>". Deleted afterwards."""
    import uuid

    name = f"test-{uuid.uuid4().hex[:12]}"
    admin = s3_environment.filesystem(allow_bucket_creation=True, allow_bucket_deletion=True)
    admin.create_dir(name)
    yield f"s3://{name}"
    admin.delete_dir(name)


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory):
    """A Spark standalone master plus one worker (2 cores, 2 GiB) from the pip pyspark, started once
    per test session (~8-20 s here); its master URL, "spark://127.0.0.1:PORT". Applications choose
    their executors' Python: set PYSPARK_PYTHON (or spark.pyspark.python) in the driver."""
    from tests.services import spark_standalone

    with spark_standalone(str(tmp_path_factory.mktemp("spark_cluster"))) as master:
        yield master
