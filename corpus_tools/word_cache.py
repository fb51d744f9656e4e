"""Exact SentencePiece BPE encoding through a cache of text segments (words, punctuation, digits).

SentencePiece's BPE encoder works on the whole normalized text: every call re-merges every word,
although web text repeats the same few hundred thousand words. For English that merging is ~1.3 us
per word; a lookup is ~0.1 us. HF `tokenizers` and tiktoken cache words for the same reason, but
their pre-tokenizers define the words; SentencePiece has none, so the cache must prove that cutting
the text does not change a single id.

Why a cut between characters a and b is exact when no piece of the vocabulary holds "ab":
  * BPE only ever merges two adjacent symbols into a piece of the vocabulary, so a merged symbol
    spanning the cut would be a piece containing "ab". No merge crosses the cut, merges on either
    side never interact, and the greedy order within each side is unchanged, so encoding the two
    sides separately gives the same ids.
  * With an identity normalizer (LLaMA-2's; no folding, no whitespace removal) the text BPE sees is
    "▁" + text with every " " replaced by "▁", so the pairs can be read off the raw text.
The cuts used (`safe_cuts`): before a space that follows any character but a space or "▁" (the
models `unsupported_reason` accepts have no piece with "▁" after another character, except runs of
"▁"), and between two ASCII characters that no piece holds side by side. For LLaMA-2 that cuts
"Sphinx," into "Sphinx" and ",", "1234" into digits, "(word" after "(": the cache holds words
without their punctuation, about a third as many distinct entries as whole space-delimited words.
Each segment is encoded once, by the same model with `add_dummy_prefix` off and the dummy prefix
written out. Tests check the ids against SentencePiece on the sample and benchmark corpora, random
ASCII and whitespace edge cases; models that fail the check (unigram, other normalizers,
user-defined pieces) are encoded by SentencePiece directly.

The work per batch is columnar (numpy finds the cuts in the UTF-8 buffer, pyarrow looks segments up
in C++, numpy gathers the ids); Python touches only the segments missing from the cache. Long
segments (unsegmented Chinese, URLs) are encoded every time, not cached, and when the cache reaches
`max_entries` it keeps the recently used half, so memory stays bounded.
"""
from __future__ import annotations

from itertools import chain, repeat

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as sp_model

SPACE = "\u2581"  # SentencePiece's visible space
Piece = sp_model.ModelProto.SentencePiece


def unsupported_reason(proto: sp_model.ModelProto) -> str | None:
    """Why the word cache would not be exact for this model, or None when it is."""
    norm, spec = proto.normalizer_spec, proto.trainer_spec
    if spec.model_type != sp_model.TrainerSpec.BPE:
        return "not a BPE model"
    if norm.name != "identity" or norm.precompiled_charsmap or norm.normalization_rule_tsv:
        return f"normalizer {norm.name!r} rewrites text"
    if (norm.remove_extra_whitespaces or not norm.escape_whitespaces or spec.treat_whitespace_as_suffix
            or not norm.add_dummy_prefix):
        return "whitespace is not plain '▁' prefixes"
    if any(p.type == Piece.USER_DEFINED for p in proto.pieces):
        return "user-defined pieces are matched before BPE"
    for p in proto.pieces:
        text = p.piece
        if any(c == SPACE and prev != SPACE for prev, c in zip(text, text[1:])):
            return f"piece {text!r} joins a character to a following '▁'"
    return None


def safe_cuts(proto: sp_model.ModelProto) -> np.ndarray:
    """Where a text may be cut, as a table over pairs of UTF-8 bytes: entry (a << 8) | b says that
    cutting between byte a and a following byte b cannot change an id. True for two ASCII characters
    that no piece holds side by side ("▁" standing for a space: "d," or "3" then "4" for LLaMA-2),
    and for a space after any byte but a space or the last byte of "▁" (U+2581 is E2 96 81; other
    characters ending in 0x81 lose that cut too, which costs a cache hit, never an id)."""
    joined = {pair for p in proto.pieces if p.type in (Piece.NORMAL, Piece.UNUSED)
              for pair in zip(p.piece, p.piece[1:])}
    table = np.zeros(1 << 16, dtype=bool)
    ascii_ = [chr(c) if c != 32 else SPACE for c in range(128)]
    for a in range(128):
        for b in range(128):
            table[a << 8 | b] = (ascii_[a], ascii_[b]) not in joined
    table[np.arange(256) << 8 | 32] = True  # `unsupported_reason` rules out pieces with "x▁"
    table[32 << 8 | 32] = table[0x81 << 8 | 32] = False
    return table


class WordCacheEncoder:
    """`encode(texts) -> (flat ids, ids per text)`, the same ids as `SentencePieceProcessor.encode`."""

    def __init__(self, proto: sp_model.ModelProto, dtype: np.dtype, max_entries: int = 1 << 19,
                 max_cached_chars: int = 48, min_chars_per_space: int = 16):
        data = proto.SerializeToString()
        self.model = spm.SentencePieceProcessor(model_proto=data)
        proto = sp_model.ModelProto.FromString(data)
        proto.normalizer_spec.add_dummy_prefix = False  # segments carry their own "▁"
        self.segment_model = spm.SentencePieceProcessor(model_proto=proto.SerializeToString())
        self.safe_cuts = safe_cuts(proto)
        self.dtype = np.dtype(dtype)
        self.max_entries, self.max_cached_chars = max_entries, max_cached_chars
        self.min_chars_per_space = min_chars_per_space
        self.clear()

    def clear(self) -> None:
        self.index: dict[str, int] = {}  # segment (its text, leading spaces included) -> table row
        self.keys: list[str] = []  # the cached keys in row order
        self.last_used = np.zeros(0, dtype=np.int64)  # per cached row: the last batch that used it
        self.batches = 0
        self.entries = 0
        self.ids = np.zeros(1 << 16, dtype=self.dtype)  # every entry's ids, back to back
        self.used = 0
        self.starts = np.zeros(0, dtype=np.int64)
        self.lengths = np.zeros(0, dtype=np.int64)
        self.transient_from: tuple[int, int] | None = None  # (entries, used) before this batch's long segments

    # ---------------------------------------------------------------- the batch

    def encode(self, texts, num_threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Texts with spaces go through the cache. Chinese and Japanese would be long segments,
        rarely a hit, and SentencePiece is fast on them anyway (mostly a piece per character, ~4x
        its MB/s on English), so texts with few spaces, or more than half their characters three
        bytes or more long in UTF-8, go to SentencePiece directly."""
        texts = _as_arrow(texts)
        spaces = pc.count_substring(texts, " ").to_numpy(zero_copy_only=False)
        chars = pc.utf8_length(texts).to_numpy(zero_copy_only=False)
        nbytes = pc.binary_length(texts).to_numpy(zero_copy_only=False)
        direct = (chars > self.min_chars_per_space * spaces) | (nbytes - chars > nbytes // 2)
        if not direct.any():
            return self.encode_cached(texts, num_threads)
        if direct.all():
            return self.encode_direct(texts, num_threads)
        parts = [self.encode_cached(texts.filter(pa.array(~direct)), num_threads),
                 self.encode_direct(texts.filter(pa.array(direct)), num_threads)]
        rows = [np.flatnonzero(~direct), np.flatnonzero(direct)]
        lengths = np.empty(len(texts), dtype=np.int64)
        starts = np.empty(len(texts), dtype=np.int64)  # where each text's ids start in `both`
        for (ids, n), r, base in zip(parts, rows, (0, len(parts[0][0]))):
            lengths[r] = n
            starts[r] = base + np.cumsum(n) - n
        both = np.concatenate([parts[0][0], parts[1][0]])
        return both[_ranges(starts, lengths)], lengths

    def encode_direct(self, texts: pa.Array, num_threads: int) -> tuple[np.ndarray, np.ndarray]:
        return encode_flat(self.model, texts.to_pylist(), num_threads, self.dtype)

    def encode_cached(self, texts: pa.Array, num_threads: int) -> tuple[np.ndarray, np.ndarray]:
        keys, key_text = self.segments(texts)
        codes = self.lookup(keys, num_threads)
        lengths = self.lengths[codes]
        flat = self.ids[_ranges(self.starts[codes], lengths)]
        per_text = np.bincount(key_text, weights=lengths, minlength=len(texts)).astype(np.int64)
        self.drop_transient()
        return flat, per_text

    def segments(self, texts: pa.Array) -> tuple[pa.Array, np.ndarray]:
        """Every segment of the texts as SentencePiece sees them (" " + text) and the index of its
        text, in order. A segment starts at each text and at every safe cut (`safe_cuts`); the
        segments are slices of one buffer, so Python never touches a word. Empty texts have none
        (SentencePiece gives them no ids)."""
        spaced = pc.binary_join_element_wise(" ", texts, "")  # the dummy prefix, written out
        width = np.int64 if pa.types.is_large_string(spaced.type) else np.int32
        _, offsets_buffer, data_buffer = spaced.buffers()
        offsets = np.frombuffer(offsets_buffer, width)[spaced.offset:spaced.offset + len(spaced) + 1]
        lo, hi = int(offsets[0]), int(offsets[-1])
        body = np.frombuffer(data_buffer, np.uint8)[lo:hi]
        starts = np.zeros(hi - lo, dtype=bool)
        starts[1:] = self.safe_cuts[(body[:-1].astype(np.uint16) << 8) | body[1:]]
        starts[offsets[:-1] - lo] = True
        starts = np.flatnonzero(starts) + lo
        bounds = pa.py_buffer(np.append(starts, hi).astype(width))
        keys = pa.Array.from_buffers(spaced.type, len(starts), [None, bounds, data_buffer])
        key_text = np.searchsorted(offsets, starts, side="right") - 1
        empty = (np.diff(offsets) == 1)[key_text]  # " " alone: the text was empty
        if empty.any():
            keys, key_text = keys.filter(pa.array(~empty)), key_text[~empty]
        return keys, key_text

    def lookup(self, keys: pa.Array, num_threads: int) -> np.ndarray:
        """Table row of every key; missing keys are encoded first (long ones only for this batch).
        Arrow finds the batch's distinct keys; only those meet the Python dict."""
        encoded = pc.dictionary_encode(keys)
        distinct = encoded.dictionary.to_pylist()
        rows = self.rows_of(distinct)
        missing = np.flatnonzero(rows < 0)
        if self.entries + len(missing) > self.max_entries:  # full: keep the recently used half
            self.compact(self.max_entries // 2)
            rows = self.rows_of(distinct)
            missing = np.flatnonzero(rows < 0)
        self.last_used[rows[rows >= 0]] = self.batches
        self.batches += 1
        if len(missing):
            new = [distinct[i] for i in missing]
            short = np.fromiter(map(len, new), dtype=np.int64, count=len(new)) <= self.max_cached_chars
            if self.entries + short.sum() > self.max_entries:  # a batch with more words than the cache holds
                short[:] = False
            order = np.concatenate([missing[short], missing[~short]])
            cached = [distinct[i] for i in missing[short]]
            first = self.entries
            self.add(cached, num_threads)
            self.index.update(zip(cached, range(first, self.entries)))
            self.keys += cached
            self.last_used = np.concatenate([self.last_used, np.full(len(cached), self.batches - 1)])
            self.transient_from = (self.entries, self.used)
            self.add([distinct[i] for i in missing[~short]], num_threads, long=True)
            rows[order] = np.arange(first, self.entries)
        return rows[encoded.indices.to_numpy()]

    def rows_of(self, distinct: list[str]) -> np.ndarray:
        return np.fromiter(map(self.index.get, distinct, repeat(-1)), dtype=np.int64, count=len(distinct))

    def compact(self, keep: int) -> None:
        """Keep the `keep` most recently used entries (web text's frequent words), drop the rest."""
        kept = np.sort(np.argsort(-self.last_used, kind="stable")[:keep])
        lengths = self.lengths[kept]
        ids = self.ids[_ranges(self.starts[kept], lengths)]
        self.ids = np.zeros(max(1 << 16, 2 * len(ids)), dtype=self.dtype)
        self.ids[:len(ids)] = ids
        self.used, self.entries = len(ids), len(kept)
        self.lengths, self.starts = lengths, np.cumsum(lengths) - lengths
        self.keys = [self.keys[i] for i in kept]
        self.index = dict(zip(self.keys, range(len(kept))))
        self.last_used = self.last_used[kept]

    def add(self, keys: list[str], num_threads: int, long: bool = False) -> None:
        """Encode `keys` and append their ids to the table. Long segments come
        back as numpy arrays (cheaper per id), short ones as lists (cheaper per segment)."""
        if not keys:
            return
        encoded = self.segment_model.encode(keys, num_threads=num_threads,
                                            **({"return_type": "numpy"} if long else {}))
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        total = int(lengths.sum())
        if self.used + total > len(self.ids):
            grown = np.zeros(max(2 * len(self.ids), self.used + total), dtype=self.dtype)
            grown[:self.used] = self.ids[:self.used]
            self.ids = grown
        self.ids[self.used:self.used + total] = (np.concatenate(encoded) if long else
                                                 np.fromiter(chain.from_iterable(encoded), dtype=self.dtype, count=total))
        self.starts = np.concatenate([self.starts[:self.entries], self.used + np.cumsum(lengths) - lengths])
        self.lengths = np.concatenate([self.lengths[:self.entries], lengths])
        self.used += total
        self.entries += len(keys)

    def drop_transient(self) -> None:
        """Forget the long segments of the batch just encoded (their rows follow the cached ones)."""
        if self.transient_from is not None:
            self.entries, self.used = self.transient_from
            self.starts, self.lengths = self.starts[:self.entries], self.lengths[:self.entries]
            self.transient_from = None


def encode_flat(processor: spm.SentencePieceProcessor, texts: list[str], num_threads: int,
                dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """SentencePiece alone: (all ids concatenated in text order as `dtype`, int64 length of each)."""
    arrays = processor.encode(texts, num_threads=num_threads, return_type="numpy")
    lengths = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
    if not arrays:
        return np.zeros(0, dtype=dtype), lengths
    return np.concatenate(arrays).astype(dtype, copy=False), lengths


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices starts[0] .. starts[0]+lengths[0]-1, starts[1] .., concatenated: one fancy
    index gathers many slices."""
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if len(ends) else 0
    return np.repeat(starts - (ends - lengths), lengths) + np.arange(total, dtype=np.int64)


def _as_arrow(texts) -> pa.Array:
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if not isinstance(texts, pa.Array):
        texts = pa.array(texts, pa.string())
    if texts.null_count:
        texts = texts.fill_null("")
    return texts
