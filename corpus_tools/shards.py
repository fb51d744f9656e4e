"""Megatron indexed-dataset shards (`PREFIX.bin` + `PREFIX.idx`): a streaming writer, a reader
and a verifier, in numpy only (no megatron, no torch), byte-compatible with
`megatron.core.datasets.indexed_dataset.IndexedDataset`.

    writer = ShardWriter("out/pack/shards/news-00000", np.uint16)
    writer.add_documents(tokens, lengths)        # flat token ids, tokens per document (EOS included)
    info = writer.close()                        # ShardInfo: documents, tokens, bytes, sha256

The layout megatron-core 0.16 reads (`_IndexWriter` / `_IndexReader`):

    .bin   the token ids of every sequence, back to back, in the index's dtype
    .idx   b"MMIDIDX\\x00\\x00"                 9-byte magic
           <Q  version = 1
           <B  dtype code (uint8 1, int8 2, int16 3, int32 4, int64 5, float64 6, float32 7, uint16 8)
           <Q  sequence count S
           <Q  document-index count D (= documents + 1: it starts with 0)
           int32[S]  tokens per sequence
           int64[S]  byte offset of each sequence in .bin
           int64[D]  sequence index where each document ends, starting with 0

We write one sequence per document, so the document indices are simply 0, 1, ..., S.
Tokens stream to `.bin` as they come; only the per-document lengths (4 bytes a document) stay
in memory until `close()` writes the index, so a shard never has to fit in memory.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import posixpath
import struct
from dataclasses import asdict, dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corpus_tools import storage
from corpus_tools.config import NonNegativeInt, PositiveInt, load
from corpus_tools.readers import InputConfig

INDEX_MAGIC = b"MMIDIDX\x00\x00"
INDEX_VERSION = 1
HEADER_BYTES = len(INDEX_MAGIC) + 8 + 1 + 8 + 8  # magic, version, dtype code, two counts: 34
DTYPE_CODES = {np.dtype(np.uint8): 1, np.dtype(np.int8): 2, np.dtype(np.int16): 3, np.dtype(np.int32): 4,
               np.dtype(np.int64): 5, np.dtype(np.float64): 6, np.dtype(np.float32): 7, np.dtype(np.uint16): 8}
CODE_DTYPES = {code: dtype for dtype, code in DTYPE_CODES.items()}
MAX_SEQUENCE_TOKENS = np.iinfo(np.int32).max  # sequence lengths are int32 in the index
HASH_CHUNK = 8 << 20


class ShardError(ValueError):
    """A shard that cannot be read as an indexed dataset (bad header, sizes that disagree)."""


def token_dtype(vocab_size: int) -> np.dtype:
    """uint16 when the vocabulary has fewer than 65,536 ids, else int32 (megatron's
    `DType.optimal_dtype` makes the same choice with a slightly smaller cut-off)."""
    return np.dtype(np.uint16) if vocab_size < 1 << 16 else np.dtype(np.int32)


def bin_path(prefix: str) -> str:
    return prefix + ".bin"


def idx_path(prefix: str) -> str:
    return prefix + ".idx"


@dataclass(frozen=True)
class ShardInfo:
    """What the manifest records of one shard."""

    documents: int
    tokens: int
    dtype: str
    bin_bytes: int
    bin_sha256: str
    idx_bytes: int
    idx_sha256: str

    def to_dict(self) -> dict:
        return asdict(self)


class ShardWriter:
    """Streams documents into `prefix.bin`/`prefix.idx` (local or object store), each written whole
    by `close()` (corpus_tools.storage.AtomicOutput), so a reader never sees half a shard and a
    retried task replaces its shard whole."""

    def __init__(self, prefix: str, dtype: np.dtype | type):
        self.prefix = prefix
        self.dtype = np.dtype(dtype)
        if self.dtype not in DTYPE_CODES:
            raise ValueError(f"unsupported token dtype {self.dtype}")
        self._bin = storage.AtomicOutput(bin_path(prefix))
        self._bin_hash = hashlib.sha256()
        self._lengths: list[np.ndarray] = []
        self.documents = 0
        self.tokens = 0

    def add_documents(self, tokens: np.ndarray, lengths: np.ndarray) -> None:
        """Append documents given as flat token ids and the number of tokens of each."""
        lengths = np.asarray(lengths, dtype=np.int64)
        if int(lengths.sum()) != len(tokens):
            raise ValueError(f"lengths add up to {int(lengths.sum())} but {len(tokens)} tokens were given")
        if len(lengths) and int(lengths.max()) > MAX_SEQUENCE_TOKENS:
            raise ValueError(f"a document of {int(lengths.max())} tokens exceeds the index's int32 sequence length")
        data = np.ascontiguousarray(tokens, dtype=self.dtype).tobytes()
        self._bin.write(data)
        self._bin_hash.update(data)
        self._lengths.append(lengths.astype(np.int32))
        self.documents += len(lengths)
        self.tokens += len(tokens)

    def close(self) -> ShardInfo:
        self._bin.commit()
        lengths = np.concatenate(self._lengths) if self._lengths else np.zeros(0, np.int32)
        index = index_bytes(lengths, self.dtype)
        storage.write_atomically(idx_path(self.prefix), index)
        return ShardInfo(documents=self.documents, tokens=self.tokens, dtype=self.dtype.name,
                         bin_bytes=self.tokens * self.dtype.itemsize, bin_sha256=self._bin_hash.hexdigest(),
                         idx_bytes=len(index), idx_sha256=hashlib.sha256(index).hexdigest())

    def abort(self) -> None:
        self._bin.abort()


def index_bytes(lengths: np.ndarray, dtype: np.dtype) -> bytes:
    """The `.idx` content for one document per sequence with these token counts."""
    count = len(lengths)
    pointers = np.zeros(count, dtype=np.int64)
    np.cumsum(lengths[:-1].astype(np.int64) * np.dtype(dtype).itemsize, out=pointers[1:])
    header = INDEX_MAGIC + struct.pack("<QBQQ", INDEX_VERSION, DTYPE_CODES[np.dtype(dtype)], count, count + 1)
    return b"".join([header, lengths.astype("<i4").tobytes(), pointers.astype("<i8").tobytes(),
                     np.arange(count + 1, dtype="<i8").tobytes()])


# ---------------------------------------------------------------- reading

class ShardReader:
    """A shard's index and memory-mapped tokens, with sizes checked against each other."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.dtype, self.lengths, self.pointers, self.document_indices = read_index(idx_path(prefix))
        self.tokens = self._map_tokens()

    def _map_tokens(self) -> np.ndarray:
        path = bin_path(self.prefix)
        size = os.path.getsize(path)
        expected = int(self.lengths.sum(dtype=np.int64)) * self.dtype.itemsize
        if size != expected:
            raise ShardError(f"{path}: {size} bytes, but its index describes {expected} "
                             f"({int(self.lengths.sum(dtype=np.int64))} {self.dtype.name} tokens)")
        if size == 0:
            return np.zeros(0, dtype=self.dtype)
        return np.memmap(path, dtype=self.dtype, mode="r")

    def __len__(self) -> int:
        return len(self.lengths)

    def document(self, i: int) -> np.ndarray:
        start = self.pointers[i] // self.dtype.itemsize
        return self.tokens[start:start + self.lengths[i]]


def read_index(path: str) -> tuple[np.dtype, np.ndarray, np.ndarray, np.ndarray]:
    """(dtype, lengths, pointers, document indices) of an `.idx` file, checking that its size,
    counts, pointers and document indices are consistent."""
    return parse_index(storage.read_bytes(path), path)


def parse_index(data: bytes, path: str) -> tuple[np.dtype, np.ndarray, np.ndarray, np.ndarray]:
    if len(data) < HEADER_BYTES or data[:len(INDEX_MAGIC)] != INDEX_MAGIC:
        raise ShardError(f"{path}: not a Megatron index (bad magic or shorter than its {HEADER_BYTES}-byte header)")
    version, code, sequences, doc_entries = struct.unpack_from("<QBQQ", data, len(INDEX_MAGIC))
    if version != INDEX_VERSION:
        raise ShardError(f"{path}: index version {version}, expected {INDEX_VERSION}")
    if code not in CODE_DTYPES:
        raise ShardError(f"{path}: unknown dtype code {code}")
    expected = HEADER_BYTES + sequences * (4 + 8) + doc_entries * 8
    if len(data) != expected:
        raise ShardError(f"{path}: {len(data)} bytes, but its header ({sequences} sequences, "
                         f"{doc_entries} document entries) needs {expected} (truncated or padded)")
    dtype = CODE_DTYPES[code]
    lengths = np.frombuffer(data, "<i4", sequences, HEADER_BYTES)
    pointers = np.frombuffer(data, "<i8", sequences, HEADER_BYTES + 4 * sequences)
    documents = np.frombuffer(data, "<i8", doc_entries, HEADER_BYTES + 12 * sequences)
    _check_index(path, dtype, lengths, pointers, documents)
    return dtype, lengths, pointers, documents


def _check_index(path: str, dtype: np.dtype, lengths, pointers, documents) -> None:
    if (lengths < 0).any():
        raise ShardError(f"{path}: negative sequence length")
    expected_pointers = np.concatenate([[0], np.cumsum(lengths[:-1], dtype=np.int64) * dtype.itemsize]) if len(lengths) else pointers
    if not np.array_equal(pointers, expected_pointers):
        raise ShardError(f"{path}: sequence pointers are not the running sum of the sequence lengths")
    if not len(documents) or documents[0] != 0 or documents[-1] != len(lengths) or (np.diff(documents) < 0).any():
        raise ShardError(f"{path}: document indices must rise from 0 to the sequence count {len(lengths)}")


# ---------------------------------------------------------------- verification

def verify_shard(prefix: str, expected: dict, vocab_size: int) -> list[str]:
    """Problems of one shard (local or object store) against its manifest entry (`expected`, a
    ShardInfo dict); [] if none.

    Checks, cheapest first: both files exist and their sizes match the manifest; the index's
    sha256, then its consistency, dtype and counts; then one streamed pass over .bin (bounded
    memory) for its sha256 and every token id < vocab_size."""
    problems = []
    for path, key in ((bin_path(prefix), "bin"), (idx_path(prefix), "idx")):
        name = storage.basename(path)
        if not storage.exists(path):
            problems.append(f"{name} is missing")
        elif storage.size(path) != expected[f"{key}_bytes"]:
            problems.append(f"{name} is {storage.size(path)} bytes, manifest says {expected[f'{key}_bytes']}")
    if any("missing" in p for p in problems):
        return problems
    index = storage.read_bytes(idx_path(prefix))
    problems += _digest_problem(storage.basename(idx_path(prefix)), hashlib.sha256(index).hexdigest(), expected["idx_sha256"])
    try:
        dtype, lengths, _, _ = parse_index(index, idx_path(prefix))
    except ShardError as exc:
        return problems + [f"unreadable: {exc}"]
    tokens = int(lengths.sum(dtype=np.int64))
    if storage.size(bin_path(prefix)) != tokens * dtype.itemsize:
        return problems + [f"unreadable: {bin_path(prefix)}: {storage.size(bin_path(prefix))} bytes, but its index "
                           f"describes {tokens * dtype.itemsize} ({tokens} {dtype.name} tokens)"]
    if dtype.name != expected["dtype"]:
        problems.append(f"dtype {dtype.name}, manifest says {expected['dtype']}")
    if len(lengths) != expected["documents"]:
        problems.append(f"{len(lengths)} documents, manifest says {expected['documents']}")
    if tokens != expected["tokens"]:
        problems.append(f"{tokens} tokens, manifest says {expected['tokens']}")
    digest, bad = scan_tokens(bin_path(prefix), dtype, vocab_size)
    problems += _digest_problem(storage.basename(bin_path(prefix)), digest, expected["bin_sha256"])
    if bad:
        problems.append(f"{bad[0]} token ids >= vocab size {vocab_size} (first at token {bad[1]}, id {bad[2]})")
    return problems


def _digest_problem(name: str, digest: str, expected: str) -> list[str]:
    return [] if digest == expected else [f"{name} sha256 {digest[:12]}... differs from the manifest's "
                                          f"{expected[:12]}... (corrupted)"]


def scan_tokens(path: str, dtype: np.dtype, vocab_size: int) -> tuple[str, tuple[int, int, int] | None]:
    """(sha256 of the file, out-of-vocabulary ids as `count_out_of_vocab` gives them), in one
    streamed pass of HASH_CHUNK bytes at a time (a whole number of tokens)."""
    h, count, first, position = hashlib.sha256(), 0, None, 0
    chunk = HASH_CHUNK - HASH_CHUNK % dtype.itemsize
    with storage.open_input(path) as f:
        while data := f.read(chunk):
            h.update(data)
            bad = count_out_of_vocab(np.frombuffer(data, dtype=dtype), vocab_size)
            if bad:
                count += bad[0]
                first = first or (position + bad[1], bad[2])
            position += len(data) // dtype.itemsize
    return h.hexdigest(), ((count, *first) if count else None)


def count_out_of_vocab(tokens: np.ndarray, vocab_size: int, chunk: int = 1 << 24) -> tuple[int, int, int] | None:
    """(how many, first position, first id) of token ids outside [0, vocab_size), else None."""
    count, first = 0, None
    for start in range(0, len(tokens), chunk):
        block = np.asarray(tokens[start:start + chunk]).astype(np.int64)
        bad = np.flatnonzero((block >= vocab_size) | (block < 0))
        if len(bad):
            count += len(bad)
            if first is None:
                first = (start + int(bad[0]), int(block[bad[0]]))
    return (count, *first) if count else None


# ---------------------------------------------------------------- config

DEFAULT_SHARD_TOKENS = 100_000_000  # 200 MB of uint16 per shard: many shards per source on a real corpus


@dataclass
class PackConfig:
    """`ziya pack`'s settings (TOML/JSON via corpus_tools.config.load; CLI flags override)."""

    input: InputConfig = field(default_factory=InputConfig)
    tokenizer: str | None = None  # a SentencePiece model path; None: the default base (see corpus_tools.tokenizer)
    # A shard holds at most this many tokens plus one document: a document is never split across
    # shards, so the document that crosses the limit ends its shard (an over-long one makes it larger).
    shard_tokens: PositiveInt = DEFAULT_SHARD_TOKENS
    # SentencePiece threads per task (0: one per core): Spark already runs one task per core
    encode_threads: NonNegativeInt = 1

    @classmethod
    def from_dict(cls, data: dict | None) -> "PackConfig":
        return load(cls, data, "pack")


def resolved_config(cfg: PackConfig, tokenizer) -> dict:
    """The config a pack ran with, its tokenizer pinned by path, hash and size (saved as config.json
    and in the manifest; a rerun with another model under the same path is a different run)."""
    data = asdict(cfg)
    data["tokenizer"] = {"path": os.path.abspath(tokenizer.path), "sha256": tokenizer.sha256,
                         "vocab_size": tokenizer.vocab_size, "eos_id": tokenizer.eos_id, "bos_id": tokenizer.bos_id}
    data["dtype"] = token_dtype(tokenizer.vocab_size).name
    return data


# ---------------------------------------------------------------- documents to tokens

EMPTY = "empty"  # drop reason: no text, or only whitespace (LLaMA's model would encode it as "▁" pieces)


@functools.cache
def _whitespace_only() -> str:
    """An RE2 pattern for text made only of characters str.isspace() accepts, so Arrow input is
    judged exactly as Python's (built on first use: scanning every code point takes ~75 ms)."""
    return "^[" + "".join(f"\\x{{{ord(c):x}}}" for c in map(chr, range(0x110000)) if c.isspace()) + "]+$"


def encode_documents(tokenizer, texts, num_threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(flat token ids with EOS after every non-empty document, tokens per document incl. EOS).

    `texts`: a list, or a pyarrow string array (never converted to Python strings). One batched
    encoder call for all texts; EOS is inserted with one vectorized `np.insert`. An empty
    document (missing, blank or whitespace only) gets length 0 and no EOS: the caller counts it as
    `empty` and packs nothing for it."""
    if isinstance(texts, (pa.Array, pa.ChunkedArray)):
        blank = pc.or_kleene(pc.is_null(texts), pc.match_substring_regex(texts, _whitespace_only()))
        present = pc.if_else(pc.fill_null(blank, True), "", texts)
    else:
        present = [t if isinstance(t, str) and not t.isspace() else "" for t in texts]
    tokens, lengths = tokenizer.encode_batch_flat(present, num_threads=num_threads)
    nonempty = lengths > 0
    ends = np.cumsum(lengths)[nonempty]
    with_eos = np.insert(tokens, ends, np.asarray(tokenizer.eos_id, dtype=tokens.dtype))
    return with_eos, lengths + nonempty


# ---------------------------------------------------------------- a whole pack against its manifest

MANIFEST = "manifest.json"


@dataclass
class VerifyReport:
    """One line per shard and per pack-level check; `ok` only when nothing failed."""

    lines: list
    failures: int
    shards: int

    @property
    def ok(self) -> bool:
        return self.failures == 0


def load_manifest(pack_dir: str) -> dict:
    path = storage.join(storage.resolve(pack_dir), MANIFEST)
    try:
        return storage.read_json(path)
    except FileNotFoundError:
        raise ShardError(f"{path} not found: is {pack_dir} the output of `ziya pack`?") from None
    except ValueError as exc:
        raise ShardError(f"{path}: not valid JSON ({exc})") from None


def verify_pack(pack_dir: str) -> VerifyReport:
    """Check every shard of a pack against its manifest.json, plus the manifest's own totals
    and any shard file on disk that the manifest does not list."""
    manifest = load_manifest(pack_dir)
    pack_dir = storage.resolve(pack_dir)
    vocab_size = manifest["tokenizer"]["vocab_size"]
    lines, failures = [], 0
    for entry in manifest["shards"]:
        problems = verify_shard(storage.join(pack_dir, entry["prefix"]), entry, vocab_size)
        failures += bool(problems)
        status = "FAIL" if problems else "ok  "
        lines.append(f"{status} {entry['prefix']}  {entry['source']}  {entry['documents']:,} docs  "
                     f"{entry['tokens']:,} tokens" + ("".join(f"\n       - {p}" for p in problems)))
    for problem in _pack_level_problems(pack_dir, manifest):
        failures += 1
        lines.append(f"FAIL {problem}")
    return VerifyReport(lines, failures, len(manifest["shards"]))


def _pack_level_problems(pack_dir: str, manifest: dict) -> list[str]:
    problems = []
    for source, total in manifest["sources"].items():
        shards = [s for s in manifest["shards"] if s["source"] == source]
        for key in ("documents", "tokens"):
            found = sum(s[key] for s in shards)
            if found != total[key]:
                problems.append(f"source {source}: shards hold {found:,} {key}, its total says {total[key]:,}")
    listed = {posixpath.normpath(s["prefix"]) + ext for s in manifest["shards"] for ext in (".bin", ".idx")}
    shard_dirs = {posixpath.dirname(s["prefix"]) for s in manifest["shards"]}
    for directory in sorted(shard_dirs):
        for path, _ in storage.list_files(storage.join(pack_dir, directory)):
            rel = posixpath.join(directory, storage.basename(path))
            if rel.endswith((".bin", ".idx")) and rel not in listed:
                problems.append(f"{rel} is not listed in the manifest")
    return problems
