"""Process groups: torch.distributed + megatron-core's model-parallel state, set up from outside the model.

Under `torchrun` the rank and world size come from its environment; a plain `python` process is a
world of one. CPU runs use gloo (and activate `trainer.cpu`), GPU runs NCCL.
"""
from __future__ import annotations

import os
import socket


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def init_distributed(device: str = "cuda", tensor_parallel_size: int = 1, seed: int = 1234) -> None:
    """Initialize torch.distributed and megatron-core's parallel state once; seed its RNG tracker."""
    import torch
    import torch.distributed as dist

    if device == "cpu":
        from trainer import cpu

        cpu.activate()
    from megatron.core import parallel_state, tensor_parallel

    if not dist.is_initialized():
        backend = "gloo" if device == "cpu" else "nccl"
        if device == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        if "RANK" in os.environ and "WORLD_SIZE" in os.environ:  # torchrun
            dist.init_process_group(backend)
        else:
            dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{_free_port()}",
                                    rank=0, world_size=1)
    if not parallel_state.model_parallel_is_initialized():
        parallel_state.initialize_model_parallel(tensor_model_parallel_size=tensor_parallel_size)
    torch.manual_seed(seed)
    tensor_parallel.model_parallel_cuda_manual_seed(seed)


def destroy_distributed() -> None:
    import torch.distributed as dist
    from megatron.core import parallel_state

    parallel_state.destroy_model_parallel()
    if dist.is_initialized():
        dist.destroy_process_group()
