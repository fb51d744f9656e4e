"""Run the trainer in fresh processes (`ziya train`, i.e. torchrun) and read the metrics.jsonl it writes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / "configs" / "train_tiny_demo.toml"


def read_metrics(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def ziya_train(overrides: list[str], nproc: int, timeout: int = 300) -> subprocess.CompletedProcess:
    """`ziya train --config configs/train_tiny_demo.toml --nproc N --set ...`, as a user runs it."""
    cmd = [sys.executable, "-m", "ziya.cli", "train", "--config", str(DEMO_CONFIG), "--nproc", str(nproc)]
    for item in overrides:
        cmd += ["--set", item]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc
