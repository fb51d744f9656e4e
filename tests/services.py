"""Real services for integration tests: an S3-protocol server and a Spark standalone cluster.

Why real ones: the failures that matter on a cloud run live in the pieces local mode skips: pyarrow's
S3 client (endpoint, credentials, server-side copy, conditional writes) and Spark shipping Python
work to executors that a separate worker JVM launched. Both start here in seconds, on loopback only,
with every wait bounded and every process stopped afterwards.

    with moto_s3_server() as endpoint_url:          # http://127.0.0.1:PORT, any key/secret works
        ...
    with spark_standalone(scratch_dir) as master:   # spark://127.0.0.1:PORT, one worker
        ...

tests/conftest.py wraps both in session fixtures (`s3_server`, `s3_bucket`, `spark_cluster`).
"""
from __future__ import annotations

import contextlib
import dataclasses
import glob
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Callable, Iterator

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port free on loopback now (the OS picks it; a race with another process is possible but rare)."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def log_tail(path: str, lines: int = 30) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return f"(no log: {e})"


def wait_until(ready: Callable[[], bool], timeout: float, what: str, diagnostics: Callable[[], str]) -> float:
    """Poll `ready` until it is true; the seconds it took. Raises with `diagnostics()` (log tails) after `timeout`."""
    start = time.monotonic()
    while not ready():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{what} not ready after {timeout:g} s\n{diagnostics()}")
        time.sleep(0.2)
    return time.monotonic() - start


def stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout`."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def stop_pid(pid: int, timeout: float = 20.0) -> None:
    """Wait for a process we signalled to exit, SIGKILL it if it does not (a JVM's shutdown hooks can hang)."""
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid):
        os.kill(pid, 9)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    with contextlib.suppress(OSError):
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def dead_pid() -> int:
    """The pid of a process of this host that has exited and been reaped: what a lock of a run
    killed with -9 records."""
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()
    return proc.pid


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:  # refused while starting; urllib's HTTPError is an OSError too
        return False


# --- S3 -------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class S3Service:
    """Where a test S3 endpoint is and the (fake) credentials it accepts."""

    endpoint_url: str
    access_key: str = "testing"
    secret_key: str = "testing"
    region: str = "us-east-1"

    def env(self) -> dict[str, str]:
        """The standard AWS variables that point pyarrow (`FileSystem.from_uri("s3://...")`), boto3
        and subprocesses at this endpoint. pyarrow 26 reads AWS_ENDPOINT_URL (AWS_ENDPOINT_URL_S3
        works too) and takes the scheme from it: "http://..." is enough, no `?scheme=http`; an
        endpoint without a scheme means https. Without AWS_ENDPOINT_URL it goes to amazonaws.com.
        The metadata flag keeps the AWS SDK from probing 169.254.169.254 for credentials.
        Spark executors need these too: pass them as `spark.executorEnv.<NAME>`."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def filesystem(self, **options):
        """A pyarrow S3FileSystem on this endpoint, explicitly configured (no environment needed)."""
        from pyarrow import fs

        return fs.S3FileSystem(endpoint_override=self.endpoint_url, access_key=self.access_key,
                               secret_key=self.secret_key, region=self.region, scheme="http", **options)


@contextlib.contextmanager
def moto_s3_server(log_dir: str | None = None, timeout: float = 30.0, env: dict | None = None) -> Iterator[str]:
    """moto's standalone server (an in-memory S3 and more, over HTTP) on a free loopback port; yields
    its endpoint URL. It keeps its state until it stops, so buckets are the unit of isolation.
    `env` adds to the server's environment (INITIAL_NO_AUTH_ACTION_COUNT=N: IAM checks after N requests)."""
    import tempfile

    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        log = os.path.join(log_dir or scratch, f"moto-{port}.log")
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)],
                                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env={**os.environ, **(env or {})})
        url = f"http://{LOOPBACK}:{port}"
        try:
            wait_until(lambda: proc.poll() is not None or _answers(url), timeout, f"moto server at {url}",
                       lambda: f"moto log ({log}):\n{log_tail(log)}")
            if proc.poll() is not None:
                raise RuntimeError(f"moto server exited with {proc.returncode}:\n{log_tail(log)}")
            yield url
        finally:
            stop_process(proc)


# --- Spark standalone ------------------------------------------------------------------------------

MASTER = "org.apache.spark.deploy.master.Master"
WORKER = "org.apache.spark.deploy.worker.Worker"


def spark_home() -> str:
    """The pip-installed pyspark package is a Spark distribution (jars, bin/, sbin/spark-daemon.sh)."""
    import importlib.util

    return os.path.dirname(importlib.util.find_spec("pyspark").origin)


BIN = os.path.dirname(sys.executable)  # this venv's scripts: ziya, spark-submit, venv-pack


def client_env(**extra: str) -> dict[str, str]:
    """A user's shell for a driver or `spark-submit` process: this venv's scripts first on PATH,
    SPARK_HOME at the pip pyspark (else bin/spark-submit looks for pyspark with `python3` from PATH),
    no PYSPARK_*/SPARK_* of the test session's own; `extra` on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYSPARK", "SPARK_"))}
    env.update(SPARK_HOME=spark_home(), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", **extra)
    return env


def master_state(ui_port: int) -> dict:
    """The master's status page as JSON (`workers`, `aliveworkers`, `activeapps`, ...)."""
    with urllib.request.urlopen(f"http://{LOOPBACK}:{ui_port}/json/", timeout=2) as r:
        return json.load(r)


@contextlib.contextmanager
def spark_standalone(workdir: str, cores: int = 2, memory: str = "2g", timeout: float = 120.0) -> Iterator[str]:
    """A Spark standalone master and one worker from the pip pyspark, on free loopback ports; yields
    the master URL (spark://127.0.0.1:PORT) once the worker has registered.

    The wheel has no start-master.sh/start-worker.sh, only sbin/spark-daemon.sh: it backgrounds the
    JVM and writes a pid file. Logs, pid files, executor work and scratch dirs and an empty conf dir
    all go under `workdir`, not into the venv or /tmp. SPARK_LOCAL_IP pins every socket, web UIs included (they bind
    0.0.0.0 otherwise), to loopback; `spark.master.rest.enabled=false` (a JVM option through
    SPARK_MASTER_OPTS) keeps the master off port 6066. The Python that executors run is the driver's
    choice (PYSPARK_PYTHON / spark.pyspark.python of the application), not the worker's.
    """
    from pipelines.spark import ensure_java

    ensure_java()
    port, ui_port = free_port(), free_port()
    # SPARK_NO_DAEMONIZE set, even empty, means foreground. AWS_*: a real cluster's worker does not
    # have the driver's storage settings; the application passes them (spark.executorEnv.*).
    env = {k: v for k, v in os.environ.items() if k != "SPARK_NO_DAEMONIZE" and not k.startswith("AWS_")}
    env.update(
        SPARK_HOME=spark_home(),
        SPARK_CONF_DIR=os.path.join(workdir, "conf"),
        SPARK_LOG_DIR=os.path.join(workdir, "logs"),
        SPARK_PID_DIR=os.path.join(workdir, "pids"),
        SPARK_WORKER_DIR=os.path.join(workdir, "work"),
        SPARK_LOCAL_DIRS=os.path.join(workdir, "local"),  # executors' scratch (fetched files, shuffle), else /tmp
        SPARK_LOCAL_IP=LOOPBACK,
        SPARK_MASTER_OPTS="-Dspark.master.rest.enabled=false",
        # Interpreter for apps that choose none; a JVM that starts faster (C1 JIT, serial GC) for every daemon.
        PYSPARK_PYTHON=sys.executable,
        SPARK_DAEMON_JAVA_OPTS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    )
    os.makedirs(env["SPARK_CONF_DIR"], exist_ok=True)
    daemon = os.path.join(env["SPARK_HOME"], "sbin", "spark-daemon.sh")
    logs = lambda: "\n".join(f"--- {p}\n{log_tail(p)}" for p in sorted(glob.glob(os.path.join(env["SPARK_LOG_DIR"], "*.out"))))

    def run(*args: str) -> None:
        done = subprocess.run([daemon, *args], env=env, capture_output=True, text=True, timeout=60)
        if done.returncode != 0 or "failed to launch" in done.stdout:
            raise RuntimeError(f"spark-daemon.sh {' '.join(args)} failed:\n{done.stdout}{done.stderr}\n{logs()}")

    def pid(cls: str) -> int | None:
        with contextlib.suppress(OSError, ValueError):
            with open(glob.glob(os.path.join(env["SPARK_PID_DIR"], f"*-{cls}-1.pid"))[0]) as f:
                return int(f.read())
        return None

    def registered() -> bool:
        with contextlib.suppress(OSError, ValueError):
            return master_state(ui_port)["aliveworkers"] >= 1
        return False

    pids = []
    try:
        run("start", MASTER, "1", "--host", LOOPBACK, "--port", str(port), "--webui-port", str(ui_port))
        pids.append(pid(MASTER))
        run("start", WORKER, "1", "--host", LOOPBACK, "--webui-port", "0", "--cores", str(cores),
            "--memory", memory, f"spark://{LOOPBACK}:{port}")
        pids.append(pid(WORKER))
        wait_until(registered, timeout, "Spark worker registration", logs)
        yield f"spark://{LOOPBACK}:{port}"
    finally:
        # Worker first: on SIGTERM it kills the executors it launched. Then make sure the JVMs are gone.
        for cls in (WORKER, MASTER):
            if pid(cls):
                subprocess.run([daemon, "stop", cls, "1"], env=env, capture_output=True, timeout=60)
        for p in filter(None, pids):
            stop_pid(p)
