"""One run per `out`: while another live run holds OUT/train.lock, `ziya train` refuses in one line
before starting torchrun, and the trainer itself (rank 0 takes the lock; every rank learns the
outcome) refuses before it reads or writes anything under `out`, also launched by torchrun directly.
(Release at the end of a run and takeover of a killed run's lock: test_train_loop.py's reference run.)"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from corpus_tools import storage
from corpus_tools.storage import LockHeld
from tests.trainer._launch import DEMO_CONFIG, REPO
from trainer.run_lock import lock_path


@pytest.fixture
def busy_out(tmp_path):
    """(out, overrides): a blends file naming (empty) shard files, and `out` held by this process."""
    for ext in (".bin", ".idx"):
        (tmp_path / f"shard{ext}").write_bytes(b"")  # the launcher checks they exist; nothing reads them
    blends = tmp_path / "blends.json"
    blends.write_text(json.dumps({"vocab_size": 32000, "stages": [
        {"name": "general", "tokens": 1024, "blend": {"prefixes": [str(tmp_path / "shard")], "weights": [1.0]}}]}))
    out = tmp_path / "run"
    with storage.exclusive_lock(lock_path(str(out)), "train", str(out)):
        yield out, [f"out={out}", f"data.blends={blends}"]


def refusal(out) -> str:
    """The start of the line that names this process as the run holding `out`."""
    return f"{out} is being written by another run (train on {socket.gethostname()}, pid {os.getpid()}, started "


def sets(overrides: list[str]) -> list[str]:
    return [arg for item in overrides for arg in ("--set", item)]


def test_ziya_train_into_a_busy_out_is_one_line_before_any_process(busy_out):
    out, overrides = busy_out
    cmd = [sys.executable, "-m", "ziya.cli", "train", "--config", str(DEMO_CONFIG), *sets(overrides)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.splitlines() == [proc.stderr.strip()], proc.stderr
    assert proc.stderr.startswith("ziya train: error: " + refusal(out)), proc.stderr
    assert "torch.distributed.run" not in proc.stdout, "torchrun was not started"
    assert os.listdir(out) == ["train.lock"]


@pytest.mark.usefixtures("mcore_cpu")
def test_the_trainer_refuses_a_busy_out_before_touching_it(busy_out):
    from trainer.run_config import load_run_config
    from trainer.train import train

    out, overrides = busy_out
    with pytest.raises(LockHeld, match="^" + refusal(out).replace("(", r"\(")):
        train(load_run_config(str(DEMO_CONFIG), overrides))
    assert os.listdir(out) == ["train.lock"], "no checkpoint, data cache or metrics written"


def test_two_ranks_under_torchrun_refuse_together_in_one_line(busy_out):
    """torchrun straight into the trainer (no launcher check): rank 0 is refused the lock, rank 1
    learns it from rank 0 rather than waiting in a collective, both exit."""
    out, overrides = busy_out
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "trainer.train", "--config", str(DEMO_CONFIG), *sets(overrides)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert proc.returncode != 0
    ours = [line for line in proc.stderr.splitlines() if "trainer.train: error:" in line]
    assert len(ours) == 1 and ours[0].startswith("trainer.train: error: " + refusal(out)), proc.stderr[-3000:]
    assert "exitcode: 2" in proc.stderr, proc.stderr[-3000:]
    assert os.listdir(out) == ["train.lock"]
