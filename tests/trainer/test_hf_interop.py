"""HF LLaMA <-> megatron-core: configs, pure tensor round trips at TP=1/2/4, and parity with
transformers' LlamaForCausalLM (logits within 1e-4 at TP=1 and TP=2, files bit-exact after
HF -> megatron checkpoint -> HF)."""
from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytestmark = [  # megatron-core's own notices: no Apex/TE (expected here), deprecations inside it
    pytest.mark.filterwarnings("ignore::UserWarning:megatron"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:megatron"),
    # torch.distributed.checkpoint's, reached through dist_checkpointing's load
    pytest.mark.filterwarnings("ignore:Please use DTensor instead:FutureWarning"),
    pytest.mark.filterwarnings("ignore:`load_state_dict` is deprecated:FutureWarning"),
]

from trainer.config import ModelConfig  # noqa: E402
from trainer.hf import (  # noqa: E402
    ConversionError,
    hf_config_to_model_config,
    hf_state_to_megatron,
    megatron_state_to_hf,
    model_config_to_hf_config,
)

# GQA 8 query heads / 4 key-value groups so TP=4 still holds whole groups; a vocabulary of 1001
# (divisible by none of 2, 4) padded to 1024.
CFG = ModelConfig("rt", num_layers=2, hidden_size=64, num_attention_heads=8, num_query_groups=4,
                  ffn_hidden_size=96, vocab_size=1024)
HF_VOCAB = 1001


def random_hf_state(cfg: ModelConfig, vocab: int, dtype=torch.bfloat16, seed=0) -> dict:
    g = torch.Generator().manual_seed(seed)
    h, d, f = cfg.hidden_size, cfg.head_dim, cfg.ffn_hidden_size

    def t(*shape):
        return torch.randn(*shape, generator=g).to(dtype)

    state = {"model.embed_tokens.weight": t(vocab, h), "model.norm.weight": t(h), "lm_head.weight": t(vocab, h)}
    for i in range(cfg.num_layers):
        a = f"model.layers.{i}."
        state |= {a + "self_attn.q_proj.weight": t(cfg.num_attention_heads * d, h),
                  a + "self_attn.k_proj.weight": t(cfg.num_query_groups * d, h),
                  a + "self_attn.v_proj.weight": t(cfg.num_query_groups * d, h),
                  a + "self_attn.o_proj.weight": t(h, cfg.num_attention_heads * d),
                  a + "mlp.gate_proj.weight": t(f, h), a + "mlp.up_proj.weight": t(f, h),
                  a + "mlp.down_proj.weight": t(h, f),
                  a + "input_layernorm.weight": t(h), a + "post_attention_layernorm.weight": t(h)}
    return state


# --- pure tensors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("tp", [1, 2, 4])
def test_round_trip_is_bit_exact_at_any_tp(tp):
    hf = random_hf_state(CFG, HF_VOCAB)
    shards = [hf_state_to_megatron(hf, CFG, r, tp) for r in range(tp)]
    d = CFG.head_dim
    for s in shards:  # each rank holds 1/tp of every split weight
        assert s["decoder.layers.0.self_attention.linear_qkv.weight"].shape == ((8 + 2 * 4) * d // tp, 64)
        assert s["decoder.layers.0.mlp.linear_fc1.weight"].shape == (2 * 96 // tp, 64)
        assert s["decoder.layers.0.mlp.linear_fc2.weight"].shape == (64, 96 // tp)
        assert s["embedding.word_embeddings.weight"].shape == (1024 // tp, 64)
    back = megatron_state_to_hf(shards, CFG, vocab_size=HF_VOCAB)
    assert back.keys() == hf.keys()
    for k in hf:
        assert back[k].dtype == hf[k].dtype and torch.equal(back[k], hf[k]), k


def test_tp_shards_hold_whole_query_groups_and_their_gate_up_halves():
    hf = random_hf_state(CFG, HF_VOCAB, dtype=torch.float32)
    rank1 = hf_state_to_megatron(hf, CFG, tp_rank=1, tp_size=2)
    d, a = CFG.head_dim, "model.layers.0."
    q, k, v = (hf[a + f"self_attn.{x}_proj.weight"] for x in "qkv")
    # rank 1 of 2 holds groups 2 and 3; group 2 = [q heads 4, 5; k_2; v_2]
    group2 = torch.cat([q[4 * d:6 * d], k[2 * d:3 * d], v[2 * d:3 * d]])
    assert torch.equal(rank1["decoder.layers.0.self_attention.linear_qkv.weight"][:4 * d], group2)
    gate, up = hf[a + "mlp.gate_proj.weight"], hf[a + "mlp.up_proj.weight"]
    assert torch.equal(rank1["decoder.layers.0.mlp.linear_fc1.weight"], torch.cat([gate[48:], up[48:]]))
    emb = rank1["embedding.word_embeddings.weight"]  # vocab rows 512..1023: 489 real, 23 zero padding
    assert torch.equal(emb[:489], hf["model.embed_tokens.weight"][512:]) and not emb[489:].any()


def test_unknown_tensors_and_indivisible_tp_are_refused():
    hf = random_hf_state(CFG, HF_VOCAB)
    with pytest.raises(ConversionError, match="does not use"):
        hf_state_to_megatron({**hf, "model.layers.0.self_attn.q_proj.bias": torch.zeros(1)}, CFG)
    with pytest.raises(ConversionError, match="num_query_groups 4 is not divisible"):
        hf_state_to_megatron(hf, CFG, 0, 8)
    with pytest.raises(ConversionError, match="no 'lm_head.weight'"):
        hf_state_to_megatron({k: v for k, v in hf.items() if k != "lm_head.weight"}, CFG)


# --- configs -----------------------------------------------------------------------------------------

HF_CONFIG = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 176, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 1001,
             "max_position_embeddings": 128, "rms_norm_eps": 1e-6, "initializer_range": 0.02,
             "rope_parameters": {"rope_type": "default", "rope_theta": 50000.0}}


def test_hf_config_maps_to_model_config_and_back():
    cfg = hf_config_to_model_config(HF_CONFIG, name="t")
    assert cfg == ModelConfig("t", num_layers=2, hidden_size=64, num_attention_heads=4, num_query_groups=2,
                              ffn_hidden_size=176, vocab_size=1024, seq_length=128, rotary_base=50000,
                              norm_eps=1e-6)
    legacy = {**HF_CONFIG, "rope_parameters": None, "rope_theta": 50000.0}  # transformers 4 spelling
    assert hf_config_to_model_config(legacy, name="t") == cfg
    back = model_config_to_hf_config(cfg, vocab_size=1001)
    assert hf_config_to_model_config(back, name="t") == cfg
    assert back["vocab_size"] == 1001 and back["rope_theta"] == 50000.0 and back["num_key_value_heads"] == 2


@pytest.mark.parametrize("change, message", [
    ({"attention_bias": True}, "biases on q/k/v/o"),
    ({"mlp_bias": True}, "biases on the MLP"),
    ({"tie_word_embeddings": True}, "tied input embedding"),
    ({"rope_parameters": {"rope_type": "llama3", "rope_theta": 5e5, "factor": 8.0}}, "RoPE scaling 'llama3'"),
    ({"rope_scaling": {"type": "linear", "factor": 2.0}}, "RoPE scaling 'linear'"),
    ({"hidden_act": "gelu"}, "hidden_act 'gelu'"),
    ({"model_type": "gpt2"}, "not a LLaMA config"),
    ({"head_dim": 32}, "decoupled head_dim"),
])
def test_unsupported_hf_configs_are_refused(change, message):
    with pytest.raises(ConversionError, match=message):
        hf_config_to_model_config({**HF_CONFIG, **change})


# --- files and parity with transformers ------------------------------------------------------------

def tiny_config(**changes):
    """HF_CONFIG as a transformers LlamaConfig (eager attention: the reference computation)."""
    transformers = pytest.importorskip("transformers")
    return transformers.LlamaConfig(**{**{k: v for k, v in HF_CONFIG.items() if k != "model_type"}, **changes},
                                    tie_word_embeddings=False, attn_implementation="eager")


def tiny_llama(dtype=torch.float32):
    """A random LlamaForCausalLM built here (no download): GQA 4/2, vocabulary 1001, RoPE base 50000,
    RMSNorm eps 1e-6; weights drawn wider than the default init (and norms away from 1) so attention and
    every norm matter to the logits."""
    from transformers import LlamaForCausalLM

    torch.manual_seed(0)
    model = LlamaForCausalLM(tiny_config()).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(1 + 0.2 * torch.randn_like(p) if "norm" in name else 0.15 * torch.randn_like(p))
    return model.to(dtype)


def token_ids(vocab=1001, b=2, s=24):
    return torch.randint(0, vocab, (b, s), generator=torch.Generator().manual_seed(1))


@pytest.fixture(scope="module")
def hf_dir(tmp_path_factory):
    """The tiny model saved by transformers (FP32, one file), and its logits on `token_ids()`."""
    path = tmp_path_factory.mktemp("hf") / "tiny-llama"
    model = tiny_llama()
    model.save_pretrained(path)
    with torch.no_grad():
        logits = model(token_ids()).logits
    torch.save(logits, path / "expected_logits.pt")
    return path


def megatron_logits(model, ids):
    pos = torch.arange(ids.shape[1]).expand_as(ids)
    with torch.no_grad():
        return model(ids, pos, None)  # [b, s, padded vocab / tp]


def read_safetensors(directory) -> dict:
    from trainer.hf import SafetensorsState

    return dict(SafetensorsState(directory))


@pytest.fixture(scope="module")
def tp1_checkpoint(hf_dir, tmp_path_factory, mcore_cpu):
    from trainer.hf import import_hf

    out = tmp_path_factory.mktemp("ckpt") / "tp1"
    import_hf(hf_dir, out)
    return out


def test_import_writes_a_step0_checkpoint_in_the_trainers_layout(tp1_checkpoint):
    assert (tp1_checkpoint / "latest").read_text().strip() == "step-0000000"
    ckpt = tp1_checkpoint / "step-0000000"
    state = json.loads((ckpt / "state.json").read_text())
    assert (state["step"], state["samples"]) == (0, 0)
    assert state["config"]["model_config"]["vocab_size"] == 1024 and state["hf"]["vocab_size"] == 1001
    assert state["config"]["model_config"]["rotary_base"] == 50000
    assert (ckpt / "model").is_dir() and not (ckpt / "optimizer").exists()
    assert not list(tp1_checkpoint.glob("*.tmp"))


def test_converted_model_logits_match_transformers_at_tp1(hf_dir, tp1_checkpoint):
    from trainer.hf import load_checkpoint_model

    model, cfg, _ = load_checkpoint_model(tp1_checkpoint)
    assert (cfg.rotary_base, cfg.norm_eps) == (50000, 1e-6)  # the HF config's, not the defaults
    logits = megatron_logits(model.eval(), token_ids())
    expected = torch.load(hf_dir / "expected_logits.pt")
    assert logits.shape == (*expected.shape[:2], 1024)
    torch.testing.assert_close(logits[..., :1001], expected, atol=1e-4, rtol=0)
    assert not logits[..., 1001:].any()  # zero padding rows of the output layer


def test_export_is_bit_exact_and_loads_in_transformers(hf_dir, tp1_checkpoint, tmp_path):
    from transformers import LlamaForCausalLM

    from trainer.hf import export_hf

    files = export_hf(tp1_checkpoint, tmp_path / "out")
    assert files == ["model.safetensors", "generation_config.json"]  # the latter from the import's source
    original, exported = read_safetensors(hf_dir), read_safetensors(tmp_path / "out")
    assert exported.keys() == original.keys()
    for k in original:
        assert exported[k].dtype == original[k].dtype and torch.equal(exported[k], original[k]), k
    reloaded = LlamaForCausalLM.from_pretrained(tmp_path / "out", attn_implementation="eager").eval()
    assert reloaded.config.rope_parameters["rope_theta"] == 50000.0 and reloaded.config.rms_norm_eps == 1e-6
    with torch.no_grad():
        assert torch.equal(reloaded(token_ids()).logits, torch.load(hf_dir / "expected_logits.pt"))


def test_bf16_sharded_checkpoint_round_trips_bit_exact(tmp_path, mcore_cpu):
    from trainer.hf import export_hf, import_hf

    src = tmp_path / "bf16"
    tiny_llama(torch.bfloat16).save_pretrained(src, max_shard_size="100KB")
    assert (src / "model.safetensors.index.json").exists()  # read through the index
    import_hf(src, tmp_path / "ckpt")
    files = export_hf(tmp_path / "ckpt", tmp_path / "out", max_shard_bytes=100_000)
    assert sum(f.endswith(".safetensors") for f in files) > 1
    assert (tmp_path / "out" / "model.safetensors.index.json").exists()
    original, exported = read_safetensors(src), read_safetensors(tmp_path / "out")
    assert exported.keys() == original.keys()
    for k in original:
        assert exported[k].dtype == torch.bfloat16 and torch.equal(exported[k], original[k]), k
    assert json.loads((tmp_path / "out" / "config.json").read_text())["torch_dtype"] == "bfloat16"


def test_export_of_a_training_checkpoint(tmp_path, mcore_cpu):
    """A checkpoint the trainer wrote (named config, no HF record): all rows by default, --vocab-size
    trims padding; transformers' logits equal the megatron model's."""
    from megatron.core import dist_checkpointing
    from transformers import LlamaForCausalLM

    from trainer.config import get_model_config
    from trainer.hf import export_hf
    from trainer.model import build_model

    torch.manual_seed(3)
    model = build_model(get_model_config("tiny"), device="cpu").eval()  # vocabulary 1024
    ckpt = tmp_path / "run" / "step-0000007"
    (ckpt / "model").mkdir(parents=True)
    dist_checkpointing.save(model.sharded_state_dict(), str(ckpt / "model"))
    (ckpt / "state.json").write_text(json.dumps({"step": 7, "config": {"model": "tiny"}}))
    (tmp_path / "run" / "latest").write_text("step-0000007\n")

    assert export_hf(tmp_path / "run", tmp_path / "all") == ["model.safetensors"]
    assert read_safetensors(tmp_path / "all")["lm_head.weight"].shape == (1024, 64)
    export_hf(tmp_path / "run", tmp_path / "trimmed", vocab_size=1000)
    hf = LlamaForCausalLM.from_pretrained(tmp_path / "trimmed", attn_implementation="eager").eval()
    assert hf.config.vocab_size == 1000 and hf.config.max_position_embeddings == 64
    ids = token_ids(vocab=1000)
    with torch.no_grad():
        torch.testing.assert_close(hf(ids).logits, megatron_logits(model, ids)[..., :1000], atol=1e-4, rtol=0)


def test_import_refuses_a_non_empty_output(hf_dir, tp1_checkpoint):
    from trainer.hf import import_hf

    with pytest.raises(FileExistsError, match="not empty"):
        import_hf(hf_dir, tp1_checkpoint)


def test_tp2_logits_match_transformers_and_export_is_bit_exact(hf_dir, tp1_checkpoint, tmp_path):
    """One torchrun launch of two gloo processes: `python -m trainer.hf import --tp 2` (what
    `ziya convert hf-to-mcore --tp 2` runs under torchrun), then at TP=2 the logits of that import and
    of the TP=1 import resharded on load; the TP=2 checkpoint exports bit-exact."""
    from trainer.hf import export_hf

    ckpt2 = tmp_path / "tp2"
    run_tp2_worker(tmp_path / "logits.pt", hf_dir, ckpt2, tp1_checkpoint)
    expected = torch.load(hf_dir / "expected_logits.pt")
    for logits in torch.load(tmp_path / "logits.pt"):
        torch.testing.assert_close(logits[..., :1001], expected, atol=1e-4, rtol=0)

    export_hf(ckpt2, tmp_path / "out")
    original, exported = read_safetensors(hf_dir), read_safetensors(tmp_path / "out")
    for k in original:
        assert torch.equal(exported[k], original[k]), k


def run_tp2_worker(out, hf_dir, ckpt2, ckpt1):
    import os
    import subprocess
    import sys

    from tests.trainer._launch import REPO

    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "-m",
           "tests.trainer._hf_tp_worker", *map(str, (out, hf_dir, ckpt2, ckpt1))]
    proc = subprocess.run(cmd, cwd=REPO, env={**os.environ, "PYTHONWARNINGS": "ignore"},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_ziya_convert_commands(hf_dir, tmp_path, mcore_cpu):
    from ziya.cli import main as ziya

    ckpt, out = tmp_path / "ckpt", tmp_path / "out"
    assert ziya(["convert", "hf-to-mcore", "--hf", str(hf_dir), "--output", str(ckpt)]) == 0
    assert ziya(["convert", "mcore-to-hf", "--checkpoint", str(ckpt), "--output", str(out),
                 "--dtype", "bfloat16"]) == 0
    exported = read_safetensors(out)
    for k, v in read_safetensors(hf_dir).items():
        assert exported[k].dtype == torch.bfloat16 and torch.equal(exported[k], v.to(torch.bfloat16)), k
    assert ziya(["convert", "hf-to-mcore", "--hf", str(tmp_path / "missing"), "--output", str(tmp_path / "x")]) == 2
