"""Core attention through PyTorch's `scaled_dot_product_attention` (flash on GPU), for megatron-core.

`SDPAttention` takes the place of megatron-core's `DotProductAttention` in the layer spec
(`trainer.model.layer_spec(attention="sdpa")`): same constructor arguments, same forward
(query [sq, b, np, hn], key/value [sk, b, ng, hn] -> context [sq, b, np * hn]), but without the
O(s^2) score matrix in memory. The flash kernel keeps its softmax statistics in FP32.

Masks follow megatron-core's convention (True = masked out). With no mask and a causal mask type
the kernel applies the causal mask itself (`is_causal=True`), which keeps the flash path; an
explicit mask (e.g. per-document masks) goes to SDPA as a boolean "may attend" mask instead.
"""
from __future__ import annotations

import contextlib
import math
from typing import Optional

import torch
import torch.nn.functional as F
from megatron.core import tensor_parallel
from megatron.core.transformer.enums import AttnMaskType
from megatron.core.transformer.module import MegatronModule
from megatron.core.transformer.transformer_config import TransformerConfig
from megatron.core.utils import divide


class SDPAttention(MegatronModule):
    def __init__(
        self,
        config: TransformerConfig,
        layer_number: int,
        attn_mask_type: AttnMaskType,
        attention_type: str,
        attention_dropout: Optional[float] = None,
        softmax_scale: Optional[float] = None,
        cp_comm_type: Optional[str] = None,
        pg_collection=None,
    ):
        super().__init__(config=config)
        if config.context_parallel_size != 1:
            raise ValueError("SDPAttention does not implement context parallelism")
        if config.apply_query_key_layer_scaling:
            raise ValueError("SDPAttention does not implement apply_query_key_layer_scaling")
        if config.softmax_type != "vanilla":
            raise ValueError(f"SDPAttention does not implement softmax_type={config.softmax_type!r}")
        if config.window_size is not None:
            raise ValueError("SDPAttention does not implement sliding-window attention")
        if pg_collection is None:
            from megatron.core.process_groups_config import ProcessGroupCollection

            pg_collection = ProcessGroupCollection.use_mpu_process_groups(required_pgs=["tp"])
        tp_size = pg_collection.tp.size()
        self.layer_number = max(1, layer_number)
        self.attn_mask_type = attn_mask_type
        self.heads_per_partition = divide(config.num_attention_heads, tp_size)
        self.groups_per_partition = divide(config.num_query_groups, tp_size)
        self.softmax_scale = softmax_scale if softmax_scale is not None else 1.0 / math.sqrt(config.kv_channels)
        self.dropout_p = config.attention_dropout if attention_dropout is None else attention_dropout

    def forward(
        self,
        query: torch.Tensor,  # [sq, b, np, hn]
        key: torch.Tensor,  # [sk, b, ng, hn]
        value: torch.Tensor,  # [sk, b, ng, hn]
        attention_mask: Optional[torch.Tensor],  # [b or 1, 1, sq, sk], True = masked out; or None
        attn_mask_type: Optional[AttnMaskType] = None,
        attention_bias: Optional[torch.Tensor] = None,
        packed_seq_params=None,
    ) -> torch.Tensor:
        if attention_bias is not None or packed_seq_params is not None:
            raise NotImplementedError("SDPAttention supports neither attention_bias nor packed sequences")
        mask_type = self.attn_mask_type if attn_mask_type is None else attn_mask_type
        sq, b = query.shape[0], query.shape[1]
        q = query.permute(1, 2, 0, 3)  # (b, np, sq, hn)
        k = key.permute(1, 2, 0, 3)  # (b, ng, sk, hn)
        v = value.permute(1, 2, 0, 3)
        if attention_mask is None:
            if mask_type not in (AttnMaskType.causal, AttnMaskType.no_mask):
                raise ValueError(f"attention mask type {mask_type} needs an attention_mask")
            sdpa_mask, is_causal = None, mask_type == AttnMaskType.causal
        else:
            sdpa_mask, is_causal = ~attention_mask, False  # SDPA: True = may attend
        # GQA: the CUDA flash and math kernels share key/value heads themselves (enable_gqa);
        # elsewhere (CPU, the masked efficient kernel) repeat them per query head.
        repeat = self.heads_per_partition // self.groups_per_partition
        enable_gqa = repeat > 1 and q.is_cuda and sdpa_mask is None
        if repeat > 1 and not enable_gqa:
            k = k.repeat_interleave(repeat, dim=1)
            v = v.repeat_interleave(repeat, dim=1)
        dropout_p = self.dropout_p if self.training else 0.0
        ctx = tensor_parallel.get_cuda_rng_tracker().fork() if dropout_p > 0 else contextlib.nullcontext()
        with ctx:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=sdpa_mask, dropout_p=dropout_p,
                                                 is_causal=is_causal, scale=self.softmax_scale,
                                                 enable_gqa=enable_gqa)  # (b, np, sq, hn)
        return out.permute(2, 0, 1, 3).reshape(sq, b, -1)  # [sq, b, np * hn]

