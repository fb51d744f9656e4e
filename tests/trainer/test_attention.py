"""SDPAttention against megatron-core's local DotProductAttention on CPU (causal, GQA)."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.usefixtures("mcore_cpu"),
    # megatron-core's own notices: no Apex/TE (expected here), deprecations inside megatron-core
    pytest.mark.filterwarnings("ignore::UserWarning:megatron"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:megatron"),
]


def core_attentions(cfg):
    from megatron.core.transformer.dot_product_attention import DotProductAttention
    from megatron.core.transformer.enums import AttnMaskType

    from trainer.attention import SDPAttention
    from trainer.model import transformer_config

    tcfg = transformer_config(cfg, device="cpu")
    kw = dict(config=tcfg, layer_number=1, attn_mask_type=AttnMaskType.causal, attention_type="self")
    return DotProductAttention(**kw), SDPAttention(**kw)


def qkv(cfg, s=24, b=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    d = cfg.head_dim
    q = torch.randn(s, b, cfg.num_attention_heads, d, generator=g)  # [sq, b, np, hn]
    k = torch.randn(s, b, cfg.num_query_groups, d, generator=g)  # [sk, b, ng, hn]
    v = torch.randn(s, b, cfg.num_query_groups, d, generator=g)
    return q, k, v


@pytest.mark.parametrize("explicit_mask", [False, True])
def test_sdpa_matches_local_attention_causal_gqa(tiny_cfg, explicit_mask):
    local, sdpa = core_attentions(tiny_cfg)
    q, k, v = qkv(tiny_cfg)
    s = q.shape[0]
    mask = torch.triu(torch.ones(1, 1, s, s, dtype=torch.bool), diagonal=1) if explicit_mask else None
    expected = local(q, k, v, mask)
    got = sdpa(q, k, v, mask)
    assert got.shape == expected.shape == (s, q.shape[1], tiny_cfg.num_attention_heads * tiny_cfg.head_dim)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_sdpa_attention_is_causal(tiny_cfg):
    _, sdpa = core_attentions(tiny_cfg)
    q, k, v = qkv(tiny_cfg)
    out = sdpa(q, k, v, None)
    k2, v2 = k.clone(), v.clone()
    k2[-1] += 1.0
    v2[-1] += 1.0  # changing the last position must not change any earlier output
    out2 = sdpa(q, k2, v2, None)
    torch.testing.assert_close(out2[:-1], out[:-1])
    assert not torch.allclose(out2[-1], out[-1])
