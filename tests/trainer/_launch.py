"""Run `python -m trainer.train` in fresh processes (plain python, or torchrun for TP > 1) and read the
per-step metrics it writes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_train(args: list[str], metrics: Path, nproc: int = 1, timeout: int = 180) -> list[dict]:
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(nproc)] if nproc > 1 \
        else [sys.executable]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([*launcher, "-m", "trainer.train", *args, "--metrics", str(metrics)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return [json.loads(line) for line in metrics.read_text().splitlines()]
