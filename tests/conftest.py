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
def spark():
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
