"""The demo pipeline feeds the trainer: `ziya pack` of the sample corpus (the session's
`sample_pack_output`) blended by `ziya mix` with recipes/ziya2_demo.toml, its three stages' budgets cut
to two global batches each, trains the tiny model through all three stages."""
from __future__ import annotations

import json

import pytest

from tests.trainer._launch import DEMO_CONFIG, REPO

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.usefixtures("mcore_cpu"),
    pytest.mark.filterwarnings("ignore::UserWarning:megatron"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:megatron"),
]

SEQ, GLOBAL, STEPS_PER_STAGE = 32, 8, 2


def test_trains_through_the_demo_recipes_stages_on_ziya_pack_shards(sample_pack_output, tmp_path):
    from corpus_tools.mix import build_blends
    from trainer.run_config import load_run_config
    from trainer.train import train

    blends = build_blends(str(REPO / "recipes" / "ziya2_demo.toml"), [sample_pack_output])
    for stage in blends["stages"]:
        stage["tokens"] = STEPS_PER_STAGE * GLOBAL * SEQ
    path = tmp_path / "blends.json"
    path.write_text(json.dumps(blends))

    cfg = load_run_config(str(DEMO_CONFIG), [
        f"data.blends={path}", f"out={tmp_path / 'run'}", f"data.seq_length={SEQ}", "data.micro_batch_size=4",
        f"data.global_batch_size={GLOBAL}", "data.steps=0", "schedule.lr=2e-2", "schedule.min_lr=2e-3",
        "schedule.warmup_steps=1", "checkpoint.save_interval=0"])
    metrics = train(cfg)
    assert [m["stage"] for m in metrics] == ["general"] * 2 + ["instruction_mix"] * 2 + ["math_heavy"] * 2
    assert [m["lr"] for m in metrics[::2]] == [2e-2] * 3  # each stage re-warms (lr_rewarm in the recipe)
    losses = [m["loss"] for m in metrics]
    assert losses[0] == pytest.approx(10.4, abs=0.3) and losses[-1] < losses[0] - 1.0, losses
    state = json.loads((tmp_path / "run" / "checkpoints" / "step-0000006" / "state.json").read_text())
    assert state["data"] == {"stage": 2, "samples": STEPS_PER_STAGE * GLOBAL}
