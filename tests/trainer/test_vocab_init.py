"""Vocabulary expansion: new embedding and output rows are the means of their base decompositions'
rows, base rows stay bit-identical, base-token logits do not move, and mappings made for another
tokenizer are refused. Mappings are written by hand in `ziya tokenizer expand`'s schema."""
from __future__ import annotations

import hashlib
import json

import pytest

torch = pytest.importorskip("torch")

from trainer.vocab import VocabError, expand_vocabulary, read_expansion  # noqa: E402

BASE_SHA = hashlib.sha256(b"base tokenizer").hexdigest()
# repeated ids count twice in the mean, like a decomposition that repeats a piece
DECOMPOSITIONS = [[7], [3, 9], [5, 5, 11], [0, 1, 2, 1000], [42, 7, 999]]


def mapping(base_vocab=1001, decompositions=DECOMPOSITIONS, **changes) -> dict:
    return {"base_model": "/models/base.model", "base_model_sha256": BASE_SHA, "base_vocab_size": base_vocab,
            "vocab_size": base_vocab + len(decompositions), "model_sha256": "0" * 64,
            "new_pieces": [{"id": base_vocab + k, "piece": f"▁新{k}", "base_ids": ids}
                           for k, ids in enumerate(decompositions)], **changes}


def write_mapping(path, data: dict):
    path.write_text(json.dumps(data, ensure_ascii=False))
    return path


def dyadic(rows, h, dtype, seed=0):
    """Weights that are small multiples of 1/8: sums of a few are exact in FP32 whatever the order, so the
    expected means can be compared for exact equality."""
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(-64, 64, (rows, h), generator=g) / 8).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_new_rows_are_the_mean_of_their_base_rows_and_base_rows_are_untouched(tmp_path, dtype):
    exp = read_expansion(write_mapping(tmp_path / "m.json", mapping()))
    state = {"model.embed_tokens.weight": dyadic(1001, 64, dtype, 0), "lm_head.weight": dyadic(1001, 64, dtype, 1),
             "model.norm.weight": torch.ones(64)}
    grown = expand_vocabulary(state, exp, base_tokenizer_sha256=BASE_SHA)
    assert grown["model.norm.weight"] is state["model.norm.weight"]
    for key in ("model.embed_tokens.weight", "lm_head.weight"):
        old, new = state[key], grown[key]
        assert new.shape == (1006, 64) and new.dtype == dtype
        assert torch.equal(new[:1001], old)  # bit-identical base rows
        for k, ids in enumerate(DECOMPOSITIONS):
            assert torch.equal(new[1001 + k], old[ids].float().mean(0).to(dtype)), (key, ids)


def test_base_token_logits_are_unchanged_after_expansion(tmp_path):
    from transformers import LlamaForCausalLM

    from tests.trainer.test_hf_interop import tiny_config, tiny_llama, token_ids

    model = tiny_llama()
    exp = read_expansion(write_mapping(tmp_path / "m.json", mapping()))
    grown = LlamaForCausalLM(tiny_config(vocab_size=1006)).eval()
    grown.load_state_dict(expand_vocabulary(model, exp))  # a module, or its state dict
    ids = token_ids()  # base ids only
    with torch.no_grad():
        before, after = model(ids, output_hidden_states=True), grown(ids, output_hidden_states=True)
    for h_before, h_after in zip(before.hidden_states, after.hidden_states):
        assert torch.equal(h_after, h_before)  # every layer computes exactly what it did
    assert after.logits.shape[-1] == 1006  # the new pieces have logits
    # bit-identical here; only the output GEMM's shape differs, so allow a BLAS that blocks 1006 rows
    # differently from 1001 its last bit
    torch.testing.assert_close(after.logits[..., :1001], before.logits, atol=1e-6, rtol=0)
    new_ids = torch.tensor([[1001, 1002, 1003, 1004, 1005]])
    with torch.no_grad():
        assert torch.isfinite(grown(new_ids).logits).all()


@pytest.mark.parametrize("data, message", [
    (mapping(base_vocab=1000, decompositions=[[1], [2]]), "base_vocab_size is 1000: this mapping was made for another"),
    (mapping(new_pieces=[{"id": 1001, "piece": "a", "base_ids": [1]}, {"id": 1003, "piece": "b", "base_ids": [2]}],
             vocab_size=1003), "must have ids 1001..1002"),
    (mapping(decompositions=[[1], [1001]]), r"base_ids \[1001\] must be a non-empty list of ids below"),
    (mapping(decompositions=[[1], []]), "must be a non-empty list"),
])
def test_mappings_that_do_not_fit_are_refused(tmp_path, data, message):
    state = {"model.embed_tokens.weight": torch.zeros(1001, 8), "lm_head.weight": torch.zeros(1001, 8)}
    with pytest.raises(VocabError, match=message):
        expand_vocabulary(state, read_expansion(write_mapping(tmp_path / "m.json", data)))


def test_another_base_tokenizer_is_refused(tmp_path):
    exp = read_expansion(write_mapping(tmp_path / "m.json", mapping()))
    state = {"model.embed_tokens.weight": torch.zeros(1001, 8)}
    with pytest.raises(VocabError, match="is not the mapping's base tokenizer"):
        expand_vocabulary(state, exp, base_tokenizer_sha256=hashlib.sha256(b"other").hexdigest())
    with pytest.raises(VocabError, match="not a tokenizer expansion mapping"):
        read_expansion(write_mapping(tmp_path / "bad.json", {"vocab_size": 3}))


@pytest.fixture
def expansion_files(tmp_path):
    """An HF model directory with its (stand-in) base tokenizer, and zh.model + zh.model.expansion.json
    as `ziya tokenizer expand` lays them out."""
    from tests.trainer.test_hf_interop import tiny_llama

    hf = tmp_path / "hf"
    tiny_llama().save_pretrained(hf)
    (hf / "tokenizer.model").write_bytes(b"base tokenizer")
    (tmp_path / "zh.model").write_bytes(b"expanded tokenizer")
    data = mapping(model_sha256=hashlib.sha256(b"expanded tokenizer").hexdigest())
    return hf, write_mapping(tmp_path / "zh.model.expansion.json", data)


def test_ziya_convert_expand_vocab_writes_a_grown_hf_model(expansion_files, tmp_path, capsys):
    from trainer.hf import SafetensorsState
    from ziya.cli import main as ziya

    hf, mapping_file = expansion_files
    out = tmp_path / "expanded"
    assert ziya(["convert", "expand-vocab", "--hf", str(hf), "--mapping", str(mapping_file), "--output", str(out)]) == 0
    assert "vocab_size 1001 -> 1006" in capsys.readouterr().out
    assert json.loads((out / "config.json").read_text())["vocab_size"] == 1006
    assert (out / "tokenizer.model").read_bytes() == b"expanded tokenizer"
    before, after = dict(SafetensorsState(hf)), dict(SafetensorsState(out))
    assert after["lm_head.weight"].shape == (1006, 64)
    assert torch.equal(after["model.embed_tokens.weight"][:1001], before["model.embed_tokens.weight"])
    grown_keys = ("lm_head.weight", "model.embed_tokens.weight")
    assert all(torch.equal(after[k], v) for k, v in before.items() if k not in grown_keys)


def test_ziya_convert_expand_vocab_refuses_another_base_tokenizer(expansion_files, tmp_path, capsys):
    from ziya.cli import main as ziya

    hf, mapping_file = expansion_files
    (hf / "tokenizer.model").write_bytes(b"some other tokenizer")
    assert ziya(["convert", "expand-vocab", "--hf", str(hf), "--mapping", str(mapping_file),
                 "--output", str(tmp_path / "out")]) == 2
    assert "is not the mapping's base tokenizer" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.usefixtures("mcore_cpu")
@pytest.mark.filterwarnings("ignore::UserWarning:megatron", "ignore::DeprecationWarning:megatron",
                            "ignore:Please use DTensor instead:FutureWarning",
                            "ignore:`load_state_dict` is deprecated:FutureWarning")
def test_expanded_model_imports_and_keeps_base_logits(expansion_files, tmp_path):
    """Expansion composes with import: the megatron model of the expanded checkpoint gives the base
    model's logits on base tokens (vocabulary 1006, padded to 1024)."""
    from tests.trainer.test_hf_interop import megatron_logits, tiny_llama, token_ids
    from trainer.hf import import_hf, load_checkpoint_model
    from trainer.vocab import expand_hf_checkpoint

    hf, mapping_file = expansion_files
    expand_hf_checkpoint(hf, mapping_file, tmp_path / "expanded")
    import_hf(tmp_path / "expanded", tmp_path / "ckpt")
    model, cfg, state = load_checkpoint_model(tmp_path / "ckpt")
    assert (cfg.vocab_size, state["hf"]["vocab_size"]) == (1024, 1006)
    with torch.no_grad():
        expected = tiny_llama()(token_ids()).logits
    torch.testing.assert_close(megatron_logits(model.eval(), token_ids())[..., :1001], expected, atol=1e-4, rtol=0)


@pytest.mark.usefixtures("mcore_cpu")
@pytest.mark.filterwarnings("ignore::UserWarning:megatron", "ignore::DeprecationWarning:megatron",
                            "ignore:Please use DTensor instead:FutureWarning",
                            "ignore:`load_state_dict` is deprecated:FutureWarning")
def test_the_expanded_tokenizer_travels_with_the_model_into_transformers(tmp_path):
    """The real chain: `ziya tokenizer expand` on the sample's Chinese, a LLaMA of the base
    vocabulary grown by `ziya convert expand-vocab`, imported to megatron and exported back: both HF
    directories hold the expanded tokenizer, and transformers' LLaMA tokenizers load it with one row
    per id and give SentencePiece's ids."""
    import shutil

    from transformers import AutoTokenizer, LlamaForCausalLM

    from corpus_tools.tokenizer import default_base_tokenizer_path
    from corpus_tools.vocab_expand import ExpandConfig, expand
    from tests.conftest import SAMPLE
    from tests.trainer.test_hf_interop import tiny_config
    from trainer.hf import export_hf, import_hf
    from trainer.vocab import expand_hf_checkpoint

    result = expand(None, [SAMPLE], str(tmp_path / "zh.model"), ExpandConfig(vocab_size=7000))
    hf = tmp_path / "hf"
    LlamaForCausalLM(tiny_config(vocab_size=32000)).save_pretrained(hf)
    shutil.copy(default_base_tokenizer_path(), hf / "tokenizer.model")
    expand_hf_checkpoint(hf, tmp_path / "zh.model.expansion.json", tmp_path / "expanded")
    import_hf(tmp_path / "expanded", tmp_path / "ckpt")
    export_hf(tmp_path / "ckpt", tmp_path / "exported")

    vocab = result.expanded.vocab_size
    texts = ["中华人民共和国成立以来，经济社会发展取得了历史性成就。", "The 2 models share 32,000 base ids.",
             "混合 text 与标点：“引号”（括号）"]
    for directory in ("expanded", "exported"):
        path = tmp_path / directory
        assert (path / "tokenizer.model").read_bytes() == (tmp_path / "zh.model").read_bytes()
        assert json.loads((path / "config.json").read_text())["vocab_size"] == vocab > 32000
        for fast in (False, True):
            tok = AutoTokenizer.from_pretrained(path, use_fast=fast)
            assert len(tok) == vocab, (directory, fast)
            for text in texts:
                assert tok(text, add_special_tokens=False)["input_ids"] == result.expanded.encode(text), (directory, fast, text)
    new_ids = [i for t in texts for i in result.expanded.encode(t) if i >= 32000]
    assert new_ids  # the Chinese text is encoded with added pieces, so the check covers them
