"""Exact SentencePiece BPE encoding through a cache of space-delimited words.

SentencePiece's BPE encoder works on the whole normalized text: every call re-merges every word,
although web text repeats the same few hundred thousand words. For English that merging is ~1.3 us
per word; a lookup is ~0.1 us. HF `tokenizers` and tiktoken cache words for the same reason, but
their pre-tokenizers define the words; SentencePiece has none, so the cache must prove that cutting
the text does not change a single id.

Why cutting before a space is exact, for the models `unsupported_reason` accepts:
  * BPE only ever merges two adjacent symbols into a piece of the vocabulary, so a merged symbol
    spanning the boundary between characters a and b would be a piece containing "ab".
  * With an identity normalizer (LLaMA-2's; no folding, no whitespace removal) the normalized text
    is "▁" + text with every " " replaced by "▁".
  * If no piece holds "▁" after another character except "▁" itself (LLaMA-2's pieces carry "▁"
    only at the start, plus runs of "▁" for indentation), no merge crosses into a "▁" that follows
    a non-"▁" character. Merges on either side of such a cut never interact, and the greedy order
    within each side is unchanged, so encoding the pieces separately gives the same ids.
So a text is cut into segments "▁"*k + word, one per word (k > 1 after runs of spaces; a run at
the end is a segment of its own), and each segment is encoded once, by the same model with
`add_dummy_prefix` off and the segment's spaces written out. Tests check the ids against
SentencePiece on the sample and benchmark corpora and on edge cases; models that fail the check
(unigram, other normalizers, user-defined pieces) are encoded by SentencePiece directly.

The work per batch is columnar (pyarrow splits and looks words up in C++, numpy gathers the ids);
Python touches only the words missing from the cache and segments after runs of spaces. Long
segments (unsegmented Chinese, URLs) are encoded every time, not cached, and the cache is cleared
when it reaches `max_entries`, so memory stays bounded.
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


class WordCacheEncoder:
    """`encode(texts) -> (flat ids, ids per text)`, the same ids as `SentencePieceProcessor.encode`."""

    def __init__(self, proto: sp_model.ModelProto, dtype: np.dtype, max_entries: int = 1 << 19,
                 max_cached_chars: int = 48, min_chars_per_space: int = 16):
        data = proto.SerializeToString()
        self.model = spm.SentencePieceProcessor(model_proto=data)
        proto = sp_model.ModelProto.FromString(data)
        proto.normalizer_spec.add_dummy_prefix = False  # segments carry their own "▁"
        self.segment_model = spm.SentencePieceProcessor(model_proto=proto.SerializeToString())
        self.dtype = np.dtype(dtype)
        self.max_entries, self.max_cached_chars = max_entries, max_cached_chars
        self.min_chars_per_space = min_chars_per_space
        self.clear()

    def clear(self) -> None:
        self.index: dict[str, int] = {}  # segment key (its word after k - 1 spaces) -> table row
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
        """Texts with spaces go through the cache; texts with few (Chinese, Japanese) would be one
        long segment each, never a hit, so SentencePiece encodes them directly."""
        texts = _as_arrow(texts)
        spaces = pc.count_substring(texts, " ").to_numpy(zero_copy_only=False)
        direct = pc.utf8_length(texts).to_numpy(zero_copy_only=False) > self.min_chars_per_space * spaces
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
        """Every segment's key (its word after k-1 spaces) and the index of its text, in order.
        Empty texts have none (SentencePiece gives them no ids)."""
        nonempty = pc.greater(pc.binary_length(texts), 0).to_numpy(zero_copy_only=False)
        words = pc.split_pattern(texts, " ")
        offsets = words.offsets.to_numpy()
        flat = words.flatten()
        word_text = np.repeat(np.arange(len(texts)), np.diff(offsets))
        empty = pc.equal(pc.binary_length(flat), 0).to_numpy(zero_copy_only=False)
        last_of_text = np.zeros(len(flat), dtype=bool)
        last_of_text[offsets[1:][np.diff(offsets) > 0] - 1] = True
        # a segment ends at every non-empty word and at the last word of a text
        ends = np.flatnonzero((~empty | last_of_text) & nonempty[word_text])
        keys = flat.take(pa.array(ends))
        starts = np.empty_like(ends)
        starts[1:] = ends[:-1] + 1
        starts[:1] = 0
        first_of_text = offsets[:-1][word_text[ends]]
        starts = np.maximum(starts, first_of_text)
        runs = ends - starts  # spaces before the segment's own "▁": k - 1
        if runs.any():
            keys = _with_leading_spaces(keys, runs)
        return keys, word_text[ends]

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
        """Encode `keys` (each as " " + key) and append their ids to the table. Long segments come
        back as numpy arrays (cheaper per id), short ones as lists (cheaper per segment)."""
        if not keys:
            return
        encoded = self.segment_model.encode([" " + k for k in keys], num_threads=num_threads,
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


def _with_leading_spaces(keys: pa.Array, runs: np.ndarray) -> pa.Array:
    """Keys of segments that follow a run of spaces get those spaces back (rare: built in Python)."""
    rows = np.flatnonzero(runs)
    spaced = [" " * int(n) + k for n, k in zip(runs[rows], keys.take(pa.array(rows)).to_pylist())]
    return pc.replace_with_mask(keys, pa.array(runs > 0), pa.array(spaced, keys.type))
