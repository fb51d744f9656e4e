"""Per-step training metrics from rank 0: a console line, OUT/metrics.jsonl and TensorBoard (OUT/tensorboard).

One flat dict per step with namespaced keys, as torchtitan logs them:
  step, stage, loss, grad_norm, lr, skipped (None or the reason), skipped/total, tokens (consumed so far),
  samples_in_stage, throughput/tokens_per_s, throughput/tflops_per_device, mfu (None where no peak is
  known: CPU, unknown GPUs), memory/gib (CPU: process RSS; GPU: max allocated), time_s, batch_hash (opt.)
TFLOPS use Megatron-LM's model-FLOPs formula (`trainer.flops`) and count every device of the job.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Optional

import torch

from trainer.config import ModelConfig
from trainer.flops import flops_per_iteration, peak_tflops_for


def peak_tflops(device: str, configured: float) -> Optional[float]:
    if configured > 0:
        return configured
    return peak_tflops_for(torch.cuda.get_device_name()) if device == "cuda" else None


def memory_gib(device: str) -> float:
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    import psutil

    return psutil.Process(os.getpid()).memory_info().rss / 2**30


class MetricsLogger:
    """Writes only on global rank 0; the other ranks' calls return at once."""

    def __init__(self, out: str, *, rank: int, model_cfg: ModelConfig, global_batch: int, seq_length: int,
                 world_size: int, device: str, peak: Optional[float], log_interval: int = 1):
        self.enabled = rank == 0
        self.device, self.peak, self.log_interval = device, peak, log_interval
        self.tokens_per_step = global_batch * seq_length
        self.flops_per_step = flops_per_iteration(model_cfg, global_batch, seq_length)
        self.world_size = world_size
        self.jsonl = self.writer = None
        if self.enabled:
            Path(out).mkdir(parents=True, exist_ok=True)
            self.jsonl = open(Path(out) / "metrics.jsonl", "a")
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(Path(out) / "tensorboard"))

    def log(self, m: dict, step_time: float) -> dict:
        """Add throughput and memory to the step's metrics `m`, and write them."""
        if not self.enabled:
            return m
        tflops = self.flops_per_step / step_time / self.world_size / 1e12
        m = {**m,
             "throughput/tokens_per_s": self.tokens_per_step / step_time,
             "throughput/tflops_per_device": tflops,
             "mfu": tflops / self.peak if self.peak else None,
             "memory/gib": memory_gib(self.device),
             "time_s": step_time}
        self.jsonl.write(json.dumps(m) + "\n")
        self.jsonl.flush()
        for key, value in m.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
                    and key != "step":
                self.writer.add_scalar(key, value, m["step"])
        if m["step"] % self.log_interval == 0 or m["skipped"]:
            print(console_line(m), flush=True)
        return m

    def close(self) -> None:
        if self.enabled:
            self.jsonl.close()
            self.writer.close()


def console_line(m: dict) -> str:
    mfu = f"{m['mfu']:.1%}" if m["mfu"] is not None else "n/a"
    skipped = f" | SKIPPED ({m['skipped']})" if m["skipped"] else ""
    return (f"step {m['step']:5d} | {m['stage']:<10s} | loss {m['loss']:7.4f} | grad {m['grad_norm']:7.3f} | "
            f"lr {m['lr']:.2e} | {m['throughput/tokens_per_s']:8.0f} tok/s | "
            f"{m['throughput/tflops_per_device']:.3f} TFLOPS | MFU {mfu} | mem {m['memory/gib']:.2f} GiB | "
            f"skipped {m['skipped/total']}{skipped}")


def loss_curve(history: list[dict], rows: int = 10, width: int = 40) -> str:
    """The loss of every k-th step (and the last) as a text chart, bars scaled between the lowest and
    highest finite loss shown.

    >>> print(loss_curve([{"step": i, "loss": 10.0 - i} for i in range(1, 5)], rows=2, width=6))
    loss curve (2 steps per row):
      step      2  loss   8.0000  ######
      step      4  loss   6.0000  #
    """
    if not history:
        return "loss curve: no steps"
    every = max(1, len(history) // rows)
    shown = history[every - 1::every]
    if shown[-1] is not history[-1]:
        shown.append(history[-1])
    finite = [m["loss"] for m in shown if math.isfinite(m["loss"])] or [0.0]
    low, high = min(finite), max(finite)
    lines = [f"loss curve ({every} step{'s' if every > 1 else ''} per row):"]
    for m in shown:
        bar = 1 + round((width - 1) * (m["loss"] - low) / (high - low)) if high > low and math.isfinite(m["loss"]) else 1
        lines.append(f"  step {m['step']:6d}  loss {m['loss']:8.4f}  {'#' * bar}")
    return "\n".join(lines)
