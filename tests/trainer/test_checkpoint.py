"""Checkpoints: a run stopped after step 3 and resumed in a new process reproduces the uninterrupted
run's losses exactly (CPU); a save is atomic (an unfinished one is never resumed from)."""
from __future__ import annotations

import json

import pytest

from tests.trainer._launch import run_train

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:megatron"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:megatron"),
]

ARGS = ["--model=tiny", "--lr=1e-2", "--grad-clip=0.5", "--seed=1234", "--device=cpu"]


@pytest.mark.usefixtures("mcore_cpu")
def test_resume_reproduces_uninterrupted_losses(tmp_path):
    from trainer.train import parse_args, train

    uninterrupted = train(parse_args([*ARGS, "--steps=6"]))  # in this process

    ckpt = tmp_path / "ckpt"
    first = run_train([*ARGS, "--steps=3", f"--save={ckpt}"], tmp_path / "first.jsonl")
    assert (ckpt / "latest").read_text().strip() == "step-0000003"
    state = json.loads((ckpt / "step-0000003" / "state.json").read_text())
    assert (state["step"], state["samples"]) == (3, 3 * state["config"]["micro_batch_size"])
    assert not list(ckpt.glob("*.tmp"))

    resumed = run_train([*ARGS, "--steps=6", f"--resume={ckpt}"], tmp_path / "resumed.jsonl")
    assert [m["step"] for m in first + resumed] == [1, 2, 3, 4, 5, 6]
    assert [m["loss"] for m in first + resumed] == uninterrupted  # exactly


def test_latest_checkpoint_ignores_unfinished_saves(tmp_path):
    from trainer.train import latest_checkpoint

    assert latest_checkpoint(str(tmp_path)) is None  # nothing saved yet: start from scratch
    (tmp_path / "step-0000003").mkdir()
    (tmp_path / "step-0000003" / "state.json").write_text("{}")
    (tmp_path / "latest").write_text("step-0000003\n")
    (tmp_path / "step-0000006.tmp").mkdir()  # a save killed before its rename
    assert latest_checkpoint(str(tmp_path)) == tmp_path / "step-0000003"
    assert latest_checkpoint(str(tmp_path / "step-0000003")) == tmp_path / "step-0000003"


@pytest.mark.usefixtures("mcore_cpu")
def test_a_save_that_dies_leaves_the_last_good_checkpoint(tmp_path, monkeypatch):
    from megatron.core import dist_checkpointing

    from trainer.train import TrainConfig, latest_checkpoint, save_checkpoint

    good = tmp_path / "step-0000003"
    good.mkdir()
    (good / "state.json").write_text("{}")
    (tmp_path / "latest").write_text("step-0000003\n")

    def dies_half_way(state_dict, directory):
        (tmp_path / "step-0000006.tmp" / "model" / "__0_0.distcp").write_bytes(b"partial")
        raise KeyboardInterrupt  # the job is killed mid-write

    class StubModel:
        def sharded_state_dict(self):
            return {}

    monkeypatch.setattr(dist_checkpointing, "save", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(str(tmp_path), 6, 24, StubModel(), torch.optim.SGD([torch.zeros(1)], lr=0.1), TrainConfig())
    assert not (tmp_path / "step-0000006").exists()
    assert latest_checkpoint(str(tmp_path)) == good
