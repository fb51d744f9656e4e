"""`ziya train`: check the config, then launch `torchrun ... -m trainer.train` with it.

One node (the default): `torchrun --standalone --nproc-per-node N`. Several nodes: run the same
command on every node with --nnodes, --node-rank and --master-addr (node 0's address, reachable from
the others) and the same --master-port; the shards, the blends file and `out` must be on a file system
every node sees (or at the same paths on each). torchrun's own options beyond these can be used by
calling it directly: `torchrun [options] -m trainer.train --config FILE [--set KEY=VALUE ...]`.

One run per `out`: the trainer's rank 0 holds OUT/train.lock for the whole run (`trainer.run_lock`).
This launcher only checks it first, on node 0, so a second `ziya train` into a busy `out` is refused
with one line before any process starts.
"""
from __future__ import annotations

import subprocess
import sys
from typing import Optional


def torchrun_command(config: str, overrides: list[str], nproc: int = 1, nnodes: int = 1, node_rank: int = 0,
                     master_addr: Optional[str] = None, master_port: int = 29500) -> list[str]:
    """The launch command (torch.distributed.run is torchrun, run with this interpreter)."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(nproc)]
    if nnodes == 1:
        cmd.append("--standalone")  # a local rendezvous on a free port
    else:
        if not master_addr:
            raise ValueError("--master-addr is required with --nnodes > 1")
        cmd += ["--nnodes", str(nnodes), "--node-rank", str(node_rank),
                "--master-addr", master_addr, "--master-port", str(master_port)]
    cmd += ["-m", "trainer.train", "--config", config]
    for item in overrides:
        cmd += ["--set", item]
    return cmd


def check(config: str, overrides: list[str], world_size: int, node_rank: int = 0) -> None:
    """Fail before starting any process on a bad config, a missing blends file or shard, a world
    size that does not fit the parallel layout, or (on node 0) an `out` another run holds."""
    from trainer.data import Blends
    from trainer.run_config import load_run_config
    from trainer.run_lock import check_free

    cfg = load_run_config(config, overrides)
    Blends.read(cfg.data.blends)
    tp = cfg.parallel.tp
    if world_size % tp:
        raise ValueError(f"world size {world_size} is not a multiple of parallel.tp={tp}")
    dp = world_size // tp
    if cfg.data.global_batch_size % (cfg.data.micro_batch_size * dp):
        raise ValueError(f"data.global_batch_size {cfg.data.global_batch_size} is not a multiple of "
                         f"micro_batch_size {cfg.data.micro_batch_size} x dp {dp}")
    if node_rank == 0:  # where rank 0 runs: other nodes would see their own run's lock
        check_free(cfg.out)


def run(config: str, overrides: list[str], nproc: int = 1, nnodes: int = 1, node_rank: int = 0,
        master_addr: Optional[str] = None, master_port: int = 29500) -> int:
    check(config, overrides, nproc * nnodes, node_rank)
    cmd = torchrun_command(config, overrides, nproc, nnodes, node_rank, master_addr, master_port)
    print("+ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd).returncode
