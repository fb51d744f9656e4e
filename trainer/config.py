"""Typed model configurations for the LLaMA shapes the trainer builds.

A `ModelConfig` holds the architecture only (no parallelism, no precision): `trainer.model` turns it
into a megatron-core `TransformerConfig` + `GPTModel`, and `trainer.flops` counts its FLOPs.

    >>> cfg = get_model_config("llama2-7b")
    >>> cfg.head_dim, cfg.num_query_groups, round(cfg.num_params() / 1e9, 2)
    (128, 32, 6.74)
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelConfig:
    """A LLaMA-style decoder: pre-RMSNorm, RoPE, SwiGLU MLP, grouped-query attention, no biases,
    untied input embedding and output layer."""

    name: str
    num_layers: int
    hidden_size: int
    num_attention_heads: int
    num_query_groups: int  # key/value heads; == num_attention_heads for plain multi-head attention
    ffn_hidden_size: int  # SwiGLU inner size (the gate and up projections each map hidden -> this)
    vocab_size: int = 32000  # LLaMA-2's SentencePiece vocabulary
    seq_length: int = 4096  # LLaMA-2's context
    rotary_base: int = 10000
    norm_eps: float = 1e-5  # LLaMA-2 checkpoints use 1e-5 (LLaMA-1: 1e-6)
    init_method_std: float = 0.02

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(f"{self.name}: hidden_size {self.hidden_size} is not a multiple of "
                             f"num_attention_heads {self.num_attention_heads}")
        if self.num_attention_heads % self.num_query_groups:
            raise ValueError(f"{self.name}: num_attention_heads {self.num_attention_heads} is not a "
                             f"multiple of num_query_groups {self.num_query_groups}")
        if self.head_dim % 2:
            raise ValueError(f"{self.name}: RoPE needs an even head_dim, got {self.head_dim}")
        for field in ("num_layers", "vocab_size", "seq_length", "ffn_hidden_size"):
            if getattr(self, field) <= 0:
                raise ValueError(f"{self.name}: {field} must be positive")

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def replace(self, **changes) -> "ModelConfig":
        """A copy with some fields changed (validated again), e.g. `cfg.replace(seq_length=2048)`."""
        return dataclasses.replace(self, **changes)

    def num_params(self) -> int:
        """Parameter count of the model `trainer.model.build_model` makes (untied embeddings)."""
        h, d = self.hidden_size, self.head_dim
        attn = h * d * (self.num_attention_heads + 2 * self.num_query_groups)  # linear_qkv
        attn += self.num_attention_heads * d * h  # linear_proj
        mlp = 3 * h * self.ffn_hidden_size  # fc1 = [gate; up], fc2 = down
        layer = attn + mlp + 2 * h  # two RMSNorm weights
        return self.num_layers * layer + h + 2 * self.vocab_size * h  # final norm, embedding, output


MODEL_CONFIGS: dict[str, ModelConfig] = {
    c.name: c
    for c in (
        # Tests: small enough to build, run and train a few steps on a CPU in seconds; GQA 4/2.
        ModelConfig("tiny", num_layers=2, hidden_size=64, num_attention_heads=4, num_query_groups=2,
                    ffn_hidden_size=176, vocab_size=1024, seq_length=64),
        # ~1.1B for one GPU: TinyLlama-1.1B's shape (LLaMA-2 layout and 32k vocabulary, GQA 32/4),
        # https://huggingface.co/TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T/blob/main/config.json
        # at LLaMA-2's 4096 context (TinyLlama itself trained at 2048).
        ModelConfig("llama-1b", num_layers=22, hidden_size=2048, num_attention_heads=32,
                    num_query_groups=4, ffn_hidden_size=5632),
        # LLaMA-2 (Touvron et al. 2023, Table 1 + the released config.json files).
        ModelConfig("llama2-7b", num_layers=32, hidden_size=4096, num_attention_heads=32,
                    num_query_groups=32, ffn_hidden_size=11008),
        ModelConfig("llama2-13b", num_layers=40, hidden_size=5120, num_attention_heads=40,
                    num_query_groups=40, ffn_hidden_size=13824),
    )
}


def get_model_config(name: str) -> ModelConfig:
    try:
        return MODEL_CONFIGS[name]
    except KeyError:
        raise ValueError(f"unknown model config {name!r}; known: {', '.join(MODEL_CONFIGS)}") from None
