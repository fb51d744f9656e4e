"""Which optimizer updates to skip: a non-finite loss or gradient norm, or a loss spike.

The loss and the gradient norm it sees are the same on every rank (both are reduced over the
data-parallel group, and every tensor-parallel rank computes the full loss), so every rank takes the
same decision without another collective. Its state (the recent accepted losses, the counters) is
saved in checkpoints, so a resumed run decides exactly as the uninterrupted one.

    >>> g = LossGuard(spike_factor=2.0, window=3)
    >>> [g.check(x, 1.0) for x in (5.0, 4.0, 3.0, 9.0, float("nan"), 3.5)]
    [None, None, None, 'loss_spike', 'nonfinite', None]
    >>> g.skipped
    {'loss_spike': 1, 'nonfinite': 1}
"""
from __future__ import annotations

import math
from collections import deque
from typing import Optional


class LossGuard:
    def __init__(self, spike_factor: float = 3.0, window: int = 20):
        self.spike_factor, self.window = spike_factor, window
        self.recent: deque[float] = deque(maxlen=window)  # losses of accepted steps
        self.skipped: dict[str, int] = {}

    def check(self, loss: float, grad_norm: float) -> Optional[str]:
        """None to apply this step's update, else the reason to skip it (counted)."""
        reason = None
        if not (math.isfinite(loss) and math.isfinite(grad_norm)):
            reason = "nonfinite"
        elif (self.spike_factor > 0 and len(self.recent) == self.window
              and loss > self.spike_factor * sum(self.recent) / self.window):
            reason = "loss_spike"
        if reason is None:
            self.recent.append(loss)
        else:
            self.skipped[reason] = self.skipped.get(reason, 0) + 1
        return reason

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def state_dict(self) -> dict:
        return {"recent": list(self.recent), "skipped": dict(self.skipped)}

    def load_state_dict(self, state: dict) -> None:
        self.recent = deque(state["recent"], maxlen=self.window)
        self.skipped = dict(state["skipped"])
