"""Train a LLaMA-style megatron-core model on `ziya pack` shards, stage by stage of a `ziya mix` blends file.

    python -m trainer.train --config configs/train_tiny_demo.toml                        # one process
    torchrun --nproc-per-node 2 -m trainer.train --config configs/train_tiny_demo.toml \\
        --set parallel.tp=2 --set out=out/train_tp2                                      # TP x DP
    ziya train --config configs/train_tiny_demo.toml --nproc 2                           # the same, launched

Parallelism is applied from outside the model: `trainer.parallel.init_distributed` creates the
tensor- and data-parallel groups (dp = world size / tp), `build_model` reads the TP size from them.
Every rank of a TP group reads the same micro batches; each DP rank reads its slice of the global
batch (`trainer.data`), and gradients are summed over the DP group before clipping (`trainer.optim`).

One step: for each micro batch, forward + backward of the summed token losses over the global batch's
token count (so accumulation and DP give the global-batch mean); all-reduce gradients over DP; copy
them to the FP32 master weights (BF16 models only); clip by the global norm; skip the update if the
loss or norm is non-finite or the loss spikes (`trainer.stability`), else set the scheduled LR
(`trainer.schedule`) and step AdamW.

Everything a resumed run needs is in the checkpoint (`trainer.checkpoint`): weights, optimizer and
master weights, step, data position (stage, samples consumed in it) and the loss guard's window; the
LR is a pure function of the step. So a run stopped and resumed (`checkpoint.resume`, on by default:
rerun the same command) produces exactly the uninterrupted run's losses on CPU.

One run per `out`: rank 0 holds OUT/train.lock for the whole run (`trainer.run_lock`), so a second
run with the same `out` is refused, naming the first, before it reads or writes a checkpoint.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import torch

from corpus_tools.storage import LockHeld
from trainer.config import ModelConfig, get_model_config
from trainer.run_config import RunConfig, load_run_config


def train(cfg: RunConfig) -> list[dict]:
    """Run (or resume) training; return the metrics of the steps this call ran. Needs
    `trainer.parallel.init_distributed` first. Rank 0 holds OUT/train.lock throughout
    (`trainer.run_lock`): while another run holds it, every rank raises LockHeld before reading or
    writing anything under `out`."""
    from trainer.run_lock import hold

    with hold(cfg.out):
        return _train(cfg)


def _train(cfg: RunConfig) -> list[dict]:
    from megatron.core import parallel_state as ps

    from trainer.checkpoint import latest_checkpoint, load_checkpoint, load_model_weights
    from trainer.data import Blends, DataPosition, StageData
    from trainer.metrics import MetricsLogger, loss_curve, peak_tflops
    from trainer.model import build_model
    from trainer.optim import MasterWeights, build_optimizer
    from trainer.schedule import lr_at, segments
    from trainer.stability import LossGuard

    rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    if ps.get_tensor_model_parallel_world_size() != cfg.parallel.tp:
        raise ValueError(f"parallel.tp={cfg.parallel.tp} but the process groups were set up for "
                         f"tp={ps.get_tensor_model_parallel_world_size()}")
    out = Path(cfg.out)
    blends = Blends.read(cfg.data.blends)
    mcfg = model_config(cfg, blends.vocab_size)
    seq = mcfg.seq_length
    data = StageData(blends, seq_length=seq, global_batch=cfg.data.global_batch_size,
                     micro_batch=cfg.data.micro_batch_size, dp_rank=ps.get_data_parallel_rank(),
                     dp_size=ps.get_data_parallel_world_size(), seed=cfg.seed,
                     cache_dir=cfg.data.cache_dir or str(out / "data_cache"), vocab_size=blends.vocab_size)
    plan = data.stage_steps()
    total_steps = cfg.data.steps or sum(plan)
    if total_steps > sum(plan):
        raise ValueError(f"data.steps={total_steps}, but the stages' token budgets last {sum(plan)} steps")
    segs = segments(plan, [s.lr_rewarm for s in blends.stages], total_steps)

    torch.manual_seed(cfg.seed)  # with use_cpu_initialization every TP rank draws the full weights, then slices
    model = build_model(mcfg, device=cfg.device, bf16=cfg.bf16, attention=cfg.attention)
    resume_from = latest_checkpoint(str(out / "checkpoints")) if cfg.checkpoint.resume else None
    if resume_from is None and cfg.checkpoint.init_from:
        init = latest_checkpoint(cfg.checkpoint.init_from)
        load_model_weights(init, model)
        _log(rank, f"initialized weights from {init}")
    _broadcast_over_dp(model)  # DP replicas start identical, whatever initialized them
    master = MasterWeights(list(model.parameters()))
    opt = build_optimizer(master, cfg.optimizer)
    guard = LossGuard(cfg.stability.spike_factor, cfg.stability.spike_window)

    step, pos = 0, DataPosition()  # optimizer steps done; position of the next global batch
    if resume_from is not None:
        state = load_checkpoint(resume_from, model, opt, master)
        step, pos = state["step"], DataPosition(**state["data"])
        guard.load_state_dict(state["stability"])
        _log(rank, f"resumed from {resume_from} at step {step} (stage {pos.stage}, sample {pos.samples})")
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
        _log(rank, f"{mcfg.name}: {mcfg.num_params() / 1e6:.1f}M params, tp={cfg.parallel.tp} "
                   f"dp={data.dp_size} accumulation={data.accumulation}, {total_steps} steps over stages "
                   + ", ".join(f"{s.name}={n}" for s, n in zip(blends.stages, plan)))
    logger = MetricsLogger(str(out), rank=rank, model_cfg=mcfg, global_batch=cfg.data.global_batch_size,
                           seq_length=seq, world_size=world, device=cfg.device,
                           peak=peak_tflops(cfg.device, cfg.metrics.peak_tflops),
                           log_interval=cfg.metrics.log_interval)

    if step >= total_steps:
        _log(rank, f"nothing to do: the run is at step {step} of {total_steps}")
    history = []
    while step < total_steps:
        t0 = time.perf_counter()
        pos = data.advance_stage_if_done(pos)
        batches = data.micro_batches(pos)
        lr = lr_at(step, cfg.schedule, segs)
        m = train_step(model, master, opt, batches, lr, cfg, guard, step + 1)
        step, pos = step + 1, DataPosition(pos.stage, pos.samples + cfg.data.global_batch_size)
        m = {"step": step, "stage": blends.stages[pos.stage].name, **m,
             "skipped/total": guard.skipped_total, "samples_in_stage": pos.samples,
             "tokens": step * cfg.data.global_batch_size * seq}
        if cfg.metrics.batch_hash:
            m["batch_hash"] = _global_batch_digest(batches)
        history.append(logger.log(m, time.perf_counter() - t0))

        stop = step == total_steps or step == cfg.checkpoint.exit_after_steps
        if stop or (cfg.checkpoint.save_interval and step % cfg.checkpoint.save_interval == 0):
            _save(cfg, mcfg, step, pos, plan, guard, model, opt, master)
        if stop:
            break
    logger.close()
    if rank == 0 and history:
        print(loss_curve(history), flush=True)
    return history


def model_config(cfg: RunConfig, data_vocab_size: int) -> ModelConfig:
    """The architecture: `checkpoint.init_from`'s (an HF import records its full config), else the
    named config with the shards' vocabulary; the sequence length is `data.seq_length`'s if set."""
    if cfg.checkpoint.init_from:
        from trainer.checkpoint import latest_checkpoint

        init = latest_checkpoint(cfg.checkpoint.init_from)
        if init is None:
            raise FileNotFoundError(f"checkpoint.init_from: no checkpoint under {cfg.checkpoint.init_from}")
        saved = json.loads((init / "state.json").read_text())["config"]
        mcfg = ModelConfig(**saved["model_config"]) if "model_config" in saved else get_model_config(saved["model"])
        if mcfg.vocab_size < data_vocab_size:
            raise ValueError(f"{init}: the model's vocabulary ({mcfg.vocab_size}) is smaller than the "
                             f"shards' ({data_vocab_size})")
    else:
        mcfg = get_model_config(cfg.model).replace(vocab_size=data_vocab_size)
    return mcfg.replace(seq_length=cfg.data.seq_length or mcfg.seq_length)


def train_step(model, master, opt, batches: list[dict], lr: float, cfg: RunConfig, guard, step: int) -> dict:
    """One optimizer step over this rank's micro batches (see the module docstring)."""
    from megatron.core import parallel_state as ps

    from trainer.optim import allreduce_gradients, clip_grad_norm_

    dp_group = ps.get_data_parallel_group()
    device = cfg.device
    n_tokens = sum(b["loss_mask"].sum() for b in batches).to(device)
    torch.distributed.all_reduce(n_tokens, group=dp_group)  # tokens in the global batch
    injected = cfg.stability.injected(step)
    loss_sum = torch.zeros((), device=device)
    for b in batches:
        per_token = model(b["tokens"].to(device), b["position_ids"].to(device), None,
                          labels=b["labels"].to(device))  # [b, s], FP32
        loss = (per_token * b["loss_mask"].to(device)).sum() / n_tokens
        if injected == "nan":  # test hook: a batch whose loss is NaN
            loss = loss * float("nan")
        elif injected == "spike":  # test hook: a batch whose loss jumps far above the recent mean
            loss = loss * max(10.0, 10 * cfg.stability.spike_factor)
        loss.backward()
        loss_sum += loss.detach()
    torch.distributed.all_reduce(loss_sum, group=dp_group)  # the global batch's mean token loss
    allreduce_gradients(master.model_params, dp_group)
    master.grads_to_master()
    grad_norm = clip_grad_norm_(master.params, cfg.optimizer.grad_clip)
    loss_value = loss_sum.item()
    skipped = guard.check(loss_value, grad_norm)
    if skipped is None:
        for group in opt.param_groups:
            group["lr"] = lr
        opt.step()
        master.master_to_model()
    master.zero_grad()
    return {"loss": loss_value, "grad_norm": grad_norm, "lr": lr, "skipped": skipped}


def _save(cfg: RunConfig, mcfg: ModelConfig, step: int, pos, plan: list[int], guard, model, opt, master) -> None:
    """The run state beside the weights; config.model_config is the architecture as built (the HF
    exporter and `init_from` read it)."""
    import dataclasses

    from trainer.checkpoint import save_checkpoint

    state = {"data": {"stage": pos.stage, "samples": pos.samples}, "stage_steps": plan,
             "stability": guard.state_dict(),
             "config": {**cfg.to_dict(), "model_config": dataclasses.asdict(mcfg)}}
    imported = _imported_hf(cfg)
    if imported:  # so `ziya convert mcore-to-hf` restores the source's dtype, vocabulary and files
        state["hf"] = imported
    path = save_checkpoint(str(Path(cfg.out) / "checkpoints"), step, state, model, opt, master)
    _log(torch.distributed.get_rank(), f"saved {path}")


def _imported_hf(cfg: RunConfig) -> dict | None:
    """The `hf` block of an `init_from` checkpoint made by `ziya convert hf-to-mcore`, if any."""
    if not cfg.checkpoint.init_from:
        return None
    from trainer.checkpoint import latest_checkpoint

    init = latest_checkpoint(cfg.checkpoint.init_from)
    return json.loads((init / "state.json").read_text()).get("hf") if init else None


def _broadcast_over_dp(model) -> None:
    from megatron.core import parallel_state as ps

    if ps.get_data_parallel_world_size() > 1:
        for p in model.parameters():
            torch.distributed.broadcast(p.data, src=ps.get_data_parallel_src_rank(),
                                        group=ps.get_data_parallel_group())


def _global_batch_digest(batches: list[dict]) -> str:
    """A digest of every sample of the global batch, gathered over the DP group."""
    from megatron.core import parallel_state as ps

    from trainer.data import batch_digest, sample_digests

    mine = [pair for b in batches for pair in sample_digests(b)]
    gathered = [None] * ps.get_data_parallel_world_size()
    torch.distributed.all_gather_object(gathered, mine, group=ps.get_data_parallel_group())
    return batch_digest([pair for part in gathered for pair in part])


def _log(rank: int, message: str) -> None:
    if rank == 0:
        print(message, flush=True)


def parse_args(argv=None) -> RunConfig:
    p = argparse.ArgumentParser(prog="python -m trainer.train", description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True, help="training config (TOML)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="override a config value, e.g. schedule.lr=1e-3 (repeatable)")
    args = p.parse_args(argv)
    return load_run_config(args.config, args.overrides)


def main(argv=None) -> None:
    from trainer.parallel import destroy_distributed, init_distributed

    cfg = parse_args(argv)
    logging.getLogger("megatron").setLevel(logging.WARNING)  # per-dataset index-building chatter
    init_distributed(cfg.device, tensor_parallel_size=cfg.parallel.tp, seed=cfg.seed)
    try:
        train(cfg)
    except LockHeld as exc:  # another run writes `out`: one line and exit 2, not a traceback per rank
        if torch.distributed.get_rank() == 0:
            print(f"trainer.train: error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    finally:
        destroy_distributed()


if __name__ == "__main__":  # dist_checkpointing's saver spawns processes that re-import __main__
    main()
