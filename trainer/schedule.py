"""Learning-rate schedules as pure functions of the optimizer step, so nothing about them needs saving.

Shapes (`LRSchedule.kind`), over a segment of `n` steps:
- "cosine": linear warmup from lr/warmup to lr over `warmup_steps`, then half a cosine down to `min_lr`
  at the segment's last step (LLaMA-2, Ziya2);
- "wsd": warmup, stable at `lr`, then a linear decay to `min_lr` over the last `decay_fraction` of the
  steps (warmup-stable-decay, Hu et al. 2024, MiniCPM, https://arxiv.org/abs/2404.06395);
- "constant": warmup, then `lr`.

A run is one segment, or, when stages ask for `lr_rewarm`, one segment per re-warmed stage: the
schedule starts again (warmup included) at the first step of each such stage.

    >>> s = LRSchedule(kind="cosine", lr=1.0, min_lr=0.1, warmup_steps=2)
    >>> [round(s.lr_in_segment(i, 6), 3) for i in range(6)]
    [0.5, 1.0, 0.868, 0.55, 0.232, 0.1]
    >>> [round(LRSchedule(kind="wsd", lr=1.0, warmup_steps=1, decay_fraction=0.5).lr_in_segment(i, 6), 3) for i in range(6)]
    [1.0, 1.0, 1.0, 0.667, 0.333, 0.0]
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Literal

from corpus_tools.config import NonNegativeFloat, NonNegativeInt, PositiveFloat, Range

Kind = Literal["cosine", "wsd", "constant"]


@dataclass(frozen=True)
class LRSchedule:
    kind: Kind = "cosine"
    lr: PositiveFloat = 3e-4  # peak
    min_lr: NonNegativeFloat = 3e-5  # end of the decay (LLaMA-2: 10% of the peak)
    warmup_steps: NonNegativeInt = 0
    # wsd only: share of a segment's steps spent decaying
    decay_fraction: Annotated[float, Range(0, 1, low_open=True)] = 0.2

    def __post_init__(self) -> None:
        if self.min_lr > self.lr:
            raise ValueError(f"need min_lr <= lr, got min_lr={self.min_lr}, lr={self.lr}")

    def lr_in_segment(self, i: int, n: int) -> float:
        """Learning rate of step `i` (0-based) of a segment of `n` steps."""
        if i < self.warmup_steps:
            return self.lr * (i + 1) / self.warmup_steps
        if self.kind == "constant":
            return self.lr
        if self.kind == "cosine":
            span = max(1, n - self.warmup_steps)  # the segment's last step reaches min_lr
            progress = min(1.0, (i - self.warmup_steps + 1) / span)
            return self.min_lr + 0.5 * (self.lr - self.min_lr) * (1 + math.cos(math.pi * progress))
        decay_steps = max(1, round(n * self.decay_fraction))  # wsd
        decay_start = n - decay_steps
        if i < decay_start:
            return self.lr
        progress = (i - decay_start + 1) / decay_steps  # the last step reaches min_lr
        return self.lr - (self.lr - self.min_lr) * min(1.0, progress)


def segments(stage_steps: list[int], rewarm: list[bool], total: int | None = None) -> list[tuple[int, int]]:
    """(first step, number of steps) of each schedule segment: a new one starts at every stage after
    the first whose `lr_rewarm` is set. `total` (default: all the stages' steps) cuts the run short;
    the last segment then ends there, so the schedule still decays to min_lr.

    >>> segments([10, 5, 5], [False, True, False])
    [(0, 10), (10, 10)]
    >>> segments([10, 5], [False, False])
    [(0, 15)]
    >>> segments([10, 5, 5], [False, True, False], total=8)
    [(0, 8)]
    """
    starts, first = [0], 0
    for k, steps in enumerate(stage_steps):
        if k > 0 and rewarm[k] and first != starts[-1]:
            starts.append(first)
        first += steps
    total = first if total is None else total
    starts = [s for s in starts if s < total] or [0]
    ends = starts[1:] + [total]
    return [(s, e - s) for s, e in zip(starts, ends)]


def lr_at(step: int, schedule: LRSchedule, segs: list[tuple[int, int]]) -> float:
    """Learning rate of global optimizer step `step` (0-based) for a run cut into `segs`."""
    for start, n in reversed(segs):
        if step >= start:
            return schedule.lr_in_segment(step - start, n)
    raise ValueError(f"step {step} is before the first segment")
