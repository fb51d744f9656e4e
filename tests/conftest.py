"""Shared fixtures: one SparkSession for the whole test session (starting one costs 15-40 s)."""
from __future__ import annotations

import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(REPO, "data", "sample")

TEST_SPARK_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
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
