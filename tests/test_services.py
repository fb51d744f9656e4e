"""The real-service fixtures work: S3 through pyarrow's environment-configured client, and Python work
that a Spark standalone cluster's executors run (tests/services.py, fixtures in tests/conftest.py)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyarrow import fs

from tests.services import BIN, client_env


def test_s3_round_trip_through_the_environment(s3_bucket):
    # No endpoint or credentials passed: from_uri takes them from the AWS_* variables s3_bucket set.
    s3, root = fs.FileSystem.from_uri(f"{s3_bucket}/data")
    table = pa.table({"id": [1, 2, 3], "text": ["a", "b", "c"]})
    pq.write_table(table, f"{s3_bucket}/data/part-0.parquet")
    with s3.open_output_stream(f"{root}/_SUCCESS") as out:
        out.write(b"")

    s3.copy_file(f"{root}/part-0.parquet", f"{root}/part-1.parquet")  # CopyObject, server-side
    fs.copy_files(f"{s3_bucket}/data", f"{s3_bucket}/copy")
    s3.delete_file(f"{root}/_SUCCESS")

    bucket = s3_bucket[len("s3://"):]
    listed = sorted(i.path for i in s3.get_file_info(fs.FileSelector(bucket, recursive=True)) if i.is_file)
    assert listed == [f"{bucket}/copy/_SUCCESS", f"{bucket}/copy/part-0.parquet",
                      f"{bucket}/copy/part-1.parquet", f"{bucket}/data/part-0.parquet", f"{bucket}/data/part-1.parquet"]
    assert pq.read_table(f"{s3_bucket}/copy/part-1.parquet").equals(table)


def test_s3_conditional_create_refuses_an_existing_key(s3_bucket):
    """`If-None-Match: *` makes a PUT create-only: the primitive a lock object needs."""
    import boto3
    import botocore.exceptions

    client = boto3.client("s3")  # endpoint and credentials from the environment too
    bucket = s3_bucket[len("s3://"):]
    client.put_object(Bucket=bucket, Key="lock", Body=b"first", IfNoneMatch="*")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        client.put_object(Bucket=bucket, Key="lock", Body=b"second", IfNoneMatch="*")
    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert client.get_object(Bucket=bucket, Key="lock")["Body"].read() == b"first"


# Runs as the driver in its own process (a SparkSession per process; the session fixture `spark` is
# local mode). Each task reports which Python ran it and which JVM started that Python. Mode "arrow"
# runs it in mapInArrow (needs pyarrow on the executors), "rdd" in plain Python (needs nothing).
PROBE_JOB = r"""
import json, os, sys
from pyspark.sql import SparkSession

def launching_jvm(pid):
    # Command line of the nearest java ancestor (Python workers fork from a daemon the JVM starts).
    while pid > 1:
        with open(f"/proc/{pid}/stat") as f:
            pid = int(f.read().rsplit(")", 1)[1].split()[1])
        with open(f"/proc/{pid}/cmdline") as f:
            args = f.read().split("\0")
        if os.path.basename(args[0]) == "java":
            return args
    return []

def where_am_i():
    import corpus_tools
    args = launching_jvm(os.getpid())
    executor = args[args.index("--executor-id") + 1] if "--executor-id" in args else "none"
    return {"pid": os.getpid(), "python": sys.executable, "executor": executor, "corpus_tools": corpus_tools.__file__}

def in_arrow(batches):
    import pyarrow as pa
    for batch in batches:
        yield pa.RecordBatch.from_pylist([where_am_i()] * batch.num_rows)

master, mode = sys.argv[1], sys.argv[2]
spark = (SparkSession.builder.master(master).appName("probe")
         .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
         .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
         .config("spark.executor.memory", "1g").getOrCreate())
if mode == "arrow":
    schema = "pid long, python string, executor string, corpus_tools string"
    rows = [r.asDict() for r in spark.range(100, numPartitions=4).mapInArrow(in_arrow, schema).collect()]
else:
    rows = spark.sparkContext.parallelize(range(100), 4).map(lambda _: where_am_i()).collect()
spark.stop()
print(json.dumps({"driver_pid": os.getpid(), "rows": len(rows), "pids": sorted({r["pid"] for r in rows}),
                  **{k: sorted({r[k] for r in rows}) for k in ("python", "executor", "corpus_tools")}}))
"""


def run_probe(command: list[str], env: dict[str, str], timeout: float = 300) -> dict:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_python_work_runs_on_the_cluster_executors(spark_cluster, tmp_path):
    job = tmp_path / "probe.py"
    job.write_text(PROBE_JOB)
    # The driver picks the executors' interpreter; without this they run `python3` from PATH.
    env = client_env(PYSPARK_PYTHON=sys.executable)
    report = run_probe([sys.executable, str(job), spark_cluster, "arrow"], env)

    assert report["rows"] == 100
    assert report["executor"] == ["0"]  # the worker's one executor JVM, not the driver
    assert report["driver_pid"] not in report["pids"]
    assert report["python"] == [sys.executable]


def pack_project_env(tmp_path) -> str:
    """A venv holding only this project (a non-editable wheel), packed by venv-pack; the archive's path.
    venv-pack 0.2.0 packs an editable install without complaint, but the archive then holds only a
    finder pointing at this checkout's absolute path: executors elsewhere would not find the code."""
    from tests.conftest import REPO

    # Build the wheel from a copy: an in-tree build leaves build/lib behind, which later builds reuse.
    src = tmp_path / "src"
    for name in ("corpus_tools", "pipelines", "trainer", "ziya"):
        shutil.copytree(os.path.join(REPO, name), src / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(REPO, name), src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "wheel"), str(src)],
                   check=True, timeout=120)
    # A venv without pip, filled by this venv's pip (`--python`): this interpreter, our site-packages.
    env_dir = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=60)
    [wheel] = (tmp_path / "wheel").glob("*.whl")
    subprocess.run([*pip, "--python", str(env_dir / "bin" / "python"), "install", "--no-deps", "--no-index", str(wheel)],
                   check=True, timeout=120)
    # .tar.gz, not .tar: Spark unpacks .tar.gz with `tar`, a plain .tar with Hadoop's Java untar, which
    # refuses the venv's absolute bin/python3 symlink ("would create entry outside of").
    archive = str(tmp_path / "env.tar.gz")
    subprocess.run([os.path.join(BIN, "venv-pack"), "-q", "-p", str(env_dir), "-o", archive], check=True, timeout=120)
    return archive


def test_executors_run_a_venv_shipped_with_archives(spark_cluster, tmp_path):
    """`spark-submit --archives env.tar.gz#env --conf spark.pyspark.python=./env/bin/python`: the
    executor unpacks the archive into its work dir and runs that Python, which imports the project from
    the archive. Only the project is packed (~1 MB): the full executor environment (the dependencies
    minus pyspark: 605 MB, 187 MB packed) costs ~1 min to build and pack and ~50-60 s more per job
    here (fetch and unpack on the driver and the executor), too much for every test run."""
    archive = pack_project_env(tmp_path)
    job = tmp_path / "probe.py"
    job.write_text(PROBE_JOB)
    report = run_probe([os.path.join(BIN, "spark-submit"), "--master", spark_cluster, "--archives", f"{archive}#env",
                        "--conf", "spark.pyspark.python=./env/bin/python",
                        "--conf", f"spark.pyspark.driver.python={sys.executable}",
                        str(job), spark_cluster, "rdd"], client_env())

    assert report["rows"] == 100 and report["executor"] == ["0"]
    [python] = report["python"]
    env_root = os.path.dirname(os.path.dirname(python))
    assert python != sys.executable and env_root.endswith(f"{os.sep}env")
    [module] = report["corpus_tools"]
    assert module.startswith(env_root + os.sep) and module.endswith(os.path.join("site-packages", "corpus_tools", "__init__.py"))
