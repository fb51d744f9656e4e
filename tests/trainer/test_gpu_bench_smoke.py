"""The prepared GPU benchmark (benchmarks/gpu_train_bench.py) runs end to end on CPU with the tiny model,
in its eager and training-loop modes, so the script a GPU session runs has not rotted in between."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from tests.trainer._launch import REPO

pytest.importorskip("torch")
pytest.importorskip("megatron.core")


def test_gpu_train_bench_runs_on_cpu(tmp_path):
    cmd = [sys.executable, str(REPO / "benchmarks" / "gpu_train_bench.py"), "--device", "cpu", "--model", "tiny",
           "--steps", "2", "--runs", "sdpa,2,eager", "sdpa,2,loop"]
    proc = subprocess.run(cmd, cwd=REPO, env={**os.environ, "OUT": str(tmp_path), "PYTHONWARNINGS": "ignore"},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads((tmp_path / "gpu_train.json").read_text())
    assert report["device"] == "cpu" and report["model"]["name"] == "tiny"
    runs = report["runs"]
    assert [(r["mode"], r["micro_batch"], r["timed_steps"]) for r in runs] == [("eager", 2, 2), ("loop", 2, 2)]
    for r in runs:
        assert r["tokens_per_s_per_gpu"] > 0 and r["step_time_s"] > 0
        # random tokens on a fresh model: the loss starts at ln(vocabulary) and stays finite
        assert r["loss_first_step"] == pytest.approx(math.log(report["model"]["vocab_size"]), abs=0.1)
        assert math.isfinite(r["loss_last_step"])
    assert runs[0]["loss_first_step"] == runs[1]["loss_first_step"]  # same seed, same first batch
