"""A LLaMA-architecture megatron-core `GPTModel` from a `trainer.config.ModelConfig`.

LLaMA in megatron-core terms: RMSNorm (`normalization="RMSNorm"`), SwiGLU (`gated_linear_unit=True`
with `activation_func=F.silu`), RoPE (`position_embedding_type="rope"`), grouped-query attention
(`num_query_groups`), no biases (`add_bias_linear=False`), untied embeddings
(`share_embeddings_and_output_weights=False`), no dropout.

Precision (`bf16=True`, for GPUs): linear and embedding weights in BF16; every RMSNorm keeps an FP32
weight and normalizes in FP32 (`trainer.norm.FP32RMSNorm`); RoPE's inverse frequencies, angles and
cos/sin are computed in FP32 by megatron-core, which then rotates q and k in the activation dtype
(`_apply_rotary_pos_emb_bshd` casts cos/sin to it; an FP32 rotation would need a patched
SelfAttention); the attention softmax runs in FP32 inside the flash kernel (SDPA) or with
`attention_softmax_in_fp32` (local attention); the loss is computed in FP32 from BF16 logits.

Parallelism is not the model's business: `trainer.parallel.init_distributed` sets up the process
groups before `build_model`, and the model reads its tensor-parallel size from them.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from trainer.config import ModelConfig

ATTENTION_BACKENDS = ("sdpa", "local")


def transformer_config(cfg: ModelConfig, *, device: str = "cuda", bf16: bool = False,
                       tensor_parallel_size: int = 1):
    from megatron.core.transformer.transformer_config import TransformerConfig

    dtype = torch.bfloat16 if bf16 else torch.float32
    return TransformerConfig(
        num_layers=cfg.num_layers,
        hidden_size=cfg.hidden_size,
        num_attention_heads=cfg.num_attention_heads,
        num_query_groups=cfg.num_query_groups,
        kv_channels=cfg.head_dim,
        ffn_hidden_size=cfg.ffn_hidden_size,
        normalization="RMSNorm",
        layernorm_epsilon=cfg.norm_eps,
        gated_linear_unit=True,
        activation_func=F.silu,
        add_bias_linear=False,
        add_qkv_bias=False,
        hidden_dropout=0.0,
        attention_dropout=0.0,
        init_method_std=cfg.init_method_std,
        attention_softmax_in_fp32=True,
        bf16=bf16,
        params_dtype=dtype,
        pipeline_dtype=dtype,
        tensor_model_parallel_size=tensor_parallel_size,
        sequence_parallel=False,  # needs TransformerEngine/apex norms; not available here
        # Build weights directly on the GPU; on CPU there is nowhere else.
        use_cpu_initialization=(device == "cpu"),
    )


def layer_spec(num_layers: int, attention: str = "sdpa"):
    """The block spec: megatron-core's local LLaMA layer with our core attention and FP32 RMSNorms.

    Passing a `TransformerBlockSubmodules` (not a bare layer spec) also sets the final norm; from a
    layer spec megatron-core takes its module-level `LayerNormImpl` for it.
    """
    from megatron.core.models.gpt.gpt_layer_specs import get_gpt_layer_local_spec
    from megatron.core.transformer.transformer_block import TransformerBlockSubmodules

    from trainer.norm import FP32RMSNorm

    if attention not in ATTENTION_BACKENDS:
        raise ValueError(f"attention must be one of {ATTENTION_BACKENDS}, got {attention!r}")
    spec = get_gpt_layer_local_spec(normalization="RMSNorm")  # without it: LayerNorm
    spec.submodules.input_layernorm = FP32RMSNorm
    spec.submodules.pre_mlp_layernorm = FP32RMSNorm
    if attention == "sdpa":
        from trainer.attention import SDPAttention

        spec.submodules.self_attention.submodules.core_attention = SDPAttention
    return TransformerBlockSubmodules(layer_specs=[spec] * num_layers, layer_norm=FP32RMSNorm)


def build_model(cfg: ModelConfig, *, device: str = "cuda", bf16: bool = False, attention: str = "sdpa"):
    """A `GPTModel` on `device`. Call `trainer.parallel.init_distributed(device)` first.

    forward(input_ids [b, s], position_ids [b, s], attention_mask (None = causal), labels=None)
    returns logits [b, s, vocab / tp] or, with labels, the per-token loss [b, s] (FP32).
    """
    from megatron.core import parallel_state
    from megatron.core.models.gpt import GPTModel

    tcfg = transformer_config(cfg, device=device, bf16=bf16,
                              tensor_parallel_size=parallel_state.get_tensor_model_parallel_world_size())
    model = GPTModel(
        config=tcfg,
        transformer_layer_spec=layer_spec(cfg.num_layers, attention),
        vocab_size=cfg.vocab_size,
        max_sequence_length=cfg.seq_length,
        pre_process=True,
        post_process=True,
        parallel_output=True,
        share_embeddings_and_output_weights=False,
        position_embedding_type="rope",
        rotary_percent=1.0,
        rotary_base=cfg.rotary_base,
    )
    return model.to(device)
