"""RMSNorm computed in FP32 whatever the activation dtype (Ziya2 keeps RMSNorm in higher precision).

Used for every norm of the model (`input_layernorm`, `pre_mlp_layernorm`, `final_layernorm`) in place of
megatron-core's `WrappedTorchNorm` (a `torch.nn.RMSNorm` in the parameter dtype). The weight stays FP32
when the rest of the model is BF16; the output is cast back to the input's dtype. Same parameter name
(`weight`) as `torch.nn.RMSNorm`, so state dicts and checkpoints are interchangeable.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


class FP32RMSNorm(torch.nn.Module):
    def __init__(self, config, hidden_size: int, eps: float = 1e-5, **unused):
        super().__init__()
        if config.sequence_parallel:
            raise ValueError("FP32RMSNorm: sequence parallelism is not supported")
        device = "cpu" if config.use_cpu_initialization else torch.cuda.current_device()
        self.eps = eps
        self.weight = torch.nn.Parameter(torch.ones(hidden_size, dtype=torch.float32, device=device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.rms_norm(x.float(), self.weight.shape, self.weight, self.eps).to(x.dtype)
