"""Checkpoints are atomic: an unfinished save is never resumed from, and a save killed mid-write leaves
the last good checkpoint. (Resume exactness, also across a stage change and at DP=2: test_train_loop.py.)"""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:megatron"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:megatron"),
]


def test_latest_checkpoint_ignores_unfinished_saves(tmp_path):
    from trainer.checkpoint import latest_checkpoint

    assert latest_checkpoint(str(tmp_path)) is None  # nothing saved yet: start from scratch
    assert latest_checkpoint(str(tmp_path / "absent")) is None
    for step in (3, 6):
        (tmp_path / f"step-000000{step}").mkdir()
        (tmp_path / f"step-000000{step}" / "state.json").write_text("{}")
    (tmp_path / "step-0000009.tmp").mkdir()  # a save killed before its rename
    (tmp_path / "step-0000009.tmp" / "state.json").write_text("{}")
    assert latest_checkpoint(str(tmp_path)) == tmp_path / "step-0000006"  # no pointer: the highest complete
    (tmp_path / "latest").write_text("step-0000003\n")
    assert latest_checkpoint(str(tmp_path)) == tmp_path / "step-0000003"  # the pointer wins
    assert latest_checkpoint(str(tmp_path / "step-0000006")) == tmp_path / "step-0000006"


@pytest.mark.usefixtures("mcore_cpu")
def test_a_save_that_dies_leaves_the_last_good_checkpoint(tmp_path, monkeypatch):
    from megatron.core import dist_checkpointing

    from trainer.checkpoint import latest_checkpoint, save_checkpoint

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
        save_checkpoint(str(tmp_path), 6, {"data": {"stage": 0, "samples": 24}}, StubModel(),
                        torch.optim.SGD([torch.zeros(1)], lr=0.1), None)
    assert not (tmp_path / "step-0000006").exists()
    assert latest_checkpoint(str(tmp_path)) == good
