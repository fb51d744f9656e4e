"""Checkpoints: DIR/step-NNNNNNN/ holds
- model/: megatron-core `dist_checkpointing` (sharded; reshards across TP sizes),
- optimizer/tp-rank-NNN.pt: per tensor-parallel rank, `{"optimizer": AdamW.state_dict(), "master":
  [FP32 master weights]}` via torch.save ("master" is empty for an FP32 model), written by data-parallel
  rank 0 (DP replicas hold identical states). Plain AdamW keys its state by parameter index and holds
  this TP rank's shard of each moment, so a run resumes at the same TP size only, at any DP size;
  megatron's sharded optimizer state is built for its own DistributedOptimizer stack, which needs CUDA.
- state.json: the step, the data position (stage index, samples consumed in the stage), the loss
  guard's state and the run's config.
It is written into DIR/step-NNNNNNN.tmp and renamed when complete; DIR/latest (the name of the newest
complete checkpoint) is then replaced atomically. A save killed half-way leaves only a .tmp directory,
which the next save of that step overwrites and a resume never reads.

A checkpoint without optimizer/ (e.g. an HF import, `trainer.hf`) can seed a run's weights
(`load_model_weights`, the config's `checkpoint.init_from`).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Optional

import torch


def step_name(step: int) -> str:
    return f"step-{step:07d}"


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_checkpoint(root: str, step: int, state: dict, model, opt, master=None) -> Path:
    """Write DIR/step-N atomically (see the module docstring) and point DIR/latest at it. `state` is
    the JSON-able run state (step, data position, ...); collective: every rank calls it."""
    from megatron.core import dist_checkpointing, parallel_state

    rank = torch.distributed.get_rank()
    root_path = Path(root)
    final, tmp = root_path / step_name(step), root_path / (step_name(step) + ".tmp")
    if rank == 0:
        shutil.rmtree(tmp, ignore_errors=True)  # left by a killed save
        (tmp / "model").mkdir(parents=True)
        (tmp / "optimizer").mkdir()
    torch.distributed.barrier()
    dist_checkpointing.save(model.sharded_state_dict(), str(tmp / "model"))
    if parallel_state.get_data_parallel_rank() == 0:
        torch.save({"optimizer": opt.state_dict(), "master": master.state_dict() if master else []},
                   optimizer_file(tmp))
    if rank == 0:
        write_atomically(tmp / "state.json", json.dumps({"step": step, **state}, indent=2))
    torch.distributed.barrier()  # every rank's files are in place
    if rank == 0:
        if final.exists():  # the same step saved before (e.g. a rerun): replace it
            shutil.rmtree(final)
        os.rename(tmp, final)
        write_atomically(root_path / "latest", final.name + "\n")
    torch.distributed.barrier()
    return final


def optimizer_file(checkpoint: Path) -> Path:
    """This process's optimizer file: the one of its tensor-parallel rank."""
    from megatron.core import parallel_state

    return checkpoint / "optimizer" / f"tp-rank-{parallel_state.get_tensor_model_parallel_rank():03d}.pt"


def latest_checkpoint(root: str) -> Optional[Path]:
    """The checkpoint DIR/latest names; `root` itself if it is a checkpoint; else the highest complete
    DIR/step-N (a directory written without a `latest` pointer); None if there is none."""
    root_path = Path(root)
    if (root_path / "state.json").exists():
        return root_path
    pointer = root_path / "latest"
    if pointer.exists():
        return root_path / pointer.read_text().strip()
    steps = sorted(p for p in root_path.glob("step-*") if not p.name.endswith(".tmp")
                   and (p / "state.json").exists()) if root_path.is_dir() else []
    return steps[-1] if steps else None


def load_model_weights(path: Path, model) -> None:
    """Model parameters from a checkpoint's model/ (any TP size it was saved at)."""
    from megatron.core import dist_checkpointing

    model.load_state_dict(dist_checkpointing.load(model.sharded_state_dict(), str(path / "model")))


def load_checkpoint(path: Path, model, opt, master=None) -> dict:
    """Load model, optimizer and master weights in place; return the saved run state."""
    state = json.loads((path / "state.json").read_text())
    load_model_weights(path, model)
    opt_file = optimizer_file(path)
    if not opt_file.exists():
        tp = state.get("config", {}).get("parallel", {}).get("tp", "?")
        raise FileNotFoundError(f"{opt_file}: optimizer state is saved per TP rank; resume at the TP "
                                f"size it was saved with (tp={tp}), or use the checkpoint as init_from")
    saved = torch.load(opt_file, weights_only=True, map_location="cpu")  # saved by another GPU perhaps
    opt.load_state_dict(saved["optimizer"])
    if master is not None and saved["master"]:
        master.load_state_dict(saved["master"])
    elif master is not None:  # saved from an FP32 model: the loaded parameters are the master weights
        master.sync_from_model()
    return state
