"""Train a LLaMA-style megatron-core model: the step loop, gradient clipping and checkpoints.

    python -m trainer.train --model tiny --steps 20 --device cpu
    torchrun --nproc-per-node 2 -m trainer.train --model tiny --steps 20 --tp 2 --device cpu \\
        --save ckpt --resume ckpt --metrics metrics.jsonl

Parallelism is applied from outside the model: `trainer.parallel.init_distributed` creates the
tensor-parallel groups, then `build_model` reads the TP size from them. Every rank of a TP group
reads the same batch. Data parallelism is not wired in yet (world size must equal --tp).

The data for now is a deterministic synthetic token stream (`SyntheticTokens`): sample i is a pure
function of (seed, i), so the data position is just the number of samples consumed, and a resumed run
reads exactly the samples the uninterrupted run would have.

Checkpoints (`save_checkpoint`): DIR/step-NNNNNNN/ holds
- model/: megatron-core `dist_checkpointing` (sharded; reshards across TP sizes),
- optimizer/rank-NNNNN.pt: each rank's `torch.optim.AdamW.state_dict()` via torch.save. Plain AdamW keys
  its state by parameter index and holds this rank's shard of each moment, so it resumes at the same TP
  size only; megatron's sharded optimizer state is built for its own DistributedOptimizer stack, which
  needs CUDA.
- state.json: step, samples consumed and the run's config.
It is written into DIR/step-NNNNNNN.tmp and renamed when complete; DIR/latest (the name of the newest
complete checkpoint) is then replaced atomically. A save killed half-way leaves only a .tmp directory,
which the next save of that step overwrites and `--resume` never reads.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

from trainer.config import get_model_config


@dataclass(frozen=True)
class TrainConfig:
    model: str = "tiny"
    steps: int = 20  # train until this step (a resumed run continues towards it)
    tp: int = 1
    micro_batch_size: int = 4
    lr: float = 3e-3
    warmup_steps: int = 0  # linear warmup, then constant
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95  # LLaMA-2 / Ziya2
    grad_clip: float = 1.0  # max global gradient norm; 0 disables clipping
    seed: int = 1234
    device: str = "cpu"
    attention: str = "sdpa"
    save: Optional[str] = None
    save_interval: int = 0  # also save every N steps (0: only at the end)
    resume: Optional[str] = None
    metrics: Optional[str] = None  # JSON lines of per-step metrics, from rank 0


class SyntheticTokens:
    """A deterministic, learnable token stream: sample i is an arithmetic progression mod the
    vocabulary (random start and stride) with ~10% of its tokens replaced by noise, drawn from a
    generator seeded by (seed, i) alone."""

    def __init__(self, vocab_size: int, seq_length: int, seed: int):
        self.vocab_size, self.seq_length, self.seed = vocab_size, seq_length, seed

    def sample(self, i: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + i)
        start = torch.randint(0, self.vocab_size, (1,), generator=g)
        stride = torch.randint(1, 8, (1,), generator=g)
        tokens = (start + stride * torch.arange(self.seq_length + 1)) % self.vocab_size
        noise = torch.rand(self.seq_length + 1, generator=g) < 0.1
        return torch.where(noise, torch.randint(0, self.vocab_size, tokens.shape, generator=g), tokens)

    def batch(self, first: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Samples first .. first+size-1 as (input ids [b, s], labels [b, s])."""
        tokens = torch.stack([self.sample(first + k) for k in range(size)])  # [b, s + 1]
        return tokens[:, :-1], tokens[:, 1:]


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Learning rate of optimizer step `step` (0-based): a pure function of the step, so nothing about
    the schedule needs saving."""
    if cfg.warmup_steps and step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    return cfg.lr


def clip_grad_norm_(params: list[torch.nn.Parameter], max_norm: float) -> float:
    """Clip gradients by their global norm across the tensor-parallel group; return the norm before
    clipping. A TP-sharded parameter contributes its shard from each rank; a replicated one (the
    RMSNorm weights) has the same gradient on every rank and is counted once."""
    from megatron.core import parallel_state

    grads = [p.grad for p in params if p.grad is not None]
    sharded = [p.grad for p in params if p.grad is not None and getattr(p, "tensor_model_parallel", False)]
    replicated = [p.grad for p in params if p.grad is not None and not getattr(p, "tensor_model_parallel", False)]
    sq_sharded = sum((g.float().pow(2).sum() for g in sharded), torch.zeros(()))
    torch.distributed.all_reduce(sq_sharded, group=parallel_state.get_tensor_model_parallel_group())
    sq_replicated = sum((g.float().pow(2).sum() for g in replicated), torch.zeros(()))
    total = math.sqrt((sq_sharded + sq_replicated).item())
    if max_norm > 0 and total > max_norm:
        scale = max_norm / (total + 1e-6)
        for g in grads:
            g.mul_(scale)
    return total


def train_step(model, opt, ids, labels, cfg: TrainConfig, step: int) -> dict:
    """One optimizer step on one batch: forward, backward, clip, update."""
    b, s = ids.shape
    positions = torch.arange(s, device=ids.device).expand(b, s)
    loss = model(ids, positions, None, labels=labels).mean()  # per-token losses [b, s] -> scalar
    opt.zero_grad(set_to_none=True)
    loss.backward()
    params = [p for group in opt.param_groups for p in group["params"]]
    grad_norm = clip_grad_norm_(params, cfg.grad_clip)
    lr = lr_at(step, cfg)
    for group in opt.param_groups:
        group["lr"] = lr
    opt.step()
    return {"loss": loss.item(), "grad_norm": grad_norm, "lr": lr}


def train(cfg: TrainConfig) -> list[float]:
    """Train from scratch or from the latest checkpoint under `cfg.resume`; return the losses of the
    steps this call ran. Needs `trainer.parallel.init_distributed` first."""
    from megatron.core import parallel_state

    from trainer.model import build_model

    rank = torch.distributed.get_rank()
    if torch.distributed.get_world_size() != cfg.tp:
        raise ValueError(f"world size {torch.distributed.get_world_size()} != --tp {cfg.tp}: "
                         "data parallelism is not supported yet")
    assert parallel_state.get_tensor_model_parallel_world_size() == cfg.tp
    mcfg = get_model_config(cfg.model)
    torch.manual_seed(cfg.seed)  # with use_cpu_initialization every TP rank draws the full weights, then slices
    model = build_model(mcfg, device=cfg.device, attention=cfg.attention)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2),
                            weight_decay=cfg.weight_decay)
    data = SyntheticTokens(mcfg.vocab_size, mcfg.seq_length, cfg.seed)

    step, samples = 0, 0  # optimizer steps done, samples consumed
    if cfg.resume:  # a directory without a checkpoint yet means: start, so one command can (re)start a run
        ckpt = latest_checkpoint(cfg.resume)
        if ckpt is not None:
            step, samples = load_checkpoint(ckpt, model, opt)
        if rank == 0:
            print(f"resumed from {ckpt} at step {step} ({samples} samples)" if ckpt else
                  f"no checkpoint under {cfg.resume}: starting from scratch", flush=True)

    metrics_file = open(cfg.metrics, "a") if cfg.metrics and rank == 0 else None
    losses = []
    while step < cfg.steps:
        t0 = time.perf_counter()
        ids, labels = data.batch(samples, cfg.micro_batch_size)
        ids, labels = ids.to(cfg.device), labels.to(cfg.device)
        m = train_step(model, opt, ids, labels, cfg, step)
        step, samples = step + 1, samples + cfg.micro_batch_size
        losses.append(m["loss"])
        m = {"step": step, **m, "time_s": time.perf_counter() - t0}
        if rank == 0:
            print(f"step {step:5d} | loss {m['loss']:.4f} | grad_norm {m['grad_norm']:.3f} | "
                  f"lr {m['lr']:.2e} | {m['time_s'] * 1e3:.0f} ms", flush=True)
            if metrics_file:
                metrics_file.write(json.dumps(m) + "\n")
                metrics_file.flush()
        if cfg.save and (step == cfg.steps or (cfg.save_interval and step % cfg.save_interval == 0)):
            save_checkpoint(cfg.save, step, samples, model, opt, cfg)
    if metrics_file:
        metrics_file.close()
    return losses


# --- checkpoints -------------------------------------------------------------------------------------

def _step_name(step: int) -> str:
    return f"step-{step:07d}"


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_checkpoint(root: str, step: int, samples: int, model, opt, cfg: TrainConfig) -> Path:
    """Write DIR/step-N atomically (see the module docstring) and point DIR/latest at it."""
    from megatron.core import dist_checkpointing

    rank = torch.distributed.get_rank()
    root_path = Path(root)
    final, tmp = root_path / _step_name(step), root_path / (_step_name(step) + ".tmp")
    if rank == 0:
        shutil.rmtree(tmp, ignore_errors=True)  # left by a killed save
        (tmp / "model").mkdir(parents=True)
        (tmp / "optimizer").mkdir()
    torch.distributed.barrier()
    dist_checkpointing.save(model.sharded_state_dict(), str(tmp / "model"))
    torch.save(opt.state_dict(), tmp / "optimizer" / f"rank-{rank:05d}.pt")
    if rank == 0:
        state = {"step": step, "samples": samples, "config": dataclasses.asdict(cfg)}
        _write_atomically(tmp / "state.json", json.dumps(state, indent=2))
    torch.distributed.barrier()  # every rank's files are in place
    if rank == 0:
        if final.exists():  # the same step saved before (e.g. a rerun): replace it
            shutil.rmtree(final)
        os.rename(tmp, final)
        _write_atomically(root_path / "latest", final.name + "\n")
        print(f"saved {final}", flush=True)
    torch.distributed.barrier()
    return final


def latest_checkpoint(root: str) -> Optional[Path]:
    """The checkpoint DIR/latest names, or `root` itself if it is a checkpoint; None if there is none."""
    root_path = Path(root)
    if (root_path / "state.json").exists():
        return root_path
    pointer = root_path / "latest"
    if not pointer.exists():
        return None
    return root_path / pointer.read_text().strip()


def load_checkpoint(path: Path, model, opt) -> tuple[int, int]:
    """Load model and optimizer state in place; return (step, samples consumed)."""
    from megatron.core import dist_checkpointing

    rank = torch.distributed.get_rank()
    state = json.loads((path / "state.json").read_text())
    model.load_state_dict(dist_checkpointing.load(model.sharded_state_dict(), str(path / "model")))
    opt_file = path / "optimizer" / f"rank-{rank:05d}.pt"
    if not opt_file.exists():
        raise FileNotFoundError(f"{opt_file}: optimizer state is saved per rank; resume at the TP size "
                                f"it was saved with ({state['config']['tp']})")
    opt.load_state_dict(torch.load(opt_file, weights_only=True))
    return state["step"], state["samples"]


# --- command line ------------------------------------------------------------------------------------

def parse_args(argv=None) -> TrainConfig:
    p = argparse.ArgumentParser(prog="python -m trainer.train", description=__doc__.split("\n")[0])
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        kind = {"int": int, "float": float}.get(str(f.type).replace("Optional[", "").rstrip("]"), str)
        p.add_argument(flag, type=kind, default=f.default)
    return TrainConfig(**vars(p.parse_args(argv)))


def main(argv=None) -> None:
    from trainer.parallel import destroy_distributed, init_distributed

    cfg = parse_args(argv)
    init_distributed(cfg.device, tensor_parallel_size=cfg.tp, seed=cfg.seed)
    try:
        train(cfg)
    finally:
        destroy_distributed()


if __name__ == "__main__":  # dist_checkpointing's saver spawns processes that re-import __main__
    main()
