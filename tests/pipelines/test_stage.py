"""Stage outputs are whole runs: finished-and-same is skipped, anything else refused, and one run
at a time writes an output (two real `ziya clean` processes)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from pipelines.stage import OutputExists, StageOutput, each_unit, mark_part_done, part_done
from tests.conftest import REPO, SAMPLE
from tests.services import log_tail, stop_process, wait_until

PLAN = [{"part": "part-00000"}, {"part": "part-00001"}]


def finish(path, cfg='{"a": 1}'):
    out = StageOutput(str(path), cfg)
    assert not out.already_done()
    out.begin(PLAN)
    os.makedirs(out.subdir("kept"))
    out.commit({"input": 1})
    return out


def test_commit_is_atomic_and_rerun_with_same_config_is_a_no_op(tmp_path):
    finish(tmp_path / "o")
    assert sorted(os.listdir(tmp_path)) == ["o"]
    assert {"kept", "stats.json", "config.json", "_SUCCESS"} <= set(os.listdir(tmp_path / "o"))
    assert StageOutput(str(tmp_path / "o"), '{"a": 1}').already_done()


def test_different_config_or_partial_output_is_refused(tmp_path):
    finish(tmp_path / "o")
    with pytest.raises(OutputExists, match="different config"):
        StageOutput(str(tmp_path / "o"), '{"a": 2}').already_done()
    (tmp_path / "partial").mkdir()
    with pytest.raises(OutputExists, match="not a finished run"):
        StageOutput(str(tmp_path / "partial"), "{}").already_done()


def test_overwrite_replaces(tmp_path):
    finish(tmp_path / "o")
    assert not StageOutput(str(tmp_path / "o"), '{"a": 2}', overwrite=True).already_done()
    assert not (tmp_path / "o").exists()


def test_an_interrupted_run_resumes_only_with_the_same_config_and_plan(tmp_path):
    out = StageOutput(str(tmp_path / "o"), '{"a": 1}')
    assert out.begin(PLAN) == 0
    mark_part_done(out.tmp, "part-00000", {"input": 3})
    assert StageOutput(str(tmp_path / "o"), '{"a": 1}').begin(PLAN) == 1
    assert part_done(out.tmp, "part-00000") == {"input": 3} and part_done(out.tmp, "part-00001") is None
    assert StageOutput(str(tmp_path / "o"), '{"a": 1}').begin(PLAN[:1]) == 0  # another plan: afresh
    assert part_done(out.tmp, "part-00000") is None
    mark_part_done(out.tmp, "part-00000", {"input": 3})
    assert StageOutput(str(tmp_path / "o"), '{"a": 2}').begin(PLAN[:1]) == 0  # another config: afresh
    assert part_done(out.tmp, "part-00000") is None


def test_commit_leaves_no_bookkeeping(tmp_path):
    out = StageOutput(str(tmp_path / "o"), "{}")
    out.begin(PLAN)
    mark_part_done(out.tmp, "part-00000", {})
    out.commit({})
    assert sorted(os.listdir(tmp_path / "o")) == ["_SUCCESS", "config.json", "stats.json"]


def test_each_unit_runs_every_unit_once_in_its_own_task(spark):
    units = [{"part": f"part-{i:05d}", "n": i} for i in range(5)]

    def work(unit):
        from pyspark import TaskContext

        return json.dumps([unit["part"], unit["n"] * 2, TaskContext.get().partitionId()])

    results = sorted(json.loads(r) for r in each_unit(spark, units, work))
    assert [r[:2] for r in results] == [[u["part"], u["n"] * 2] for u in units]
    assert sorted(r[2] for r in results) == list(range(5))  # one Spark task (partition) per unit
    assert each_unit(spark, [], work) == []


def test_a_second_run_into_a_busy_output_is_refused_and_the_first_finishes(tmp_path):
    """`ziya clean` twice into one output: the second, started while the first holds OUT.lock, exits 2
    with one line naming the first (its pid); the first finishes a whole output that reconciles."""
    out, log = tmp_path / "clean", tmp_path / "first.log"
    cmd = [sys.executable, "-m", "ziya.cli", "clean", "--input", SAMPLE, "--output", str(out), "--master", "local[2]"]
    with open(log, "wb") as f:
        first = subprocess.Popen(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: os.path.exists(f"{out}.lock") or first.poll() is not None, 120,
                   "the first run's lock", lambda: log_tail(str(log)))
        assert first.poll() is None, log_tail(str(log))
        second = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr
        assert second.stderr.splitlines() == [second.stderr.strip()], "one line"
        assert second.stderr.startswith(f"ziya clean: error: {out} is being written by another run "
                                        f"(clean on {socket.gethostname()}, pid {first.pid}, started "), second.stderr
        assert first.wait(timeout=300) == 0, log_tail(str(log))
    finally:
        stop_process(first)
    stats = json.loads((out / "stats.json").read_text())
    assert (out / "_SUCCESS").exists() and not os.path.exists(f"{out}.lock")
    assert stats["reconciles"] and stats["input"] > 0
    assert stats["input"] + stats["extra_segments"] == stats["kept"] + stats["rejected"] + stats["quarantined"]
