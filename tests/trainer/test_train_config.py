"""The pieces of a training run that need no megatron-core: LR schedule shapes, the TOML config and its
--set overrides, the blends file checks, the loss guard, and the torchrun command `ziya train` builds."""
from __future__ import annotations

import json
import math

import pytest

from corpus_tools.config import ConfigError, load
from tests.trainer._launch import DEMO_CONFIG
from trainer.schedule import LRSchedule, lr_at, segments


def curve(schedule: LRSchedule, n: int) -> list[float]:
    return [schedule.lr_in_segment(i, n) for i in range(n)]


def test_cosine_warms_up_linearly_then_decays_to_min_lr():
    lrs = curve(LRSchedule(kind="cosine", lr=1.0, min_lr=0.1, warmup_steps=10), 100)
    assert lrs[:10] == pytest.approx([(i + 1) / 10 for i in range(10)])
    assert all(b <= a for a, b in zip(lrs[9:], lrs[10:]))  # non-increasing after the warmup
    assert lrs[-1] == pytest.approx(0.1)
    mid = 10 + (100 - 10) // 2 - 1  # half-way through the decay: half-way between lr and min_lr
    assert lrs[mid] == pytest.approx(0.55, abs=1e-9)


def test_wsd_is_flat_then_decays_linearly_over_its_last_fraction():
    lrs = curve(LRSchedule(kind="wsd", lr=1.0, min_lr=0.0, warmup_steps=5, decay_fraction=0.2), 100)
    assert lrs[4] == 1.0 and set(lrs[5:80]) == {1.0}
    decay = lrs[80:]
    assert all(b < a for a, b in zip(decay, decay[1:]))
    assert [round(b - a, 9) for a, b in zip(decay, decay[1:])] == [-0.05] * 19  # linear
    assert lrs[-1] == 0.0


def test_constant_and_validation():
    assert curve(LRSchedule(kind="constant", lr=0.5, min_lr=0.0, warmup_steps=2), 5) == [0.25, 0.5, 0.5, 0.5, 0.5]
    with pytest.raises(ConfigError, match="schedule.kind = 'linear': expected one of 'cosine', 'wsd', 'constant'"):
        load(LRSchedule, {"kind": "linear"}, "schedule")
    with pytest.raises(ValueError, match="min_lr"):
        LRSchedule(lr=1e-4, min_lr=1e-3)


def test_rewarm_restarts_the_schedule_at_a_stage():
    s = LRSchedule(kind="cosine", lr=1.0, min_lr=0.0, warmup_steps=2)
    segs = segments([6, 4, 4], [False, True, False])
    assert segs == [(0, 6), (6, 8)]
    lrs = [lr_at(i, s, segs) for i in range(14)]
    assert lrs[:6] == curve(s, 6)
    assert lrs[6:] == curve(s, 8)  # warmup again at step 6, then one decay over stages 2 and 3
    assert lrs[5] == 0.0 and lrs[6] == 0.5
    assert segments([6, 4, 4], [True, False, False]) == [(0, 14)]  # the first stage always starts one
    assert segments([6, 4], [False, True], total=8) == [(0, 6), (6, 2)]  # data.steps cuts the run short


def test_demo_config_loads_and_overrides_apply():
    from trainer.run_config import load_run_config

    cfg = load_run_config(str(DEMO_CONFIG), ["schedule.lr=1e-3", "parallel.tp=2", "data.blends=/x/b.json",
                                             "stability.inject=['nan@3']", "precision='bf16'"])
    assert cfg.model == "tiny" and cfg.device == "cpu" and cfg.data.seq_length == 64
    assert cfg.schedule.lr == 1e-3 and cfg.parallel.tp == 2 and cfg.data.blends == "/x/b.json"
    assert cfg.stability.injected(3) == "nan" and cfg.stability.injected(4) is None
    assert cfg.bf16 and not load_run_config(str(DEMO_CONFIG)).bf16  # fp32 on CPU unless asked
    assert load_run_config(str(DEMO_CONFIG), ["device='cuda'"]).bf16  # bf16 on GPU by default


@pytest.mark.parametrize("override, message", [
    ("schedule.lrr=1", "unknown key"),
    ("stability.inject=['boom@3']", "nan@STEP"),
    ("data.global_batch_size=6", "multiple of micro_batch_size"),
    ("device='tpu'", "config.device = 'tpu': expected one of 'cpu', 'cuda'"),
    ("noequals", "KEY=VALUE"),
])
def test_bad_config_values_fail_with_the_reason(override, message):
    from trainer.run_config import load_run_config

    with pytest.raises(ConfigError, match=message):
        load_run_config(str(DEMO_CONFIG), [override])


def write_blends(tmp_path, prefixes, **stage):
    for p in prefixes:
        for ext in (".bin", ".idx"):
            (tmp_path / (p + ext)).write_bytes(b"")
    st = {"name": "s", "tokens": 100, "lr_rewarm": False,
          "blend": {"prefixes": [str(tmp_path / p) for p in prefixes], "weights": [1.0] * len(prefixes)}, **stage}
    path = tmp_path / "blends.json"
    path.write_text(json.dumps({"vocab_size": 32000, "tokenizer_sha256": "x", "stages": [st]}))
    return path


def test_blends_file_is_checked(tmp_path):
    from trainer.data import Blends, BlendsError

    b = Blends.read(str(write_blends(tmp_path, ["a", "b"])))
    assert b.vocab_size == 32000 and b.stages[0].prefixes == (str(tmp_path / "a"), str(tmp_path / "b"))
    assert b.stages[0].steps(global_batch=4, seq_length=8) == math.ceil(100 / 32)
    (tmp_path / "b.idx").unlink()
    with pytest.raises(BlendsError, match="b.idx"):
        Blends.read(str(tmp_path / "blends.json"))
    with pytest.raises(BlendsError, match="tokens > 0"):
        Blends.read(str(write_blends(tmp_path, ["a"], tokens=0)))
    with pytest.raises(BlendsError, match="cannot read"):
        Blends.read(str(tmp_path / "missing.json"))


def test_each_dp_rank_reads_its_slice_of_the_global_batch(tmp_path):
    from trainer.data import Blends, DataPosition, StageData

    blends = Blends.read(str(write_blends(tmp_path, ["a"])))

    def indices(dp_rank, dp_size):
        data = StageData(blends, seq_length=8, global_batch=8, micro_batch=2, dp_rank=dp_rank, dp_size=dp_size,
                         seed=1, cache_dir=str(tmp_path), vocab_size=32000)
        return data.rank_sample_indices(DataPosition(0, 16))

    assert indices(0, 1) == [[16, 17], [18, 19], [20, 21], [22, 23]]  # 4 accumulation steps
    assert indices(0, 2) == [[16, 17], [20, 21]] and indices(1, 2) == [[18, 19], [22, 23]]
    whole = sorted(i for r in range(4) for mb in indices(r, 4) for i in mb)
    assert whole == list(range(16, 24))  # every sample once


def test_stage_position_advances_at_the_budget(tmp_path):
    from trainer.data import Blends, DataPosition, StageData

    blends = Blends.read(str(write_blends(tmp_path, ["a"], tokens=100)))  # 100 / (4 x 8) -> 4 steps
    data = StageData(blends, seq_length=8, global_batch=4, micro_batch=4, dp_rank=0, dp_size=1, seed=1,
                     cache_dir=str(tmp_path), vocab_size=32000)
    assert data.stage_steps() == [4] and data.stage_samples(0) == 16
    assert data.advance_stage_if_done(DataPosition(0, 12)) == DataPosition(0, 12)
    assert data.advance_stage_if_done(DataPosition(0, 16)) == DataPosition(1, 0)
    with pytest.raises(ValueError, match="multiple"):
        StageData(blends, seq_length=8, global_batch=6, micro_batch=4, dp_rank=0, dp_size=1, seed=1,
                  cache_dir=str(tmp_path), vocab_size=32000)


def test_loss_guard_counts_nonfinite_and_spikes():
    from trainer.stability import LossGuard

    g = LossGuard(spike_factor=2.0, window=2)
    assert g.check(4.0, 1.0) is None
    assert g.check(9.0, 1.0) is None  # the window is not full yet: no spike judged
    assert g.check(13.1, 1.0) == "loss_spike"  # > 2 x mean(4, 9)
    assert g.check(3.0, float("inf")) == "nonfinite"
    assert g.check(3.0, 1.0) is None
    assert g.skipped == {"loss_spike": 1, "nonfinite": 1} and g.skipped_total == 2
    restored = LossGuard(spike_factor=2.0, window=2)
    restored.load_state_dict(json.loads(json.dumps(g.state_dict())))
    assert list(restored.recent) == [9.0, 3.0] and restored.skipped == g.skipped
    assert LossGuard(spike_factor=0, window=1).check(1e9, 1.0) is None  # 0 disables spike detection


def test_torchrun_command_single_and_multi_node():
    from trainer.launch import torchrun_command

    cmd = torchrun_command("c.toml", ["schedule.lr=1e-3"], nproc=2)
    assert cmd[1:] == ["-m", "torch.distributed.run", "--nproc-per-node", "2", "--standalone",
                       "-m", "trainer.train", "--config", "c.toml", "--set", "schedule.lr=1e-3"]
    multi = torchrun_command("c.toml", [], nproc=8, nnodes=2, node_rank=1, master_addr="10.0.0.1")
    assert "--standalone" not in multi
    assert multi[multi.index("--nnodes"):multi.index("-m", 3)] == [
        "--nnodes", "2", "--node-rank", "1", "--master-addr", "10.0.0.1", "--master-port", "29500"]
    with pytest.raises(ValueError, match="master-addr"):
        torchrun_command("c.toml", [], nproc=8, nnodes=2)


def test_ziya_train_refuses_a_bad_layout_before_starting(tmp_path, capsys):
    from ziya.cli import main

    blends = write_blends(tmp_path, ["a"])
    args = ["train", "--config", str(DEMO_CONFIG), "--set", f"data.blends={blends}"]
    assert main([*args, "--nproc", "3", "--set", "parallel.tp=2"]) == 2
    assert "not a multiple of parallel.tp=2" in capsys.readouterr().err
    assert main([*args, "--nproc", "3"]) == 2  # 16 is not a multiple of 4 x 3
    assert "global_batch_size 16" in capsys.readouterr().err
    assert main(["train", "--config", str(DEMO_CONFIG), "--set", "data.blends=/nowhere.json"]) == 2
    assert "cannot read blends file" in capsys.readouterr().err


def test_metrics_throughput_tflops_and_mfu_from_a_configured_peak(tmp_path, capsys):
    from trainer.config import get_model_config
    from trainer.flops import flops_per_iteration
    from trainer.metrics import MetricsLogger

    cfg = get_model_config("tiny")
    kw = dict(model_cfg=cfg, global_batch=8, seq_length=64, world_size=2, device="cpu", peak=0.5)
    step = {"step": 1, "stage": "general", "loss": 7.0, "grad_norm": 0.5, "lr": 1e-3, "skipped": None,
            "skipped/total": 0}
    MetricsLogger(str(tmp_path / "other"), rank=1, **kw).log(step, step_time=2.0)
    assert not (tmp_path / "other").exists()  # only rank 0 writes
    logger = MetricsLogger(str(tmp_path), rank=0, **kw)
    m = logger.log(step, step_time=2.0)
    logger.close()
    tflops = flops_per_iteration(cfg, 8, 64) / 2.0 / 2 / 1e12  # per device: the job's FLOPs over 2 devices
    assert m["throughput/tokens_per_s"] == 8 * 64 / 2.0
    assert m["throughput/tflops_per_device"] == pytest.approx(tflops)
    assert m["mfu"] == pytest.approx(tflops / 0.5)
    assert json.loads((tmp_path / "metrics.jsonl").read_text()) == m
    assert f"MFU {tflops / 0.5:.1%}" in capsys.readouterr().out
