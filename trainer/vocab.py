"""Vocabulary expansion: grow a LLaMA's input embedding and output layer to an expanded tokenizer.

    ziya convert expand-vocab --hf HF_DIR --mapping MODEL.expansion.json --output NEW_HF_DIR
    ziya convert hf-to-mcore --hf NEW_HF_DIR --output CKPT_DIR     # then train from CKPT_DIR

`ziya tokenizer expand` writes MODEL (the expanded SentencePiece model) and MODEL.expansion.json:
{"base_model", "base_model_sha256", "base_vocab_size", "vocab_size", "model_sha256",
 "new_pieces": [{"id", "piece", "base_ids": [...]}, ...]}, where `base_ids` is the new piece's
decomposition by the base tokenizer. Each new row of the embedding and of the output layer is the mean
of the base rows its `base_ids` list (the initialization Ziya2 and Chinese-LLaMA use, so a new piece
starts where the model's reading of its base-token spelling is); the base rows are not touched, so the
expanded model gives the same logits as before on base-token inputs over the base vocabulary.

It works on Hugging Face state dicts (the surface `trainer.hf` imports from), so expansion composes with
any checkpoint that can be exported to or imported from HF layout.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

EXPANDED_KEYS = ("model.embed_tokens.weight", "lm_head.weight")  # the rows indexed by token id
ROWS_PER_BLOCK = 1024  # new rows averaged at a time: bounds the gathered base rows' memory


class VocabError(ValueError):
    """A mapping that does not fit the model (or itself), with the reason."""


@dataclass(frozen=True)
class VocabExpansion:
    base_model: str
    base_model_sha256: str
    base_vocab_size: int
    vocab_size: int
    model_sha256: str
    new_ids: tuple[int, ...]
    base_ids: tuple[tuple[int, ...], ...]  # the decomposition of each new id, same order

    @classmethod
    def from_dict(cls, d: dict) -> "VocabExpansion":
        pieces = sorted(d["new_pieces"], key=lambda p: p["id"])
        exp = cls(d["base_model"], d["base_model_sha256"], int(d["base_vocab_size"]), int(d["vocab_size"]),
                  d["model_sha256"], tuple(p["id"] for p in pieces), tuple(tuple(p["base_ids"]) for p in pieces))
        exp.validate()
        return exp

    def validate(self) -> None:
        if self.new_ids != tuple(range(self.base_vocab_size, self.vocab_size)):
            raise VocabError(f"new_pieces must have ids {self.base_vocab_size}..{self.vocab_size - 1}, "
                             f"each once (got {len(self.new_ids)} pieces)")
        for new_id, ids in zip(self.new_ids, self.base_ids):
            if not ids or not all(0 <= i < self.base_vocab_size for i in ids):
                raise VocabError(f"piece {new_id}: base_ids {list(ids)} must be a non-empty list of ids "
                                 f"below base_vocab_size {self.base_vocab_size}")


def read_expansion(path: str | Path) -> VocabExpansion:
    try:
        return VocabExpansion.from_dict(json.loads(Path(path).read_text()))
    except (KeyError, TypeError) as exc:
        raise VocabError(f"{path}: not a tokenizer expansion mapping ({exc!r} missing or malformed)") from None


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def expand_rows(weight: torch.Tensor, exp: VocabExpansion) -> torch.Tensor:
    """[base_vocab_size, h] -> [vocab_size, h]: base rows as they are, then one row per new piece,
    the mean (in FP32, then cast to the weight's dtype) of the base rows of its decomposition."""
    if weight.shape[0] != exp.base_vocab_size:
        raise VocabError(f"the weight has {weight.shape[0]} rows but the mapping's base_vocab_size is "
                         f"{exp.base_vocab_size}: this mapping was made for another tokenizer")
    blocks = [weight]
    for start in range(0, len(exp.base_ids), ROWS_PER_BLOCK):
        decompositions = exp.base_ids[start:start + ROWS_PER_BLOCK]
        lengths = torch.tensor([len(ids) for ids in decompositions])
        flat = torch.tensor([i for ids in decompositions for i in ids])
        owner = torch.repeat_interleave(torch.arange(len(decompositions)), lengths)  # new row of each base id
        sums = torch.zeros(len(decompositions), weight.shape[1]).index_add_(0, owner, weight[flat].float())
        blocks.append((sums / lengths[:, None]).to(weight.dtype))
    return torch.cat(blocks)


def expand_vocabulary(state: dict | torch.nn.Module, exp: VocabExpansion, *,
                      base_tokenizer_sha256: Optional[str] = None, keys: tuple[str, ...] = EXPANDED_KEYS) -> dict:
    """A copy of an HF LLaMA state dict (or of a `LlamaForCausalLM`'s) with `keys` (embedding, output
    layer) grown to the expanded vocabulary; the other tensors are shared, not copied.
    `base_tokenizer_sha256`: of the tokenizer the model was trained with, checked against the mapping's
    base when given."""
    if isinstance(state, torch.nn.Module):
        state = state.state_dict()
    if base_tokenizer_sha256 is not None and base_tokenizer_sha256 != exp.base_model_sha256:
        raise VocabError(f"the model's tokenizer (sha256 {base_tokenizer_sha256[:12]}...) is not the "
                         f"mapping's base tokenizer {exp.base_model} (sha256 {exp.base_model_sha256[:12]}...)")
    return {k: expand_rows(v, exp) if k in keys else v for k, v in state.items()}


def expand_hf_checkpoint(hf_dir: str | Path, mapping: str | Path, output: str | Path,
                         base_tokenizer: Optional[str | Path] = None) -> list[str]:
    """Write HF_DIR's model with its vocabulary expanded by MAPPING into OUTPUT (safetensors,
    config.json with the new vocab_size, generation_config.json if any, and the expanded tokenizer as
    tokenizer.model when MODEL lies beside MODEL.expansion.json). The base tokenizer
    (`base_tokenizer`, else HF_DIR/tokenizer.model) must be the mapping's base. Returns what it did."""
    from trainer.hf import SafetensorsState, read_hf_config, save_safetensors

    hf_dir, mapping, output = Path(hf_dir), Path(mapping), Path(output)
    exp = read_expansion(mapping)
    base_tokenizer = Path(base_tokenizer) if base_tokenizer else hf_dir / "tokenizer.model"
    if not base_tokenizer.exists():
        raise VocabError(f"{base_tokenizer} not found: pass the model's base tokenizer (--base-tokenizer) "
                         "so the mapping can be checked against it")
    config = read_hf_config(hf_dir)
    if config["vocab_size"] != exp.base_vocab_size:
        raise VocabError(f"{hf_dir}: vocab_size {config['vocab_size']} != the mapping's base_vocab_size "
                         f"{exp.base_vocab_size}")
    if output.exists() and any(output.iterdir()):
        raise FileExistsError(f"{output} exists and is not empty; choose a new output directory")
    state = expand_vocabulary(dict(SafetensorsState(hf_dir)), exp, base_tokenizer_sha256=sha256_file(base_tokenizer))

    output.mkdir(parents=True, exist_ok=True)
    done = save_safetensors(state, output)
    (output / "config.json").write_text(json.dumps({**config, "vocab_size": exp.vocab_size}, indent=2) + "\n")
    done.append(f"config.json (vocab_size {exp.base_vocab_size} -> {exp.vocab_size})")
    if (hf_dir / "generation_config.json").exists():
        shutil.copy(hf_dir / "generation_config.json", output)
        done.append("generation_config.json")
    done.append(_copy_expanded_tokenizer(mapping, exp, output))
    return done


def _copy_expanded_tokenizer(mapping: Path, exp: VocabExpansion, output: Path) -> str:
    """MODEL beside MODEL.expansion.json (e.g. zh.model, zh.model.expansion.json) ->
    OUTPUT/tokenizer.model, if it is the mapping's model."""
    model = mapping.with_name(mapping.name.removesuffix(".expansion.json"))
    if not model.exists():
        return f"no {model.name} beside the mapping: add the expanded tokenizer to {output} yourself"
    if sha256_file(model) != exp.model_sha256:
        raise VocabError(f"{model}: sha256 differs from the mapping's model_sha256 (a different expansion?)")
    shutil.copy(model, output / "tokenizer.model")
    return f"tokenizer.model (from {model.name})"
