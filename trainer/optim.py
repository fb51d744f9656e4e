"""Gradient plumbing around a plain `torch.optim.AdamW`: data-parallel all-reduce, TP-aware clipping,
and FP32 master weights for BF16 models.

Why not megatron-core's `DistributedDataParallel` + `get_megatron_optimizer`: that stack allocates its
grad buffers with device='cuda' and its clipping asserts CUDA tensors, so it cannot run the CPU tests,
and a loop with two code paths would be tested on one. Instead:
- `allreduce_gradients` averages gradients over the data-parallel group with one flat all-reduce per
  dtype (gloo on CPU, NCCL on GPU) after the last micro batch (no overlap with the backward pass;
  fine for one node of a few GPUs, the first thing to revisit at scale);
- `MasterWeights` keeps an FP32 copy of every BF16 parameter: the optimizer updates the copies and
  they are cast back into the model, so small updates are not lost to BF16 rounding (mixed-precision
  training as in Micikevicius et al. 2018; BF16 needs no loss scaling). For an FP32 model the
  "master" parameters are the model's own and every method is a no-op.
"""
from __future__ import annotations

import math

import torch


def allreduce_gradients(params: list[torch.nn.Parameter], group) -> None:
    """Sum each gradient over `group` (the caller has already divided the loss by the global token
    count, so the sum is the global-batch gradient)."""
    if torch.distributed.get_world_size(group) == 1:
        return
    by_dtype: dict[torch.dtype, list[torch.Tensor]] = {}
    for p in params:
        if p.grad is not None:
            by_dtype.setdefault(p.grad.dtype, []).append(p.grad)
    for grads in by_dtype.values():
        flat = torch._utils._flatten_dense_tensors(grads)
        torch.distributed.all_reduce(flat, group=group)
        for g, reduced in zip(grads, torch._utils._unflatten_dense_tensors(flat, grads)):
            g.copy_(reduced)


def clip_grad_norm_(params: list[torch.nn.Parameter], max_norm: float) -> float:
    """Clip gradients by their global norm across the tensor-parallel group; return the norm before
    clipping. A TP-sharded parameter contributes its shard from each rank; a replicated one (the
    RMSNorm weights) has the same gradient on every rank and is counted once. Call after the
    data-parallel all-reduce: then every DP replica computes the same norm."""
    from megatron.core import parallel_state

    with_grad = [p for p in params if p.grad is not None]
    sharded = [p.grad for p in with_grad if getattr(p, "tensor_model_parallel", False)]
    replicated = [p.grad for p in with_grad if not getattr(p, "tensor_model_parallel", False)]
    device = with_grad[0].grad.device if with_grad else "cpu"
    sq_sharded = sum((g.float().pow(2).sum() for g in sharded), torch.zeros((), device=device))
    torch.distributed.all_reduce(sq_sharded, group=parallel_state.get_tensor_model_parallel_group())
    sq_replicated = sum((g.float().pow(2).sum() for g in replicated), torch.zeros((), device=device))
    total = math.sqrt((sq_sharded + sq_replicated).item())
    if max_norm > 0 and total > max_norm:  # False for NaN: a non-finite step is skipped, not clipped
        scale = max_norm / (total + 1e-6)
        for p in with_grad:
            p.grad.mul_(scale)
    return total


class MasterWeights:
    def __init__(self, model_params: list[torch.nn.Parameter]):
        self.model_params = list(model_params)
        self.params = [self._master_of(p) for p in self.model_params]  # what the optimizer updates

    @staticmethod
    def _master_of(p: torch.nn.Parameter) -> torch.nn.Parameter:
        if p.dtype == torch.float32:
            return p
        master = torch.nn.Parameter(p.detach().float().clone())
        for attr in ("tensor_model_parallel", "partition_dim", "partition_stride"):  # clipping reads these
            if hasattr(p, attr):
                setattr(master, attr, getattr(p, attr))
        return master

    def distinct(self) -> bool:
        return any(m is not p for m, p in zip(self.params, self.model_params))

    def grads_to_master(self) -> None:
        for m, p in zip(self.params, self.model_params):
            if m is not p:
                m.grad = None if p.grad is None else p.grad.float()

    def master_to_model(self) -> None:
        with torch.no_grad():
            for m, p in zip(self.params, self.model_params):
                if m is not p:
                    p.copy_(m)

    def sync_from_model(self) -> None:
        with torch.no_grad():
            for m, p in zip(self.params, self.model_params):
                if m is not p:
                    m.copy_(p.float())

    def zero_grad(self) -> None:
        for m, p in zip(self.params, self.model_params):
            p.grad = None
            m.grad = None

    def state_dict(self) -> list[torch.Tensor]:
        return [m.detach() for m, p in zip(self.params, self.model_params) if m is not p]

    def load_state_dict(self, tensors: list[torch.Tensor]) -> None:
        masters = [m for m, p in zip(self.params, self.model_params) if m is not p]
        if len(tensors) != len(masters):
            raise ValueError(f"checkpoint holds {len(tensors)} master weights, the model {len(masters)}")
        with torch.no_grad():
            for m, t in zip(masters, tensors):
                m.copy_(t)
        self.master_to_model()


def build_optimizer(master: MasterWeights, cfg) -> torch.optim.AdamW:
    """AdamW over the master parameters; the learning rate is set every step from the schedule."""
    on_gpu = master.params[0].is_cuda
    return torch.optim.AdamW(master.params, lr=0.0, betas=(cfg.beta1, cfg.beta2),
                             weight_decay=cfg.weight_decay, fused=on_gpu or None)  # one kernel on GPU
