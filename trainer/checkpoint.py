"""Checkpoints: DIR/step-NNNNNNN/ holds
- model/: megatron-core `dist_checkpointing` (sharded; reshards across TP sizes),
- optimizer/: `dist_checkpointing` too: AdamW's moments and the FP32 master weights (BF16 models),
  each a ShardedTensor cut like its parameter and named after it (`optimizer.state.exp_avg.<key>`,
  megatron-core's own scheme for its optimizers), plus the step, which every parameter shares. So the
  optimizer reshards like the model: a run resumes at any TP and DP size (tested TP 1 <-> 2).
- state.json: the step, the data position (stage index, samples consumed in the stage), the loss
  guard's state and the run's config.
It is written into DIR/step-NNNNNNN.tmp and renamed when complete; DIR/latest (the name of the newest
complete checkpoint) is then replaced atomically. A save killed half-way leaves only a .tmp directory,
which the next save of that step overwrites and a resume never reads. The .tmp name is fixed, not
unique per attempt: that is safe because a run holds OUT/train.lock throughout (`trainer.run_lock`),
so one run at a time writes DIR.

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

from corpus_tools.storage import write_atomically


def step_name(step: int) -> str:
    return f"step-{step:07d}"


def save_checkpoint(root: str, step: int, state: dict, model, opt, master) -> Path:
    """Write DIR/step-N atomically (see the module docstring) and point DIR/latest at it. `state` is
    the JSON-able run state (step, data position, ...); collective: every rank calls it. The caller
    holds the run's lock (`trainer.run_lock.hold`, as `trainer.train` does): DIR/step-N.tmp is a fixed
    name, safe only with one writer of DIR."""
    from megatron.core import dist_checkpointing

    rank = torch.distributed.get_rank()
    root_path = Path(root)
    final, tmp = root_path / step_name(step), root_path / (step_name(step) + ".tmp")
    if rank == 0:
        shutil.rmtree(tmp, ignore_errors=True)  # left by a killed save
        (tmp / "model").mkdir(parents=True)
        (tmp / "optimizer").mkdir()
    torch.distributed.barrier()
    dist_checkpointing.save(model.sharded_state_dict(), str(tmp / "model"))
    # a fresh model dict: saving rewrites the one it is given (its tensors are no longer the parameters)
    dist_checkpointing.save(optimizer_sharded_state_dict(model.sharded_state_dict(), opt, master), str(tmp / "optimizer"))
    if rank == 0:
        write_atomically(str(tmp / "state.json"), json.dumps({"step": step, **state}, indent=2))
    torch.distributed.barrier()  # every rank's files are in place
    if rank == 0:
        if final.exists():  # the same step saved before (e.g. a rerun): replace it
            shutil.rmtree(final)
        os.rename(tmp, final)
        write_atomically(str(root_path / "latest"), final.name + "\n")
    torch.distributed.barrier()
    return final


MASTER_PREFIX = "optimizer.state.fp32_param"


def optimizer_sharded_state_dict(model_sharded: dict, opt, master, masters: bool = True) -> dict:
    """AdamW's state and the master weights as ShardedTensors named and cut like the model's
    parameters (`model_sharded`), so dist_checkpointing reshards them to any TP size. The per-parameter
    step is the same for every parameter (each update steps them all) and is saved once."""
    from megatron.core.dist_checkpointing.optimizer import (
        get_param_id_to_sharded_param_map,
        make_sharded_optimizer_tensor,
        optim_state_to_sharding_state,
    )

    by_index = get_param_id_to_sharded_param_map(model_sharded, master.model_params)  # = AdamW's param ids
    optimizer = opt.state_dict()
    optimizer["state"] = {i: dict(s) for i, s in optimizer["state"].items()}  # not the live state's dicts
    steps = {float(s.pop("step")) for s in optimizer["state"].values()}
    if len(steps) > 1:
        raise RuntimeError(f"AdamW's parameters are at different steps {sorted(steps)}: not this loop's state")
    optim_state_to_sharding_state(optimizer, by_index)
    optimizer["state"]["common_step"] = steps.pop() if steps else 0.0
    fp32 = {i: make_sharded_optimizer_tensor(by_index[i], m, prefix=MASTER_PREFIX)
            for i, (m, p) in enumerate(zip(master.params, master.model_params)) if m is not p and masters}
    return {"optimizer": optimizer, "fp32_param": fp32}


def _zero_adam_state(opt) -> None:
    """AdamW's state before its first step is empty; loading needs tensors of the right shapes."""
    for group in opt.param_groups:
        for p in group["params"]:
            if not opt.state[p]:
                opt.state[p] = {"step": torch.tensor(0.0), "exp_avg": torch.zeros_like(p),
                                "exp_avg_sq": torch.zeros_like(p)}


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


def load_checkpoint(path: Path, model, opt, master) -> dict:
    """Load model, optimizer and master weights in place (from a checkpoint saved at any TP and DP
    size); return the saved run state."""
    from megatron.core import dist_checkpointing

    state = json.loads((path / "state.json").read_text())
    load_model_weights(path, model)
    if not (path / "optimizer" / "metadata.json").exists():
        raise FileNotFoundError(f"{path / 'optimizer'}: no optimizer state saved by dist_checkpointing here "
                                "(written by an older version, or a weights-only checkpoint): use it as "
                                "checkpoint.init_from")
    saved_keys = dist_checkpointing.load_tensors_metadata(str(path / "optimizer")).keys()
    with_masters = any(k.startswith(MASTER_PREFIX) for k in saved_keys)  # none from an FP32 model
    _zero_adam_state(opt)
    template = optimizer_sharded_state_dict(model.sharded_state_dict(), opt, master, masters=with_masters)
    loaded = dist_checkpointing.load(template, str(path / "optimizer"))
    optimizer = loaded["optimizer"]
    step = optimizer["state"].pop("common_step")
    for moments in optimizer["state"].values():
        moments["step"] = torch.tensor(float(step))
    # this run's hyperparameters (lr is set every step; betas, weight decay and fused from its config)
    opt.load_state_dict({"state": optimizer["state"], "param_groups": opt.state_dict()["param_groups"]})
    with torch.no_grad():
        for i, tensor in loaded["fp32_param"].items():
            master.params[i].copy_(tensor)
    if with_masters:
        master.master_to_model()
    else:  # saved from an FP32 model (or none distinct): the loaded parameters are the master weights
        master.sync_from_model()
    return state
