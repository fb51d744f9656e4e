"""The training loop on real-text shards (data/sample tokenized with the default tokenizer, written with
megatron-core's IndexedDatasetBuilder) in two stages of 3 steps each ("general": news + docs, then "code"
with lr_rewarm): the loss falls, stages switch to the new blend at their budget, a run stopped and
resumed (also across the stage change, also in new processes at DP=2, at DP=1 from a DP=2 checkpoint,
at TP=2 from a TP=1 one and at TP=1 from a TP=2 x DP=2 one) sees the same samples and losses as the
uninterrupted one, DP=2 and TP=2 (`ziya train --nproc 2`) match
DP=1, NaN and spike steps skip their update, metrics are written, `init_from` takes weights only, BF16
runs with FP32 master weights.

The reference run and most checks run in this process (the session's world of one); torchrun launches
cover DP=2 (stopped after step 2, then resumed), TP=2, a TP=2 resume and TP=2 x DP=2.
"""
from __future__ import annotations

import json
import shutil
import socket

import pytest

from tests.services import dead_pid
from tests.trainer._launch import DEMO_CONFIG, read_metrics, ziya_train
from tests.trainer._shards import build_shards

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.usefixtures("mcore_cpu"),
    pytest.mark.filterwarnings("ignore::UserWarning:megatron"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:megatron"),
    pytest.mark.filterwarnings("ignore:Please use DTensor instead:FutureWarning"),
    pytest.mark.filterwarnings("ignore:`load_state_dict` is deprecated:FutureWarning"),
]

SEQ, MICRO, GLOBAL = 32, 4, 8
STAGE_STEPS = 3  # each stage's budget: 3 global batches


@pytest.fixture(scope="module")
def blends(tmp_path_factory):
    budget = STAGE_STEPS * GLOBAL * SEQ
    return build_shards(tmp_path_factory.mktemp("shards"), docs_per_source=40, stage_tokens=(budget, budget))


def overrides(blends, out, *extra) -> list[str]:
    """The demo config, shrunk: 6 steps of 8 x 32 tokens, a high LR so 6 steps move the loss, a clip
    threshold below the gradient norm so clipping (summed across TP ranks) shapes the updates."""
    return [f"data.blends={blends}", f"out={out}", f"data.seq_length={SEQ}", f"data.micro_batch_size={MICRO}",
            f"data.global_batch_size={GLOBAL}", "data.steps=0", "schedule.lr=2e-2", "schedule.min_lr=2e-3",
            "schedule.warmup_steps=1", "optimizer.grad_clip=0.5", "checkpoint.save_interval=0",
            "metrics.batch_hash=true", "metrics.log_interval=1", *extra]


def saved_optimizer_keys(checkpoint) -> dict:
    """The optimizer tensors a checkpoint holds, by name (named after the parameters they belong to)."""
    from megatron.core import dist_checkpointing

    return dist_checkpointing.load_tensors_metadata(str(checkpoint / "optimizer"))


def saved_optimizer_step(checkpoint) -> int:
    """AdamW's step count in a checkpoint (saved once, shared by every parameter)."""
    from megatron.core import dist_checkpointing

    return int(dist_checkpointing.load_common_state_dict(str(checkpoint / "optimizer"))["optimizer"]["state"]["common_step"])


def run_here(blends, out, *extra) -> list[dict]:
    from trainer.run_config import load_run_config
    from trainer.train import train

    return train(load_run_config(str(DEMO_CONFIG), overrides(blends, out, *extra)))


@pytest.fixture(scope="module")
def reference(blends, tmp_path_factory):
    """The uninterrupted run: TP=1, DP=1 (two accumulation steps), 6 steps over both stages. Its
    `out` starts with the lock of a run killed with -9 (a pid gone from this host): taken over."""
    out = tmp_path_factory.mktemp("reference")
    (out / "train.lock").write_text(json.dumps({"run": "train", "host": socket.gethostname(), "pid": dead_pid()}))
    return run_here(blends, out), out


def test_loss_decreases_on_real_text_shards(reference):
    metrics, _ = reference
    losses = [m["loss"] for m in metrics]
    assert [m["step"] for m in metrics] == [1, 2, 3, 4, 5, 6]
    assert losses[0] == pytest.approx(10.4, abs=0.3)  # ln(32000): an untrained model guesses uniformly
    assert losses[0] > losses[1] > losses[2], losses  # learns within the first stage
    assert losses[-1] < losses[0] - 1.0, losses


def test_stage_switch_reads_the_new_blend(reference, blends):
    from trainer.data import Blends, batch_digest, build_stage_dataset, sample_digests

    metrics, out = reference
    assert [m["stage"] for m in metrics] == ["general"] * 3 + ["code"] * 3
    assert [m["samples_in_stage"] for m in metrics] == [8, 16, 24] * 2
    stage = Blends.read(str(blends)).stages[1]
    ds = build_stage_dataset(stage, 1, num_samples=STAGE_STEPS * GLOBAL, seq_length=SEQ, seed=1234,
                             vocab_size=32000, cache_dir=str(out / "check_cache"))
    assert {d.dataset.path_prefix for d in ds.datasets} == {stage.prefixes[0]}  # the code shard only
    first = {"sample_ids": list(range(GLOBAL)),
             "tokens": torch.stack([ds[i]["tokens"] for i in range(GLOBAL)]),
             "labels": torch.stack([ds[i]["labels"] for i in range(GLOBAL)])}
    assert metrics[3]["batch_hash"] == batch_digest(sample_digests(first))
    assert metrics[3]["lr"] == metrics[0]["lr"]  # lr_rewarm: the schedule starts again at the new stage
    assert metrics[2]["lr"] == pytest.approx(2e-3)  # and the first stage's segment decayed to min_lr


def test_resume_across_a_stage_change_is_exact(reference, blends, tmp_path):
    metrics, _ = reference
    first = run_here(blends, tmp_path, "checkpoint.exit_after_steps=3")  # stops at the stage boundary
    state = json.loads((tmp_path / "checkpoints" / "step-0000003" / "state.json").read_text())
    assert state["data"] == {"stage": 0, "samples": STAGE_STEPS * GLOBAL}
    resumed = run_here(blends, tmp_path)  # the same command again continues from the checkpoint
    seen = first + resumed
    assert [m["step"] for m in seen] == [1, 2, 3, 4, 5, 6]
    assert [m["batch_hash"] for m in seen] == [m["batch_hash"] for m in metrics]
    assert [m["loss"] for m in seen] == [m["loss"] for m in metrics]  # exactly
    assert [m["grad_norm"] for m in seen] == [m["grad_norm"] for m in metrics]

    # the TP=1 checkpoint of step 3 resumes at TP=2 (two new processes): model and optimizer reshard
    shutil.copytree(tmp_path / "checkpoints" / "step-0000003", tmp_path / "tp2" / "checkpoints" / "step-0000003")
    proc = ziya_train(overrides(blends, tmp_path / "tp2", "parallel.tp=2"), nproc=2)
    assert "resum" in proc.stdout.lower()
    tp2 = read_metrics(tmp_path / "tp2")
    assert [m["step"] for m in tp2] == [4, 5, 6]
    assert [m["batch_hash"] for m in tp2] == [m["batch_hash"] for m in metrics[3:]]
    assert [m["loss"] for m in tp2] == pytest.approx([m["loss"] for m in metrics[3:]], abs=1e-4, rel=0)
    assert [m["grad_norm"] for m in tp2] == pytest.approx([m["grad_norm"] for m in metrics[3:]], rel=1e-4)


def test_dp2_matches_dp1_and_resumes_in_new_processes(reference, blends, tmp_path):
    metrics, _ = reference
    ziya_train(overrides(blends, tmp_path, "checkpoint.exit_after_steps=2"), nproc=2)  # "killed" after step 2
    state = json.loads((tmp_path / "checkpoints" / "step-0000002" / "state.json").read_text())
    assert state["data"] == {"stage": 0, "samples": 2 * GLOBAL}
    keys = saved_optimizer_keys(tmp_path / "checkpoints" / "step-0000002")
    for moment in ("exp_avg", "exp_avg_sq"):  # named after the parameters, as megatron-core names them
        assert f"optimizer.state.{moment}.decoder.layers.mlp.linear_fc2.weight" in keys
    proc = ziya_train(overrides(blends, tmp_path), nproc=2)
    assert "tp=1 dp=2 accumulation=1" in proc.stdout
    dp2 = read_metrics(tmp_path)
    assert [m["step"] for m in dp2] == [1, 2, 3, 4, 5, 6]
    assert [m["batch_hash"] for m in dp2] == [m["batch_hash"] for m in metrics]  # same samples, same order
    assert [m["loss"] for m in dp2] == pytest.approx([m["loss"] for m in metrics], abs=1e-4, rel=0)
    assert [m["grad_norm"] for m in dp2] == pytest.approx([m["grad_norm"] for m in metrics], rel=1e-4)

    # the DP=2 checkpoint of step 2 resumes at DP=1 (here, in this process)
    shutil.copytree(tmp_path / "checkpoints" / "step-0000002", tmp_path / "dp1" / "checkpoints" / "step-0000002")
    dp1 = run_here(blends, tmp_path / "dp1")
    assert [m["step"] for m in dp1] == [3, 4, 5, 6]
    assert [m["batch_hash"] for m in dp1] == [m["batch_hash"] for m in metrics[2:]]
    assert [m["loss"] for m in dp1] == pytest.approx([m["loss"] for m in metrics[2:]], abs=1e-4, rel=0)


def test_ziya_train_tp2_matches_tp1(reference, blends, tmp_path):
    metrics, _ = reference
    proc = ziya_train(overrides(blends, tmp_path, "parallel.tp=2"), nproc=2)
    assert "tp=2 dp=1 accumulation=2" in proc.stdout
    assert "step     6 | code" in proc.stdout  # the console line of the last step
    tp2 = read_metrics(tmp_path)
    assert all(m["grad_norm"] > 0.5 for m in tp2)  # clipping was active
    assert [m["batch_hash"] for m in tp2] == [m["batch_hash"] for m in metrics]
    assert [m["loss"] for m in tp2] == pytest.approx([m["loss"] for m in metrics], abs=1e-4, rel=0)


def test_metrics_jsonl_tensorboard_and_config_are_written(reference):
    metrics, out = reference
    lines = read_metrics(out)
    assert lines == json.loads(json.dumps(metrics))
    expected = {"step", "stage", "loss", "grad_norm", "lr", "skipped", "skipped/total", "samples_in_stage",
                "tokens", "throughput/tokens_per_s", "throughput/tflops_per_device", "mfu", "memory/gib",
                "time_s", "batch_hash"}
    assert set(lines[0]) == expected
    assert lines[-1]["tokens"] == 6 * GLOBAL * SEQ
    assert all(m["mfu"] is None and m["throughput/tokens_per_s"] > 0 and m["memory/gib"] > 0.05 for m in lines)
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))
    assert json.loads((out / "config.json").read_text())["data"]["seq_length"] == SEQ
    assert not (out / "train.lock").exists(), "the run's lock is released when it ends"


def test_nan_and_spike_steps_skip_their_update(blends, tmp_path):
    metrics = run_here(blends, tmp_path, "stability.inject=['nan@2', 'spike@5']", "stability.spike_window=2",
                       "stability.spike_factor=3.0")
    assert [m["skipped"] for m in metrics] == [None, "nonfinite", None, None, "loss_spike", None]
    assert [m["skipped/total"] for m in metrics] == [0, 1, 1, 1, 2, 2]
    assert all(torch.isfinite(torch.tensor(m["loss"])) for i, m in enumerate(metrics) if i != 1)
    assert saved_optimizer_step(tmp_path / "checkpoints" / "step-0000006") == 4  # 6 steps, 2 updates skipped
    state = json.loads((tmp_path / "checkpoints" / "step-0000006" / "state.json").read_text())
    assert state["stability"]["skipped"] == {"nonfinite": 1, "loss_spike": 1}


def test_init_from_takes_model_weights_only(reference, blends, tmp_path):
    metrics, out = reference
    imported = tmp_path / "imported" / "step-0000006"  # like an HF import: weights and state.json, no optimizer
    shutil.copytree(out / "checkpoints" / "step-0000006", imported, ignore=shutil.ignore_patterns("optimizer"))
    state = json.loads((imported / "state.json").read_text())
    hf = {"source": "llama-hf", "vocab_size": 32000, "dtype": "bfloat16", "config": {"model_type": "llama"}}
    (imported / "state.json").write_text(json.dumps({**state, "hf": hf}))  # what an HF import records
    run = tmp_path / "run"
    started = run_here(blends, run, f"checkpoint.init_from={imported.parent}", "checkpoint.exit_after_steps=1")
    assert [(m["step"], m["stage"], m["samples_in_stage"]) for m in started] == [(1, "general", GLOBAL)]
    assert started[0]["batch_hash"] == metrics[0]["batch_hash"]  # data from the start
    assert started[0]["lr"] == metrics[0]["lr"]  # schedule from the start
    assert started[0]["loss"] < metrics[0]["loss"] - 0.5  # but trained weights
    assert saved_optimizer_step(run / "checkpoints" / "step-0000001") == 1  # a fresh optimizer
    # The import's HF details travel with the trained checkpoints, for the exporter.
    assert json.loads((run / "checkpoints" / "step-0000001" / "state.json").read_text())["hf"] == hf


def test_bf16_trains_with_fp32_master_weights(blends, tmp_path):
    metrics = run_here(blends, tmp_path, "precision='bf16'", "checkpoint.exit_after_steps=3")
    losses = [m["loss"] for m in metrics]
    assert all(torch.isfinite(torch.tensor(losses))) and losses[-1] < losses[0], losses
    masters = {k: t for k, t in saved_optimizer_keys(tmp_path / "checkpoints" / "step-0000003").items()
               if k.startswith("optimizer.state.fp32_param.")}
    assert masters and all(t.dtype == torch.float32 for t in masters.values())


def test_tp2_x_dp2_matches_tp1_dp1_across_a_kill_and_resume(reference, blends, tmp_path):
    # Four processes: two TP groups of two, data parallel across them; "killed" at the stage boundary.
    metrics, _ = reference
    first = ziya_train(overrides(blends, tmp_path, "parallel.tp=2", "checkpoint.exit_after_steps=3"), nproc=4)
    assert "tp=2 dp=2 accumulation=1" in first.stdout
    # the TP=2 x DP=2 checkpoint also resumes at TP=1 (here, in this process): the optimizer reshards
    shutil.copytree(tmp_path / "checkpoints" / "step-0000003", tmp_path / "tp1" / "checkpoints" / "step-0000003")
    tp1 = run_here(blends, tmp_path / "tp1")
    assert [m["step"] for m in tp1] == [4, 5, 6]
    assert [m["batch_hash"] for m in tp1] == [m["batch_hash"] for m in metrics[3:]]
    assert [m["loss"] for m in tp1] == pytest.approx([m["loss"] for m in metrics[3:]], abs=1e-4, rel=0)
    ziya_train(overrides(blends, tmp_path, "parallel.tp=2"), nproc=4)
    both = read_metrics(tmp_path)
    assert [m["step"] for m in both] == [1, 2, 3, 4, 5, 6]
    assert [m["batch_hash"] for m in both] == [m["batch_hash"] for m in metrics]
    assert [m["loss"] for m in both] == pytest.approx([m["loss"] for m in metrics], abs=1e-4, rel=0)
