"""One run per `out`: rank 0 of a training run holds OUT/train.lock (`corpus_tools.storage.exclusive_lock`)
from before anything under `out` is read or written (checkpoints, data cache, metrics) until the run
ends, so a second run with the same `out` (another `ziya train`, another `torchrun -m trainer.train`)
is refused, naming the first, before it touches a checkpoint.

The holder is the trainer's rank-0 process, not the launcher: the lock lives as long as the process
that writes, is removed when it ends (normally or by an exception), and a lock left by a rank 0
killed with -9 is taken over by the next run on that host. `ziya train` also checks the lock before
it starts torchrun (`check_free`), so the usual refusal is one line and starts no process; the
trainer's own acquisition (`hold`) is what excludes two launches that start at the same moment.
"""
from __future__ import annotations

import contextlib

from corpus_tools import storage

LOCK = "train.lock"


def lock_path(out: str) -> str:
    return storage.join(storage.resolve(out), LOCK)


def check_free(out: str) -> None:
    """Raise storage.LockHeld, naming the holder, if a live run holds `out`."""
    storage.check_unlocked(lock_path(out), storage.resolve(out))


@contextlib.contextmanager
def hold(out: str):
    """Rank 0 holds OUT/train.lock while the block runs. Collective: every rank calls it, and when
    another run holds `out` every rank raises the same storage.LockHeld (none waits on the others)."""
    import torch.distributed as dist

    with contextlib.ExitStack() as held:
        refused = [None]
        if dist.get_rank() == 0:
            try:
                held.enter_context(storage.exclusive_lock(lock_path(out), "train", storage.resolve(out)))
            except storage.LockHeld as exc:
                refused = [str(exc)]
        dist.broadcast_object_list(refused, src=0)
        if refused[0] is not None:
            raise storage.LockHeld(refused[0])
        yield
