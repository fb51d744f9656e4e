"""SentencePiece tokenizers with LLaMA-2's layout: loading, checking, batched encoding.

    from corpus_tools.tokenizer import load_tokenizer
    tok = load_tokenizer()                      # the default base: mistral-common's tokenizer.model.v1
    tok = load_tokenizer("my/tokenizer.model")  # or your own (e.g. LLaMA-2's, or a `ziya tokenizer expand` output)
    ids = tok.encode_batch(["你好", "hello"])    # no BOS/EOS; the packer appends EOS itself
    tokens, lengths = tok.encode_batch_flat(texts)

LLaMA-2's layout: <unk>=0, <s>=1, </s>=2, then 256 byte-fallback pieces <0x00>..<0xFF>, so that any
character missing from the vocabulary is encoded as its UTF-8 bytes instead of <unk>. No package here
ships LLaMA-2's own model; mistral-common ships one with exactly this layout (32,000 BPE pieces), used
as the default base. A bad model file raises `TokenizerError` naming the file and what is wrong, never
a bare protobuf or C++ error.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
from typing import Iterable, Sequence

import numpy as np
import pyarrow as pa
import sentencepiece as spm
from google.protobuf.message import DecodeError
from sentencepiece import sentencepiece_model_pb2 as sp_model

from corpus_tools.shards import token_dtype  # the shard format's dtype rule; re-exported here
from corpus_tools.word_cache import WordCacheEncoder, encode_flat, unsupported_reason

DEFAULT_BASE_RELPATH = os.path.join("data", "tokenizer.model.v1")
BYTE_PIECES = tuple(f"<0x{b:02X}>" for b in range(256))


class TokenizerError(ValueError):
    """A tokenizer model that is missing, corrupt or lacks the layout we need."""


def default_base_tokenizer_path() -> str:
    """Path of mistral-common's `tokenizer.model.v1` (LLaMA-2 layout), found without importing
    mistral_common: its own dependencies are not installed, only its data file is used."""
    spec = importlib.util.find_spec("mistral_common")  # a top-level find_spec does not run __init__
    if spec is None or not spec.submodule_search_locations:
        raise TokenizerError("no default base tokenizer: the mistral-common package is not installed "
                             "(pip install mistral-common), or pass a tokenizer.model path")
    for root in spec.submodule_search_locations:
        path = os.path.join(root, DEFAULT_BASE_RELPATH)
        if os.path.isfile(path):
            return path
    raise TokenizerError(f"mistral-common is installed but has no {DEFAULT_BASE_RELPATH}")


def parse_model(data: bytes, path: str) -> sp_model.ModelProto:
    """The ModelProto of a model file's bytes; TokenizerError if it is not a whole SentencePiece model."""
    proto = sp_model.ModelProto()
    try:
        proto.ParseFromString(data)
    except DecodeError as exc:
        raise TokenizerError(f"{path}: not a SentencePiece model, or truncated/corrupt "
                             f"({len(data):,} bytes do not parse as a ModelProto: {exc})") from None
    # Fields serialize in order (pieces, trainer_spec, normalizer_spec): a file cut at a field
    # boundary still parses, but lacks the specs that come last.
    if not proto.pieces:
        raise TokenizerError(f"{path}: not a SentencePiece model (no pieces; {len(data):,} bytes)")
    if not proto.HasField("trainer_spec") or not proto.HasField("normalizer_spec"):
        raise TokenizerError(f"{path}: truncated SentencePiece model (trainer_spec or normalizer_spec "
                             f"missing after {len(proto.pieces):,} pieces)")
    return proto


def check_layout(proto: sp_model.ModelProto, path: str, require_byte_fallback: bool = False) -> None:
    """What packing relies on: an EOS piece, distinct pieces, and all 256 byte pieces when the
    model says it falls back to bytes (or when asked to require it)."""
    spec = proto.trainer_spec
    n = len(proto.pieces)
    if not 0 <= spec.eos_id < n or proto.pieces[spec.eos_id].type != sp_model.ModelProto.SentencePiece.CONTROL:
        raise TokenizerError(f"{path}: no EOS control piece (eos_id={spec.eos_id}); packing appends EOS to every document")
    if not 0 <= spec.unk_id < n or proto.pieces[spec.unk_id].type != sp_model.ModelProto.SentencePiece.UNKNOWN:
        raise TokenizerError(f"{path}: unk_id={spec.unk_id} is not an <unk> piece")
    if spec.byte_fallback or require_byte_fallback:
        byte_type = sp_model.ModelProto.SentencePiece.BYTE
        found = {p.piece for p in proto.pieces if p.type == byte_type}
        missing = [b for b in BYTE_PIECES if b not in found]
        if missing:
            why = "the model sets byte_fallback" if spec.byte_fallback else "byte fallback is required"
            raise TokenizerError(f"{path}: {why} but {len(missing)} of the 256 byte pieces are missing "
                                 f"(first: {missing[0]})")


class Tokenizer:
    """A loaded SentencePiece model: ids of the special pieces, batched encoding, decoding.

    Batches go through a word cache (corpus_tools.word_cache) when it is exact for the model:
    the same ids, 2-3x faster on English. Pickles as its model bytes, so it can be shipped to
    Spark executors."""

    def __init__(self, path: str, data: bytes, proto: sp_model.ModelProto, word_cache: bool = True):
        self.path = path
        self.sha256 = hashlib.sha256(data).hexdigest()
        self._data = data
        try:
            self.processor = spm.SentencePieceProcessor(model_proto=data)
        except RuntimeError as exc:
            raise TokenizerError(f"{path}: SentencePiece rejects the model: {exc}") from None
        self.vocab_size: int = self.processor.vocab_size()
        self.bos_id: int = self.processor.bos_id()
        self.eos_id: int = self.processor.eos_id()
        self.unk_id: int = self.processor.unk_id()
        self.pad_id: int = self.processor.pad_id()  # -1 in LLaMA-2: no padding piece
        self.byte_fallback: bool = bool(proto.trainer_spec.byte_fallback)
        self.model_type: str = sp_model.TrainerSpec.ModelType.Name(proto.trainer_spec.model_type)
        self.dtype: np.dtype = token_dtype(self.vocab_size)
        # why batches bypass the word cache (None: they use it)
        self.word_cache_off: str | None = "turned off" if not word_cache else unsupported_reason(proto)
        self.word_cache = WordCacheEncoder(proto, self.dtype) if self.word_cache_off is None else None

    def __reduce__(self):
        return (_from_bytes, (self.path, self._data, self.word_cache is not None))

    def __repr__(self) -> str:
        return (f"Tokenizer({self.path!r}, {self.model_type}, vocab_size={self.vocab_size}, "
                f"sha256={self.sha256[:12]}...)")

    @property
    def model_bytes(self) -> bytes:
        return self._data

    def model_proto(self) -> sp_model.ModelProto:
        """A fresh, mutable copy of the model's ModelProto."""
        proto = sp_model.ModelProto()
        proto.ParseFromString(self._data)
        return proto

    def encode(self, text: str) -> list[int]:
        """Ids of one text, no BOS/EOS."""
        return self.processor.encode(text)

    def encode_batch(self, texts: Sequence[str], num_threads: int = 0) -> list[list[int]]:
        """Ids of each text, no BOS/EOS, encoded by SentencePiece's C++ thread pool
        (`num_threads`=0: one thread per core)."""
        return self.processor.encode(_as_list(texts), num_threads=_threads(num_threads))

    def encode_batch_flat(self, texts, num_threads: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(all ids concatenated in text order, int64 length of each text): packing input without
        Python int lists. `texts`: strings, or a pyarrow string array (nulls encode as nothing).
        Ids come as `self.dtype` (uint16 when the vocabulary fits, else int32)."""
        if self.word_cache is not None:
            return self.word_cache.encode(texts, num_threads=_threads(num_threads))
        if isinstance(texts, (pa.Array, pa.ChunkedArray)):
            texts = [t or "" for t in texts.to_pylist()]
        return encode_flat(self.processor, _as_list(texts), _threads(num_threads), self.dtype)

    def decode(self, ids: Iterable[int] | np.ndarray) -> str:
        ids = ids.tolist() if isinstance(ids, np.ndarray) else [int(i) for i in ids]
        return self.processor.decode(ids)

    def id_to_piece(self, token_id: int) -> str:
        return self.processor.id_to_piece(int(token_id))

    def piece_to_id(self, piece: str) -> int:
        return self.processor.piece_to_id(piece)

    def chars_per_token(self, texts: Sequence[str]) -> float:
        """Characters over tokens, summed over the texts (higher = the tokenizer compresses better)."""
        texts = _as_list(texts)
        n_tokens = int(self.encode_batch_flat(texts)[1].sum())
        if n_tokens == 0:
            raise ValueError("chars_per_token of texts that encode to no tokens")
        return sum(map(len, texts)) / n_tokens


def _as_list(texts: Sequence[str]) -> list[str]:
    return texts if isinstance(texts, list) else list(texts)


def _threads(num_threads: int) -> int:
    return num_threads if num_threads > 0 else (os.cpu_count() or 1)


def _from_bytes(path: str, data: bytes, word_cache: bool = True) -> Tokenizer:
    return Tokenizer(path, data, parse_model(data, path), word_cache)


def load_tokenizer(path: str | None = None, *, require_byte_fallback: bool = False, word_cache: bool = True) -> Tokenizer:
    """Load and check a SentencePiece model file (`None`: the default base, see
    `default_base_tokenizer_path`). Raises TokenizerError for a missing, unreadable, truncated,
    corrupt or non-SentencePiece file, or one without the layout packing needs. `word_cache=False`
    encodes batches with SentencePiece alone (same ids, slower)."""
    path = default_base_tokenizer_path() if path is None else os.fspath(path)
    if not os.path.exists(path):
        raise TokenizerError(f"{path}: tokenizer model not found")
    if not os.path.isfile(path):
        raise TokenizerError(f"{path}: not a file (expected a SentencePiece tokenizer.model)")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise TokenizerError(f"{path}: cannot read tokenizer model: {exc}") from None
    if not data:
        raise TokenizerError(f"{path}: empty file, not a SentencePiece model")
    proto = parse_model(data, path)
    check_layout(proto, path, require_byte_fallback)
    return Tokenizer(path, data, proto, word_cache)
