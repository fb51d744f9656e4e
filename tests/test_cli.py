"""The `ziya` command: help without heavy imports, one-line errors for expected failures."""
from __future__ import annotations

import subprocess
import sys

from ziya.cli import main


def test_help_is_fast_and_imports_no_engine():
    code = "import sys; from ziya.cli import build_parser; build_parser(); print('pyspark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_missing_input_is_a_clear_error(tmp_path, capsys):
    assert main(["clean", "--input", str(tmp_path / "nope"), "--output", str(tmp_path / "out")]) == 2
    assert "input path does not exist" in capsys.readouterr().err


def test_bad_config_is_a_clear_error(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[langid]\nmin_scor = 0.5\n")
    assert main(["clean", "--input", str(tmp_path), "--output", str(tmp_path / "o"), "--config", str(cfg)]) == 2
    assert "unknown key(s) ['min_scor']" in capsys.readouterr().err


def test_unknown_filter_is_a_clear_error(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[filters]\ngopher = {}\n")
    assert main(["clean", "--input", str(tmp_path), "--output", str(tmp_path / "o"), "--config", str(cfg)]) == 2
    assert "unknown filter(s) ['gopher']" in capsys.readouterr().err


# Runs `ziya` cases in one fresh process (no Spark session of the test session's around) and reports,
# per case, the exit code, what went to stderr and whether a SparkContext was ever started.
STORAGE_CASES = r"""
import contextlib, io, json, os, sys
from ziya.cli import main
from pyspark import SparkContext

report = []
for env, argv in json.loads(sys.argv[1]):
    for name, value in env.items():  # None: unset
        os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = main(argv)
    report.append({"rc": rc, "err": err.getvalue(), "spark": SparkContext._active_spark_context is not None})
print(json.dumps(report))
"""


def test_storage_failures_are_one_line_before_any_spark_work(s3_bucket, tmp_path):
    import json
    import os

    from tests.conftest import SAMPLE
    from tests.services import free_port

    out = str(tmp_path / "out")
    dead = f"http://127.0.0.1:{free_port()}"
    cases = [  # (environment changes, argv, what the line must say)
        ({}, ["clean", "--input", "ftp://host/corpus", "--output", out], "ftp://host/corpus: unsupported URL scheme 'ftp'"),
        ({}, ["clean", "--input", f"file://{tmp_path}/nope", "--output", out], f"input path does not exist: {tmp_path}/nope"),
        ({}, ["clean", "--input", "s3://no-such-bucket-in/in", "--output", out],
         "s3://no-such-bucket-in/in: the bucket does not exist; create it first"),
        ({}, ["clean", "--input", SAMPLE, "--output", "s3://no-such-bucket-out/clean"],
         "s3://no-such-bucket-out/clean: the bucket does not exist"),
        ({}, ["pack", "--input", f"{s3_bucket}/missing", "--output", f"{s3_bucket}/pack"],
         f"input path does not exist: {s3_bucket}/missing"),
        ({"AWS_ENDPOINT_URL": dead}, ["dedup", "--input", f"{s3_bucket}/in", "--output", out],
         f"{s3_bucket}: cannot reach the object store at {dead}; check AWS_ENDPOINT_URL"),
        ({"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "HOME": str(tmp_path)},
         ["score", "--input", SAMPLE, "--output", f"{s3_bucket}/score"],
         f"{s3_bucket}/score: no credentials for the object store; set AWS_ACCESS_KEY_ID"),
    ]
    done = subprocess.run([sys.executable, "-c", STORAGE_CASES, json.dumps([c[:2] for c in cases])],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert done.returncode == 0, done.stderr[-3000:]
    for (_, argv, says), got in zip(cases, json.loads(done.stdout.splitlines()[-1])):
        assert got["rc"] == 2, (argv, got)
        lines = got["err"].strip().splitlines()
        assert len(lines) == 1 and says in lines[0] and lines[0].startswith(f"ziya {argv[0]}: error: "), (argv, got)
        assert not got["spark"], f"{argv}: Spark started before the error"
    assert not os.path.exists(out) and not os.path.exists(out + ".incomplete")
    from corpus_tools import storage
    assert storage.list_files(s3_bucket) == [], "nothing written to the bucket"
