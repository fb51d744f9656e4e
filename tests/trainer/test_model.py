"""The tiny LLaMA model on CPU: architecture, shapes, precision, and that it learns."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.usefixtures("mcore_cpu"),
    # megatron-core's own notices: no Apex/TE (expected here), deprecations inside megatron-core
    pytest.mark.filterwarnings("ignore::UserWarning:megatron"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:megatron"),
]


def build(cfg, **kw):
    from trainer.model import build_model

    torch.manual_seed(0)
    return build_model(cfg, device="cpu", **kw)


def batch(cfg, b=2, s=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, cfg.vocab_size, (b, s + 1), generator=g)
    pos = torch.arange(s).expand(b, s)
    return ids[:, :-1], pos, ids[:, 1:]


def test_tiny_model_has_llama_architecture(tiny_cfg):
    from trainer.attention import SDPAttention
    from trainer.norm import FP32RMSNorm

    cfg = tiny_cfg
    model = build(cfg)
    norms = [m for m in model.modules() if isinstance(m, FP32RMSNorm)]
    assert len(norms) == 2 * cfg.num_layers + 1  # two per layer + the final norm
    assert not any(isinstance(m, torch.nn.LayerNorm) for m in model.modules())
    assert not [n for n, _ in model.named_parameters() if "bias" in n]
    assert sum(p.numel() for p in model.parameters()) == cfg.num_params()

    layer = model.decoder.layers[0]
    d, h = cfg.head_dim, cfg.hidden_size
    # GQA: [q heads; k; v] = (4 + 2 + 2) heads of 16 for 4 query heads sharing 2 key/value heads
    assert layer.self_attention.linear_qkv.weight.shape == ((cfg.num_attention_heads + 2 * cfg.num_query_groups) * d, h)
    assert layer.self_attention.linear_proj.weight.shape == (h, cfg.num_attention_heads * d)
    assert layer.mlp.linear_fc1.weight.shape == (2 * cfg.ffn_hidden_size, h)  # SwiGLU: [gate; up]
    assert layer.mlp.linear_fc2.weight.shape == (h, cfg.ffn_hidden_size)
    assert isinstance(layer.self_attention.core_attention, SDPAttention)
    assert model.config.gated_linear_unit and model.config.activation_func is torch.nn.functional.silu
    assert model.position_embedding_type == "rope"

    emb, out = model.embedding.word_embeddings.weight, model.output_layer.weight
    assert emb.shape == out.shape == (cfg.vocab_size, h)
    assert emb.data_ptr() != out.data_ptr()  # untied


def test_forward_gives_logits_per_token(tiny_cfg):
    model = build(tiny_cfg)
    ids, pos, labels = batch(tiny_cfg, b=3, s=16)
    logits = model(ids, pos, None)
    assert logits.shape == (3, 16, tiny_cfg.vocab_size)
    loss = model(ids, pos, None, labels=labels)
    assert loss.shape == (3, 16) and loss.dtype == torch.float32
    # an untrained model is close to uniform over the vocabulary
    assert abs(loss.mean().item() - torch.log(torch.tensor(float(tiny_cfg.vocab_size))).item()) < 0.5


def test_adamw_steps_reduce_the_loss(tiny_cfg):
    model = build(tiny_cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    ids, pos, labels = batch(tiny_cfg)
    losses = []
    for _ in range(8):
        loss = model(ids, pos, None, labels=labels).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 1.0, losses
    assert all(b < a for a, b in zip(losses, losses[1:])), losses


def test_bf16_model_keeps_norms_in_fp32(tiny_cfg):
    from trainer.norm import FP32RMSNorm

    model = build(tiny_cfg, bf16=True)
    norms = [m for m in model.modules() if isinstance(m, FP32RMSNorm)]
    assert all(n.weight.dtype == torch.float32 for n in norms)
    assert model.decoder.layers[0].self_attention.linear_qkv.weight.dtype == torch.bfloat16
    assert model.output_layer.weight.dtype == torch.bfloat16
    ids, pos, labels = batch(tiny_cfg, s=8)
    assert model(ids, pos, None).dtype == torch.bfloat16
    x = torch.randn(4, tiny_cfg.hidden_size, dtype=torch.bfloat16)
    assert norms[0](x).dtype == torch.bfloat16


def test_sdpa_and_local_attention_models_agree(tiny_cfg):
    local = build(tiny_cfg, attention="local")
    sdpa = build(tiny_cfg, attention="sdpa")
    sdpa.load_state_dict(local.state_dict())  # core attention has no parameters: same keys
    ids, pos, _ = batch(tiny_cfg)
    with torch.no_grad():
        torch.testing.assert_close(sdpa(ids, pos, None), local(ids, pos, None), atol=1e-5, rtol=0)
