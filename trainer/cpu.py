"""The CPU shim: lets megatron-core run on a machine without CUDA (tests, CPU smoke runs).

megatron-core 0.16 assumes CUDA in a few places that a CPU-only run reaches. `activate()` redirects
exactly those, and only CPU runs call it (`trainer.parallel.init_distributed(device="cpu")`); a GPU
run never imports this module. It changes process-wide state, so a process that activates it is a
CPU process from then on.

What it redirects, and where megatron-core needs it:
- `torch.cuda.current_device()` -> "cpu": buffers such as RoPE's `inv_freq` in `RotaryEmbedding.get_emb`
  and the global memory buffer `DotProductAttention` takes its score matrix from are placed with it.
- The CUDA RNG tracker -> one on the CPU generator: `model_parallel_cuda_manual_seed` and
  `CudaRNGStatesTracker.add/fork` use the CUDA RNG, and `DotProductAttention.forward` enters `fork()`
  even with dropout 0.
- `get_default_causal_mask` (used when attention_mask is None) hard-codes `device="cuda"`.
- `torch.cuda.synchronize()` (called by `dist_checkpointing` saves) -> no-op.
"""
from __future__ import annotations

import contextlib

import torch

_active = False


def is_active() -> bool:
    return _active


def activate() -> None:
    """Idempotent. Call before building any megatron-core model or seeding its RNG tracker."""
    global _active
    if _active:
        return
    from megatron.core.fusions import fused_softmax
    from megatron.core.tensor_parallel import random as mcore_random
    from megatron.core.transformer import utils as transformer_utils

    torch.cuda.current_device = lambda: "cpu"
    torch.cuda.synchronize = lambda device=None: None

    def causal_mask_on_cpu(sq: int) -> torch.Tensor:
        return torch.triu(torch.ones(sq, sq, dtype=torch.bool), diagonal=1)  # True = masked out

    transformer_utils.get_default_causal_mask = causal_mask_on_cpu
    if hasattr(fused_softmax, "get_default_causal_mask"):  # imported by name there
        fused_softmax.get_default_causal_mask = causal_mask_on_cpu

    mcore_random._CUDA_RNG_STATE_TRACKER = _cpu_rng_tracker_class(mcore_random)()
    mcore_random._CUDA_RNG_STATE_TRACKER_INITIALIZED = True
    _active = True


def _cpu_rng_tracker_class(mcore_random):
    class CpuRNGStatesTracker(mcore_random.CudaRNGStatesTracker):
        """`CudaRNGStatesTracker` with its named states kept as CPU generator states."""

        def add(self, name, seed):
            self._is_initialized = True
            if seed in self.seeds_:
                raise Exception(f"seed {seed} already exists")
            if name in self.states_:
                raise Exception(f"rng state {name} already exists")
            self.seeds_.add(seed)
            self.states_[name] = torch.Generator().manual_seed(seed).get_state()

        @contextlib.contextmanager
        def fork(self, name=mcore_random._MODEL_PARALLEL_RNG_TRACKER_NAME):
            if name not in self.states_:
                raise Exception(f"rng state {name} is not added")
            outer = torch.get_rng_state()
            torch.set_rng_state(self.states_[name])
            try:
                yield
            finally:
                self.states_[name] = torch.get_rng_state()
                torch.set_rng_state(outer)

    return CpuRNGStatesTracker
