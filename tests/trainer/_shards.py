"""Real-text shards for trainer tests, in the layout `ziya pack` + `ziya mix` write.

Documents of data/sample (People's Daily news, Python/kernel docs, Python code) are tokenized with the
project's default base tokenizer (mistral-common's LLaMA-layout SentencePiece model), EOS appended to
each, and written with megatron-core's own `IndexedDatasetBuilder` as PREFIX.bin/.idx (uint16). A
blends JSON in `ziya mix`'s format then names two stages: "general" (news + docs) and "code".
"""
from __future__ import annotations

import hashlib
import importlib.util
import io
import itertools
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"


def default_tokenizer_path() -> Path:
    spec = importlib.util.find_spec("mistral_common")
    return Path(spec.submodule_search_locations[0]) / "data" / "tokenizer.model.v1"


def read_texts(source: str, limit: int) -> list[str]:
    import zstandard

    with open(SAMPLE / f"{source}.jsonl.zst", "rb") as f:
        reader = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(f), encoding="utf-8")
        return [json.loads(line)["text"] for line in itertools.islice(reader, limit)]


def write_shard(prefix: Path, texts: list[str], sp) -> int:
    """One indexed dataset from `texts`; returns its token count."""
    import numpy as np
    import torch
    from megatron.core.datasets.indexed_dataset import IndexedDatasetBuilder

    builder = IndexedDatasetBuilder(f"{prefix}.bin", dtype=np.uint16)
    total = 0
    for ids in sp.encode(texts):
        doc = torch.tensor(ids + [sp.eos_id()], dtype=torch.int64)
        builder.add_document(doc, [len(doc)])
        total += len(doc)
    builder.finalize(f"{prefix}.idx")
    return total


def build_shards(out: Path, docs_per_source: int = 120,
                 stage_tokens: tuple[int, int] = (40_000, 40_000)) -> Path:
    """Shards of news, docs and code under out/shards and out/blends.json with two stages; returns
    the blends path."""
    import sentencepiece as spm

    tok_path = default_tokenizer_path()
    sp = spm.SentencePieceProcessor(model_file=str(tok_path))
    shards = out / "shards"
    shards.mkdir(parents=True, exist_ok=True)
    tokens = {}
    for source in ("news", "docs", "code"):
        tokens[source] = write_shard(shards / f"{source}-00000", read_texts(source, docs_per_source), sp)

    def blend(names, weights):
        return {"prefixes": [str(shards / f"{n}-00000") for n in names], "weights": weights}

    blends = {
        "recipe": "tests/trainer/_shards.py",
        "tokenizer_sha256": hashlib.sha256(tok_path.read_bytes()).hexdigest(),
        "vocab_size": sp.vocab_size(),
        "stages": [
            {"name": "general", "tokens": stage_tokens[0], "lr_rewarm": False,
             "blend": blend(["news", "docs"], [0.6, 0.4]), "sources": ["news", "docs"]},
            {"name": "code", "tokens": stage_tokens[1], "lr_rewarm": True,
             "blend": blend(["code"], [1.0]), "sources": ["code"]},
        ],
        "shard_tokens": tokens,
    }
    path = out / "blends.json"
    path.write_text(json.dumps(blends, indent=2))
    return path
