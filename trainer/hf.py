"""Hugging Face LLaMA <-> megatron-core: configs, state dicts, and checkpoint import/export.

    ziya convert hf-to-mcore --hf HF_DIR --output CKPT_DIR [--tp N]
    ziya convert mcore-to-hf --checkpoint CKPT_DIR --output HF_DIR [--dtype bfloat16]

Three layers, each usable alone:
- configs: `hf_config_to_model_config` / `model_config_to_hf_config` (LLaMA-family config.json <->
  `trainer.config.ModelConfig`), refusing what the megatron model does not compute the same way;
- tensors: `hf_state_to_megatron(hf_state, cfg, tp_rank, tp_size)` gives one TP rank's state dict,
  `megatron_state_to_hf(shards, cfg)` joins all ranks' state dicts back; pure reindexing, so a round
  trip is bit-exact for any TP size;
- files: `import_hf` (safetensors + config.json -> a checkpoint in the trainer's layout, written by
  `dist_checkpointing` at the current TP rank) and `export_hf` (a checkpoint of any TP size ->
  safetensors + config.json that `transformers.LlamaForCausalLM.from_pretrained` loads).

Layouts (megatron-core local spec; see ../shared/FACTS.md):
- `linear_qkv` rows are grouped per key/value head: for each group g, [its q heads; k_g; v_g]. Under TP
  the rows split in contiguous blocks, so rank r holds whole groups r*G/tp .. (r+1)*G/tp - 1.
- `linear_fc1` is [gate; up]; under TP rank r holds [gate_r; up_r] (each half split separately),
  which is what megatron's GLU (`chunk(2)` of the local output) expects.
- `linear_proj` and `linear_fc2` are row-parallel (split along the input dimension); the embedding and
  the output layer split along the vocabulary; the RMSNorm weights are replicated.
- The vocabulary is padded with zero rows to a multiple of `vocab_multiple` (128, like Megatron-LM's
  `--make-vocab-size-divisible-by`), so the checkpoint loads at any TP size dividing 128 whatever the
  tokenizer's size; the HF vocabulary size is kept in state.json and export drops the padding.
  A zero output row gives its padded id a logit of 0; training pushes it down like any unused token.

The import writes OUTPUT/step-0000000/{model/, state.json} and OUTPUT/latest, the trainer's checkpoint
layout at step 0 without optimizer state (what `checkpoint.init_from` reads); state.json is
{"step": 0, "samples": 0, "config": {"model": name, "model_config": {ModelConfig fields, padded vocab}},
 "hf": {"source": dir, "vocab_size": unpadded, "dtype": of the safetensors, "config": config.json}}.
The weights are held in FP32 (exact for BF16/FP16 sources); export casts back to the recorded dtype.
One process (TP=1) is the default route: dist_checkpointing writes a checkpoint that any TP size
loads, so the TP of the conversion only decides how much memory one process needs (`--tp N` runs N
gloo processes under torchrun, each holding 1/N of the model plus one HF tensor at a time).

HF and megatron-core both rotate the two halves of each head (`rotate_half`, megatron's
`rotary_interleaved=False`), so q and k weights copy over without the permutation Meta -> HF needed.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Optional

import torch

from trainer.config import ModelConfig, get_model_config

VOCAB_MULTIPLE = 128
CHECKPOINT_STEP = "step-0000000"  # the trainer's DIR/step-NNNNNNN naming, at step 0
MAX_SHARD_BYTES = 5 * 2**30  # transformers' default shard size for save_pretrained
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


class ConversionError(ValueError):
    """A checkpoint or config that cannot be converted, with the reason."""


# --- configs -----------------------------------------------------------------------------------------

def padded_vocab_size(vocab_size: int, multiple: int = VOCAB_MULTIPLE) -> int:
    """`vocab_size` rounded up to a multiple of `multiple`.

    >>> padded_vocab_size(32000), padded_vocab_size(1001), padded_vocab_size(1001, 1)
    (32000, 1024, 1001)
    """
    return -(-vocab_size // multiple) * multiple


def _rope_theta(hf: dict) -> float:
    """RoPE base from either config spelling (transformers >= 5: `rope_parameters`; before:
    `rope_theta` + `rope_scaling`); refuses RoPE scaling, which megatron's plain RoPE does not apply."""
    params = hf.get("rope_parameters") or {}
    scaling = hf.get("rope_scaling") or {}
    for spec in (params, scaling):
        kind = spec.get("rope_type", spec.get("type", "default"))
        if kind != "default":
            raise ConversionError(f"RoPE scaling {kind!r} is not supported (only plain RoPE)")
    return float(params.get("rope_theta", hf.get("rope_theta", 10000.0)))


def hf_config_to_model_config(hf: dict, *, name: str = "hf", vocab_multiple: int = VOCAB_MULTIPLE) -> ModelConfig:
    """A `ModelConfig` for a LLaMA config.json (dict); its vocab_size is padded to `vocab_multiple`."""
    if hf.get("model_type", "llama") != "llama":
        raise ConversionError(f"model_type {hf.get('model_type')!r} is not a LLaMA config")
    refused = {
        "attention_bias": "biases on q/k/v/o projections",
        "mlp_bias": "biases on the MLP projections",
        "tie_word_embeddings": "tied input embedding and output layer (the trainer's model is untied)",
    }
    for key, what in refused.items():
        if hf.get(key, False):
            raise ConversionError(f"{key}=true: {what} is not supported")
    if hf.get("hidden_act", "silu") != "silu":
        raise ConversionError(f"hidden_act {hf['hidden_act']!r} is not supported (LLaMA's SwiGLU uses silu)")
    heads = hf["num_attention_heads"]
    head_dim = hf.get("head_dim") or hf["hidden_size"] // heads
    if head_dim * heads != hf["hidden_size"]:
        raise ConversionError(f"head_dim {head_dim} x {heads} heads != hidden_size {hf['hidden_size']}: "
                              "a decoupled head_dim is not supported")
    theta = _rope_theta(hf)
    return ModelConfig(
        name=name,
        num_layers=hf["num_hidden_layers"],
        hidden_size=hf["hidden_size"],
        num_attention_heads=heads,
        num_query_groups=hf.get("num_key_value_heads") or heads,
        ffn_hidden_size=hf["intermediate_size"],
        vocab_size=padded_vocab_size(hf["vocab_size"], vocab_multiple),
        seq_length=hf.get("max_position_embeddings", 4096),
        rotary_base=int(theta) if theta.is_integer() else theta,
        norm_eps=hf.get("rms_norm_eps", 1e-6),
        init_method_std=hf.get("initializer_range", 0.02),
    )


def model_config_to_hf_config(cfg: ModelConfig, *, vocab_size: Optional[int] = None,
                              dtype: str = "float32") -> dict:
    """A LlamaForCausalLM config.json (dict) for `cfg`; `vocab_size`: the unpadded vocabulary.
    Writes RoPE as the legacy `rope_theta` key, which transformers 4 and 5 both read."""
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.ffn_hidden_size,
        "num_hidden_layers": cfg.num_layers,
        "num_attention_heads": cfg.num_attention_heads,
        "num_key_value_heads": cfg.num_query_groups,
        "head_dim": cfg.head_dim,
        "vocab_size": vocab_size or cfg.vocab_size,
        "max_position_embeddings": cfg.seq_length,
        "rms_norm_eps": cfg.norm_eps,
        "rope_theta": float(cfg.rotary_base),
        "rope_scaling": None,
        "hidden_act": "silu",
        "initializer_range": cfg.init_method_std,
        "attention_bias": False,
        "mlp_bias": False,
        "tie_word_embeddings": False,
        "torch_dtype": dtype,
    }


# --- tensors -----------------------------------------------------------------------------------------

def _hf_layer(i: int) -> str:
    return f"model.layers.{i}."


def _mc_layer(i: int) -> str:
    return f"decoder.layers.{i}."


def _check_tp(cfg: ModelConfig, tp_size: int) -> None:
    for what, n in (("num_query_groups", cfg.num_query_groups), ("ffn_hidden_size", cfg.ffn_hidden_size),
                    ("vocab_size (padded)", cfg.vocab_size)):
        if n % tp_size:
            raise ConversionError(f"{what} {n} is not divisible by the tensor-parallel size {tp_size}")


def _pad_rows(w: torch.Tensor, rows: int) -> torch.Tensor:
    if w.shape[0] > rows:
        raise ConversionError(f"vocabulary of {w.shape[0]} rows does not fit the model's {rows}")
    return torch.cat([w, w.new_zeros(rows - w.shape[0], w.shape[1])]) if w.shape[0] < rows else w


def _interleave_qkv(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, cfg: ModelConfig) -> torch.Tensor:
    """HF's separate q/k/v weights -> megatron's [q heads of group g; k_g; v_g] for each group g."""
    g, d, h = cfg.num_query_groups, cfg.head_dim, cfg.hidden_size
    per_group = cfg.num_attention_heads // g
    qkv = torch.cat([q.reshape(g, per_group * d, h), k.reshape(g, d, h), v.reshape(g, d, h)], dim=1)
    return qkv.reshape(-1, h)  # ((heads + 2 groups) * d, h)


def _split_qkv(qkv: torch.Tensor, cfg: ModelConfig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g, d, h = cfg.num_query_groups, cfg.head_dim, cfg.hidden_size
    per_group = cfg.num_attention_heads // g
    grouped = qkv.reshape(g, (per_group + 2) * d, h)
    q, k, v = grouped.split([per_group * d, d, d], dim=1)
    return q.reshape(-1, h), k.reshape(-1, h), v.reshape(-1, h)


class _Consumed(Mapping):
    """A view of an HF state dict that records which keys were read, to refuse leftovers."""

    def __init__(self, state: Mapping):
        self.state, self.read = state, set()

    def __getitem__(self, key):
        if key not in self.state:
            raise ConversionError(f"HF state has no {key!r}")
        self.read.add(key)
        return self.state[key]

    def __iter__(self):
        return iter(self.state)

    def __len__(self):
        return len(self.state)


def hf_state_to_megatron(hf_state: Mapping, cfg: ModelConfig, tp_rank: int = 0, tp_size: int = 1) -> dict:
    """TP rank `tp_rank`'s megatron-core state dict (local spec) from an HF LLaMA state dict.

    `hf_state` may be lazy (e.g. `SafetensorsState`): each tensor is read once, sliced, and dropped.
    Every HF tensor must be used (rotary `inv_freq` buffers of old checkpoints excepted)."""
    _check_tp(cfg, tp_size)
    hf = _Consumed(hf_state)

    def rows(w):  # column-parallel: this rank's block of output rows
        return w.chunk(tp_size, dim=0)[tp_rank].contiguous()

    def cols(w):  # row-parallel: this rank's block of input columns
        return w.chunk(tp_size, dim=1)[tp_rank].contiguous()

    out = {"embedding.word_embeddings.weight": rows(_pad_rows(hf["model.embed_tokens.weight"], cfg.vocab_size))}
    for i in range(cfg.num_layers):
        a, m = _hf_layer(i), _mc_layer(i)
        qkv = _interleave_qkv(hf[a + "self_attn.q_proj.weight"], hf[a + "self_attn.k_proj.weight"],
                              hf[a + "self_attn.v_proj.weight"], cfg)
        out[m + "self_attention.linear_qkv.weight"] = rows(qkv)
        out[m + "self_attention.linear_proj.weight"] = cols(hf[a + "self_attn.o_proj.weight"])
        out[m + "input_layernorm.weight"] = hf[a + "input_layernorm.weight"]
        out[m + "pre_mlp_layernorm.weight"] = hf[a + "post_attention_layernorm.weight"]
        out[m + "mlp.linear_fc1.weight"] = torch.cat([rows(hf[a + "mlp.gate_proj.weight"]),
                                                      rows(hf[a + "mlp.up_proj.weight"])])
        out[m + "mlp.linear_fc2.weight"] = cols(hf[a + "mlp.down_proj.weight"])
    out["decoder.final_layernorm.weight"] = hf["model.norm.weight"]
    out["output_layer.weight"] = rows(_pad_rows(hf["lm_head.weight"], cfg.vocab_size))
    leftover = sorted(k for k in hf if k not in hf.read and not k.endswith("rotary_emb.inv_freq"))
    if leftover:
        raise ConversionError(f"HF state has tensors the LLaMA mapping does not use: {leftover[:5]}"
                              + (f" and {len(leftover) - 5} more" if len(leftover) > 5 else ""))
    return out


def megatron_state_to_hf(shards: list[Mapping], cfg: ModelConfig, vocab_size: Optional[int] = None) -> dict:
    """An HF LLaMA state dict from the megatron-core state dicts of all TP ranks (in rank order);
    `vocab_size`: the unpadded vocabulary (padding rows are dropped)."""
    tp_size = len(shards)
    _check_tp(cfg, tp_size)
    vocab_size = vocab_size or cfg.vocab_size

    def rows(key):  # one shard (an export at TP=1): its own tensor, no copy
        return torch.cat([s[key] for s in shards], dim=0) if tp_size > 1 else shards[0][key]

    def cols(key):
        return torch.cat([s[key] for s in shards], dim=1) if tp_size > 1 else shards[0][key]

    out = {"model.embed_tokens.weight": rows("embedding.word_embeddings.weight")[:vocab_size]}
    for i in range(cfg.num_layers):
        a, m = _hf_layer(i), _mc_layer(i)
        q, k, v = _split_qkv(rows(m + "self_attention.linear_qkv.weight"), cfg)
        out[a + "self_attn.q_proj.weight"], out[a + "self_attn.k_proj.weight"] = q, k
        out[a + "self_attn.v_proj.weight"] = v
        out[a + "self_attn.o_proj.weight"] = cols(m + "self_attention.linear_proj.weight")
        out[a + "input_layernorm.weight"] = shards[0][m + "input_layernorm.weight"]
        out[a + "post_attention_layernorm.weight"] = shards[0][m + "pre_mlp_layernorm.weight"]
        gates, ups = zip(*(s[m + "mlp.linear_fc1.weight"].chunk(2, dim=0) for s in shards))
        out[a + "mlp.gate_proj.weight"], out[a + "mlp.up_proj.weight"] = torch.cat(gates), torch.cat(ups)
        out[a + "mlp.down_proj.weight"] = cols(m + "mlp.linear_fc2.weight")
    out["model.norm.weight"] = shards[0]["decoder.final_layernorm.weight"]
    out["lm_head.weight"] = rows("output_layer.weight")[:vocab_size]
    return {k: v.contiguous() for k, v in out.items()}


# --- files -------------------------------------------------------------------------------------------

class SafetensorsState(Mapping):
    """An HF checkpoint directory's tensors (model.safetensors, or the shards its index names), read
    one at a time on access, so a TP rank holds only its slices plus one full tensor at a time."""

    def __init__(self, hf_dir: str | Path):
        hf_dir = Path(hf_dir)
        index = hf_dir / "model.safetensors.index.json"
        if index.exists():
            weight_map = json.loads(index.read_text())["weight_map"]
            self.files = {k: hf_dir / f for k, f in weight_map.items()}
        elif (hf_dir / "model.safetensors").exists():
            from safetensors import safe_open

            with safe_open(hf_dir / "model.safetensors", framework="pt") as f:
                self.files = {k: hf_dir / "model.safetensors" for k in f.keys()}
        else:
            raise FileNotFoundError(f"{hf_dir}: no model.safetensors or model.safetensors.index.json "
                                    "(only safetensors checkpoints are read)")

    def __getitem__(self, key: str) -> torch.Tensor:
        from safetensors import safe_open

        with safe_open(self.files[key], framework="pt") as f:
            return f.get_tensor(key)

    def __iter__(self):
        return iter(self.files)

    def __len__(self):
        return len(self.files)


def read_hf_config(hf_dir: str | Path) -> dict:
    path = Path(hf_dir) / "config.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found")
    return json.loads(path.read_text())


def save_safetensors(state: dict, out_dir: Path, max_shard_bytes: int = MAX_SHARD_BYTES) -> list[str]:
    """`state` as model.safetensors, or as model-0000k-of-0000n.safetensors shards of at most
    `max_shard_bytes` plus model.safetensors.index.json (transformers' layout); the file names."""
    from safetensors.torch import save_file

    shards, size = [{}], 0
    for key, t in state.items():
        nbytes = t.numel() * t.element_size()
        if shards[-1] and size + nbytes > max_shard_bytes:
            shards.append({})
            size = 0
        shards[-1][key], size = t, size + nbytes
    if len(shards) == 1:
        save_file(shards[0], out_dir / "model.safetensors", metadata={"format": "pt"})
        return ["model.safetensors"]
    names = [f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors" for i in range(len(shards))]
    for name, shard in zip(names, shards):
        save_file(shard, out_dir / name, metadata={"format": "pt"})
    index = {"metadata": {"total_size": sum(t.numel() * t.element_size() for t in state.values())},
             "weight_map": {k: name for name, shard in zip(names, shards) for k in shard}}
    (out_dir / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))
    return names


def _refuse_nonempty(path: Path) -> None:
    """Outputs go to new directories; a `.tmp` left by a killed conversion does not count."""
    if path.exists() and any(not p.name.endswith(".tmp") for p in path.iterdir()):
        raise FileExistsError(f"{path} exists and is not empty; choose a new output directory")


def import_hf(hf_dir: str | Path, output: str | Path, *, vocab_multiple: int = VOCAB_MULTIPLE) -> Path:
    """Convert an HF LLaMA checkpoint into OUTPUT/step-0000000 (+ OUTPUT/latest), the trainer's layout
    at step 0 with no optimizer state. Runs on every rank of an initialized process group (TP from
    `parallel_state`); each rank builds its shard of the model, loads its slices and saves them with
    `dist_checkpointing`, so the checkpoint loads at any TP size."""
    from megatron.core import dist_checkpointing, parallel_state

    from trainer.model import build_model

    hf_dir, output = Path(hf_dir), Path(output)
    _refuse_nonempty(output)  # on every rank, before any of them waits for the others
    hf_config = read_hf_config(hf_dir)
    cfg = hf_config_to_model_config(hf_config, name=hf_dir.resolve().name, vocab_multiple=vocab_multiple)
    tp_rank = parallel_state.get_tensor_model_parallel_rank()
    tp_size = parallel_state.get_tensor_model_parallel_world_size()
    rank = torch.distributed.get_rank()
    hf_state = SafetensorsState(hf_dir)
    dtype = next(iter(hf_state.values())).dtype if rank == 0 else None

    model = build_model(cfg, device="cpu")  # FP32: holds BF16/FP16 weights exactly
    load_megatron_state(model, hf_state_to_megatron(hf_state, cfg, tp_rank, tp_size))

    final, tmp = output / CHECKPOINT_STEP, output / (CHECKPOINT_STEP + ".tmp")
    if rank == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "model").mkdir(parents=True)
    torch.distributed.barrier()
    dist_checkpointing.save(model.sharded_state_dict(), str(tmp / "model"))
    torch.distributed.barrier()
    if rank == 0:
        state = {"step": 0, "samples": 0,
                 "config": {"model": cfg.name, "model_config": dataclasses.asdict(cfg)},
                 "hf": {"source": str(hf_dir.resolve()), "vocab_size": hf_config["vocab_size"],
                        "dtype": str(dtype).removeprefix("torch."), "config": hf_config}}
        (tmp / "state.json").write_text(json.dumps(state, indent=2))
        os.rename(tmp, final)
        (output / "latest").write_text(final.name + "\n")
    torch.distributed.barrier()
    return final


def load_megatron_state(model, state: dict) -> None:
    """Load a full (this rank's) state dict into `model`; every parameter must be given."""
    result = model.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith("_extra_state")]
    if missing or result.unexpected_keys:
        raise ConversionError(f"state does not fit the model: missing {missing}, "
                              f"unexpected {result.unexpected_keys}")


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint directory (holding state.json), or the one a run directory's `latest` names."""
    path = Path(path)
    if (path / "state.json").exists():
        return path
    if (path / "latest").exists():
        return path / (path / "latest").read_text().strip()
    raise FileNotFoundError(f"{path}: neither a checkpoint (state.json) nor a run directory (latest)")


def checkpoint_model_config(state: dict) -> ModelConfig:
    """The architecture a checkpoint's state.json records: a full `model_config` (imports), or the
    name of a config in `trainer.config.MODEL_CONFIGS` (training runs)."""
    config = state["config"]
    if "model_config" in config:
        return ModelConfig(**config["model_config"])
    return get_model_config(config["model"])


def load_checkpoint_model(checkpoint: str | Path, device: str = "cpu"):
    """(model at the current TP size with the checkpoint's weights, its ModelConfig, its state.json)."""
    from megatron.core import dist_checkpointing

    from trainer.model import build_model

    path = resolve_checkpoint(checkpoint)
    state = json.loads((path / "state.json").read_text())
    cfg = checkpoint_model_config(state)
    model = build_model(cfg, device=device)
    model.load_state_dict(dist_checkpointing.load(model.sharded_state_dict(), str(path / "model")))
    return model, cfg, state


def export_hf(checkpoint: str | Path, output: str | Path, *, dtype: Optional[str] = None,
              vocab_size: Optional[int] = None, max_shard_bytes: int = MAX_SHARD_BYTES) -> list[str]:
    """Write a checkpoint (saved at any TP size) as HF safetensors + config.json in `output`.
    Runs in a world of one: dist_checkpointing reshards the checkpoint to TP=1 on load.
    `dtype`: of the written tensors (default: the imported checkpoint's, else float32);
    `vocab_size`: rows to keep (default: the imported checkpoint's unpadded vocabulary, else all).
    Copies the tokenizer files of the imported model's directory when it is still there."""
    from megatron.core import parallel_state

    if parallel_state.get_tensor_model_parallel_world_size() != 1:
        raise ConversionError("export runs at TP=1 (any checkpoint reshards to it on load)")
    output = Path(output)
    _refuse_nonempty(output)
    model, cfg, state = load_checkpoint_model(checkpoint)
    imported = state.get("hf", {})
    dtype = dtype or imported.get("dtype", "float32")
    if dtype not in DTYPES:
        raise ConversionError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    vocab_size = vocab_size or imported.get("vocab_size") or cfg.vocab_size
    if not 0 < vocab_size <= cfg.vocab_size:
        raise ConversionError(f"vocab_size {vocab_size} must be in 1..{cfg.vocab_size} (the model's rows)")
    params = {k: v for k, v in model.state_dict().items() if not k.endswith("_extra_state")}
    hf_state = megatron_state_to_hf([params], cfg, vocab_size)  # mostly views of the model's weights
    del model, params
    for key in hf_state:  # one tensor at a time, so each FP32 weight is freed as its cast is made
        hf_state[key] = hf_state[key].to(DTYPES[dtype])
    output.mkdir(parents=True, exist_ok=True)
    files = save_safetensors(hf_state, output, max_shard_bytes)
    config = _export_config(cfg, imported.get("config", {}), vocab_size, dtype)
    (output / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return files + _copy_tokenizer_files(imported.get("source"), output)


def _export_config(cfg: ModelConfig, source: dict, vocab_size: int, dtype: str) -> dict:
    """config.json: the imported one (token ids, ...) updated with the architecture as trained."""
    config = {**source, **model_config_to_hf_config(cfg, vocab_size=vocab_size, dtype=dtype)}
    # training at a shorter sequence length does not shorten the imported model's context
    config["max_position_embeddings"] = max(cfg.seq_length, source.get("max_position_embeddings", 0))
    config.pop("rope_parameters", None)  # written as rope_theta
    config.pop("dtype", None)  # written as torch_dtype
    return config


TOKENIZER_FILES = ("tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                   "generation_config.json")


def _copy_tokenizer_files(source: Optional[str], output: Path) -> list[str]:
    """The imported model's tokenizer and generation files, if its directory is still there (the
    vocabulary does not change between import and export)."""
    if not source or not Path(source).is_dir():
        return []
    found = [name for name in TOKENIZER_FILES if (Path(source) / name).exists()]
    for name in found:
        shutil.copy(Path(source) / name, output / name)
    return found


# --- command line (`python -m trainer.hf`, what `ziya convert` runs, under torchrun for --tp > 1) -------

def main(argv=None) -> int:
    from trainer.parallel import destroy_distributed, init_distributed

    p = argparse.ArgumentParser(prog="python -m trainer.hf", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import")
    imp.add_argument("--hf", required=True)
    imp.add_argument("--output", required=True)
    imp.add_argument("--tp", type=int, default=1)
    imp.add_argument("--vocab-multiple", type=int, default=VOCAB_MULTIPLE)
    exp = sub.add_parser("export")
    exp.add_argument("--checkpoint", required=True)
    exp.add_argument("--output", required=True)
    exp.add_argument("--dtype", choices=list(DTYPES))
    exp.add_argument("--vocab-size", type=int)
    exp.add_argument("--max-shard-bytes", type=int, default=MAX_SHARD_BYTES)
    args = p.parse_args(argv)

    # Inside a process that already has its world (a test session, a caller) leave it as found.
    owns_world = not torch.distributed.is_initialized()
    init_distributed("cpu", tensor_parallel_size=getattr(args, "tp", 1))
    try:
        from megatron.core import parallel_state

        if parallel_state.get_tensor_model_parallel_world_size() != getattr(args, "tp", 1):
            raise ConversionError(f"--tp {args.tp} needs a world of {args.tp} processes (torchrun)")
        if args.command == "import":
            path = import_hf(args.hf, args.output, vocab_multiple=args.vocab_multiple)
            if torch.distributed.get_rank() == 0:
                print(f"wrote {path} (TP={args.tp} import; loads at any TP size)", flush=True)
        else:
            files = export_hf(args.checkpoint, args.output, dtype=args.dtype, vocab_size=args.vocab_size,
                              max_shard_bytes=args.max_shard_bytes)
            print(f"wrote {args.output}: config.json, {', '.join(files)}", flush=True)
        return 0
    except (ConversionError, FileExistsError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    finally:
        if owns_world:
            destroy_distributed()


if __name__ == "__main__":  # dist_checkpointing's saver spawns processes that re-import __main__
    sys.exit(main())
