"""The dedup stage's per-document work, as engine-agnostic operations on Arrow batches.

`Fingerprinter.batch` reads each document's text once and returns everything the dedup
stage compares: the URL key (`corpus_tools.urls`), a hash of the normalized text (exact dedup),
the MinHash signature and its LSH band hashes (`corpus_tools.minhash`). Everything after that
(grouping, candidate edges, connected components) works on these small columns only, so the
text is read once however many phases follow. `pipelines.dedup` runs it inside Spark tasks.
"""
from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass, field
from typing import Annotated, Literal

import numpy as np
import pyarrow as pa

from corpus_tools import config as config_lib
from corpus_tools.config import ConfigError, PositiveInt, Range
from corpus_tools.readers import InputConfig
from corpus_tools.urls import url_key

PHASES = ("url", "exact", "near")  # in the order they run; a duplicate records the one that removed it
EMPTY_SIGNATURE = np.uint32(0xFFFFFFFF)  # every slot of a text with no shingles (datasketch's max_hash)
# Quality columns recognised without configuration, and whether higher is better.
KNOWN_QUALITY_COLUMNS = (("quality_score", True), ("ppl", False), ("perplexity", False))

FINGERPRINT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("url_key", pa.string()),  # None: no URL
        pa.field("text_key", pa.binary()),  # 16-byte BLAKE2b of the normalized text
        pa.field("quality", pa.float64()),  # the quality column as given; None when absent
        pa.field("signature", pa.binary()),  # num_perm little-endian uint32; None: no shingles
        pa.field("bands", pa.list_(pa.int64())),  # one hash per band (uint64 bits); None: no shingles
    ]
)


VERIFIED_FALSE_POSITIVE_WEIGHT = 0.05  # optimal_param's weight of LSH false positives when verified


@dataclass
class DedupConfig:
    """`ziya dedup` settings; the defaults are those of the issue and of text-dedup / DataTrove."""

    input: InputConfig = field(default_factory=InputConfig)
    url: bool = True  # exact URL dedup (Ziya2 dedups by URL before content)
    exact: bool = True  # exact dedup on a hash of normalized text
    near: bool = True  # MinHash LSH near dedup
    # Estimated Jaccard similarity of shingle sets above which two documents are near duplicates,
    # and the shingle size (words, or CJK characters; see corpus_tools.minhash.shingles).
    # Measured on benchmarks/bench_dedup_accuracy.py's labelled set: editing 5% of the words
    # changes ~25% of 5-gram shingles but ~15% of 3-grams, so 3-gram copies sit well above 0.7
    # (en 5%-edited copies: J >= 0.74) while documents sharing half their text or boilerplate stay
    # below 0.49 at either size. 3-grams at 0.7 reach F1 0.976 with no hard negative merged; the
    # customary 5-grams at 0.8 (datasketch, text-dedup) reach 0.69: they only catch ~1% edits.
    threshold: Annotated[float, Range(0, 1, low_open=True)] = 0.7
    num_perm: Annotated[int, Range(2)] = 128  # permutations (signature length); DataTrove uses 14 bands x 8 rows = 112
    ngram: PositiveInt = 3
    # Base hash of a shingle: "murmur3" (MurmurHash3_x86_32, ~1.5-2x the signature throughput of
    # SHA-1 on Chinese) or "sha1" (datasketch's default). Either way signatures equal datasketch's
    # MinHash(num_perm, seed, hashfunc=MinHasher(hash=...).hashfunc).
    hash: Literal["murmur3", "sha1"] = "murmur3"
    # datasketch's default seed: signatures match datasketch.MinHash(seed=1); the range is
    # np.random.RandomState's, which draws the permutations.
    seed: Annotated[int, Range(0, 2**32 - 1)] = 1
    bands: PositiveInt | None = None  # LSH bands x rows; None: optimal_param(threshold, num_perm), see resolved()
    rows: PositiveInt | None = None
    # Check each candidate edge by the signatures' estimated Jaccard >= threshold: drops LSH
    # false positives, at the price of a join of the edges with the signatures.
    verify: bool = True
    # The representative of a group of duplicates: the best value of this column, then the
    # smallest id. "auto": the first of KNOWN_QUALITY_COLUMNS present in the input; None: smallest id.
    quality_column: str | None = "auto"
    quality_higher_is_better: bool | None = None  # None: known columns' direction, else True

    def __post_init__(self):
        if (self.bands is None) != (self.rows is None):
            raise ConfigError("give both bands and rows, or neither")
        if self.bands is not None and self.bands * self.rows > self.num_perm:
            raise ConfigError(f"bands x rows must be <= num_perm ({self.num_perm}), got {self.bands} x {self.rows}")

    @classmethod
    def from_dict(cls, data: dict | None) -> "DedupConfig":
        return config_lib.load(cls, data)

    def resolved(self) -> "DedupConfig":
        """This config with bands and rows chosen (by `optimal_param` unless given)."""
        if self.bands is not None:
            return self
        from corpus_tools.minhash import optimal_param

        # Verified candidates cost a join, not a wrong merge, so with verification on the bands
        # are chosen to miss few true pairs: at 0.8/128 this gives 16x8 instead of 9x13 (21x6 instead of 14x9 at 0.7), which
        # lifted recall on 1%-edited copies from 0.934 to ~0.98 in benchmarks/bench_dedup_accuracy.py.
        fp_weight = VERIFIED_FALSE_POSITIVE_WEIGHT if self.verify else 0.5
        bands, rows = optimal_param(self.threshold, self.num_perm, fp_weight, 1 - fp_weight)
        return DedupConfig(**{**self.__dict__, "bands": int(bands), "rows": int(rows)})

    def quality(self, columns: list[str]) -> tuple[str | None, bool]:
        """(quality column to rank by, higher is better) for an input with these columns."""
        known = dict(KNOWN_QUALITY_COLUMNS)
        name = self.quality_column
        if name == "auto":
            name = next((c for c, _ in KNOWN_QUALITY_COLUMNS if c in columns), None)
        elif name is not None and name not in columns:
            raise ConfigError(f"quality_column {name!r} is not a column of the input; columns: {columns}")
        higher = self.quality_higher_is_better
        return name, known.get(name, True) if higher is None else higher


def config_json(cfg: DedupConfig) -> str:
    return json.dumps(config_lib.to_dict(cfg), indent=2, sort_keys=True, ensure_ascii=False)


def normalize_for_exact(text: str) -> str:
    """The text as exact dedup compares it: NFKC, case-folded, runs of whitespace as one space.

    Copies that differ only in width forms, case or line wrapping are the same document.

    >>> normalize_for_exact("Hello\\u3000ＷＯＲＬＤ \\n\\n again ")
    'hello world again'
    """
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def text_key(text: str) -> bytes:
    """16-byte BLAKE2b of the normalized text (collisions: ~1e-20 at 1e9 documents)."""
    return hashlib.blake2b(normalize_for_exact(text).encode("utf-8"), digest_size=16).digest()


class Fingerprinter:
    """URL key, text key, MinHash signature and band hashes of each document of a batch."""

    def __init__(self, cfg: DedupConfig):
        from corpus_tools.minhash import MinHasher

        self.cfg = cfg.resolved()
        self.hasher = MinHasher(num_perm=cfg.num_perm, seed=cfg.seed, ngram=cfg.ngram, hash=cfg.hash)

    def batch(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """`batch` has `id` and `text`, optionally `url` and a numeric `quality`."""
        from corpus_tools.minhash import band_hashes

        names = batch.schema.names
        texts = [t or "" for t in batch.column("text").to_pylist()]
        urls = batch.column("url").to_pylist() if "url" in names else [None] * len(texts)
        quality = batch.column("quality").cast(pa.float64()) if "quality" in names else pa.nulls(len(texts), pa.float64())
        signatures = np.asarray(self.hasher.signatures(texts), dtype=np.uint32).reshape(len(texts), self.cfg.num_perm)
        bands = np.ascontiguousarray(band_hashes(signatures, self.cfg.bands, self.cfg.rows), dtype=np.uint64).view(np.int64)
        empty = (signatures == EMPTY_SIGNATURE).all(axis=1)  # no shingles: nothing to compare
        return pa.RecordBatch.from_arrays(
            [
                batch.column("id").cast(pa.string()),
                pa.array([url_key(u) for u in urls], pa.string()),
                pa.array([text_key(t) for t in texts], pa.binary()),
                quality,
                pa.array([None if e else s.tobytes() for s, e in zip(signatures, empty)], pa.binary()),
                pa.array([None if e else b for b, e in zip(bands.tolist(), empty)], pa.list_(pa.int64())),
            ],
            schema=FINGERPRINT_SCHEMA,
        )


def signatures_of(column: pa.Array, num_perm: int) -> np.ndarray:
    """A binary column of signatures as a (n, num_perm) uint32 array."""
    data = b"".join(column.to_pylist())
    return np.frombuffer(data, dtype=np.uint32).reshape(-1, num_perm)
