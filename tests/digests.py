"""What a stage wrote, reduced to values two runs can be compared by: its counts, its drop
reasons and a sha256 of its kept documents (sorted (id, text) pairs) or, for a pack, of its
shards' checksums. Read through corpus_tools.storage, so local, s3:// and cluster outputs compare
alike."""
from __future__ import annotations

import hashlib
import json

from corpus_tools import storage

COUNTS = ("input", "documents", "kept", "rejected", "quarantined", "duplicates", "duplicates_by_phase", "packed",
          "tokens", "shards")


def sha256_of(value) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def kept_sha256(stage_dir: str) -> str:
    """sha256 of the sorted (id, text) pairs in `stage_dir`/kept/*.parquet."""
    pairs = []
    for path in storage.parquet_parts(storage.join(stage_dir, "kept")):
        table = storage.parquet_file(path).read(columns=["id", "text"])
        pairs += zip(table["id"].to_pylist(), table["text"].to_pylist())
    return sha256_of(sorted(pairs))


def manifest_sha256(pack_dir: str) -> str:
    """sha256 of a pack's shards (name, counts, checksums, in manifest order) and totals."""
    manifest = storage.read_json(storage.join(pack_dir, "manifest.json"))
    shards = [[s["prefix"], s["documents"], s["tokens"], s["bin_sha256"], s["idx_sha256"]] for s in manifest["shards"]]
    return sha256_of({"shards": shards, "totals": manifest["totals"]})


def stage_digest(stage_dir: str) -> dict:
    stats = storage.read_json(storage.join(stage_dir, "stats.json"))
    digest = {k: stats[k] for k in COUNTS if k in stats}
    digest["drops"] = {k: v for k, v in stats.get("counters", {}).items() if k.startswith("drop/")}
    if storage.exists(storage.join(stage_dir, "manifest.json")):
        digest["manifest_sha256"] = manifest_sha256(stage_dir)
    else:
        digest["kept_sha256"] = kept_sha256(stage_dir)
    return digest
