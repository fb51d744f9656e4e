"""Model FLOPs per training iteration and MFU, by Megatron-LM's formula.

The count is the one Megatron-LM logs as throughput: `num_floating_point_operations(args, batch_size)`
in `megatron/training/training.py` (its dense GQA/SwiGLU branch), which extends Narayanan et al. 2021,
"Efficient Large-Scale Language Model Training on GPU Clusters Using Megatron-LM"
(https://arxiv.org/abs/2104.04473, Appendix "Floating-point operations"):

- every GEMM runs 3 times per step (forward, backward data gradient, backward weight gradient): 3x;
- an (m x n) @ (n x k) GEMM costs 2mnk FLOPs: 2x;
- per token and layer, the GEMMs are the QKV projection h*(q + 2kv), the output projection q*h,
  the SwiGLU MLP 3*h*ffn (gate, up, down) and the attention scores and values 2 * q * s/2
  (QK^T and softmax(QK^T)V, halved for the causal mask);
- the output layer adds h*V per token.
Here q = heads * head_dim and kv = kv_heads * head_dim. Norms, RoPE, softmax and the loss are not
counted, nor is activation recomputation: this is *model* FLOPs, so MFU = achieved / peak.

    >>> from trainer.config import get_model_config
    >>> round(flops_per_token(get_model_config("llama-1b")) / 1e9, 2)  # GFLOPs per token
    7.31
"""
from __future__ import annotations

from trainer.config import ModelConfig

# Dense BF16 tensor-core peak, TFLOPS (vendor datasheets; no sparsity).
PEAK_TFLOPS_BF16 = {
    "H100 SXM": 989.0,
    "H200": 989.0,
    "A100": 312.0,
}


def flops_per_iteration(cfg: ModelConfig, batch_size: int, seq_length: int | None = None) -> float:
    """FLOPs of one forward + backward pass over `batch_size` sequences of `seq_length` tokens."""
    s = cfg.seq_length if seq_length is None else seq_length
    h, d = cfg.hidden_size, cfg.head_dim
    q = cfg.num_attention_heads * d  # query projection size
    kv = cfg.num_query_groups * d  # key (and value) projection size
    fwd_bwd, fma = 3, 2
    attn = fwd_bwd * fma * (h * (q + 2 * kv)  # qkv projection
                            + q * s / 2 * 2  # QK^T and (QK^T)V, causal half
                            + q * h)  # output projection
    mlp = fwd_bwd * fma * h * cfg.ffn_hidden_size * 3  # SwiGLU: h->2*ffn and ffn->h
    logits = fwd_bwd * fma * h * cfg.vocab_size
    return batch_size * s * (cfg.num_layers * (attn + mlp) + logits)


def flops_per_token(cfg: ModelConfig, seq_length: int | None = None) -> float:
    return flops_per_iteration(cfg, 1, seq_length) / (cfg.seq_length if seq_length is None else seq_length)


def mfu(achieved_tflops: float, peak_tflops: float = PEAK_TFLOPS_BF16["H100 SXM"]) -> float:
    """Model FLOPs utilization: achieved model TFLOPS per GPU over the GPU's dense peak."""
    return achieved_tflops / peak_tflops


def peak_tflops_for(device_name: str) -> float | None:
    """Dense BF16 peak for a `torch.cuda.get_device_name()` string, or None if unknown."""
    name = device_name.upper()
    if "H200" in name:
        return PEAK_TFLOPS_BF16["H200"]
    if "H100" in name:  # SXM; the PCIe card (756) reports "H100 PCIe"
        return 756.0 if "PCIE" in name else PEAK_TFLOPS_BF16["H100 SXM"]
    if "A100" in name:
        return PEAK_TFLOPS_BF16["A100"]
    return None
