"""MinHash signatures, LSH bands and their parameters: the math of near-duplicate detection.

Pure functions on plain Python and numpy data; `pipelines/dedup.py` wires them into Spark.

Shingles. One scheme serves Chinese and space-separated languages. The text is lowercased,
then cut into tokens: each CJK character (Han, kana, Hangul) is a token, and so is each run of
other characters that are neither whitespace, punctuation (\\p{P}, plus the markup
punctuation ``#*_{}[]\\/@&%``) nor control/unassigned code points; punctuation and spaces only
separate tokens. A shingle is `ngram` consecutive tokens joined by one space, as UTF-8 bytes:
character n-grams over Chinese, word n-grams over English, and both at once across a
boundary ("用Python编程" is the four tokens 用, python, 编, 程). A text with fewer than
`ngram` tokens gives one shingle of all its tokens, so short texts still have a signature; a
text with no tokens gives none (its signature is all 0xFFFFFFFF, as an empty datasketch MinHash).

>>> shingles("Hello, World! Hello world.", ngram=2)
[b'hello world', b'world hello']
>>> shingles("你好，世界！", ngram=2)
[b'\\xe4\\xbd\\xa0 \\xe5\\xa5\\xbd', b'\\xe5\\xa5\\xbd \\xe4\\xb8\\x96', b'\\xe4\\xb8\\x96 \\xe7\\x95\\x8c']
>>> [s.decode() for s in shingles("用Python编程", ngram=3)]
['用 python 编', 'python 编 程']

Signatures are datasketch 2.x's MinHash (scheme "affine32") bit for bit, with its default hash
function `sha1_hash32` (``MinHasher(hash="sha1")``) or with ``hashfunc=murmur3_32``
(``hash="murmur3"``, what `ziya dedup` uses: hashing is most of a signature's cost). With SHA-1: the permutations come from ``np.random.RandomState(seed)`` as
datasketch draws them, each shingle's base hash is the first 4 bytes of its SHA-1 (little
endian), pre-mixed with the MurmurHash3 finalizer, then permuted with ``a * h + b mod 2**32``.
So a signature can be wrapped in ``datasketch.LeanMinHash(seed=seed, hashvalues=sig,
scheme="affine32")`` and mixed with datasketch's own sketches and `MinHashLSH`.

>>> hasher = MinHasher(num_perm=4, ngram=2)
>>> hasher.signature("Hello, World! Hello world.")
array([ 204178436, 2693898602, 1018954618, 1329709436], dtype=uint32)

Speed. Nothing loops over characters or shingles in Python. A chunk of texts is decoded once
into code points, classed by one table lookup (`text.char_class_table`); token and shingle
boundaries are numpy operations; SHA-1 runs in numpy over all shingles of the chunk at once
(`sha1_hash32`; a `hashlib` call per shingle would cost more than all the rest); the
permutation step is ``(num_perm, shingles)`` uint32 arithmetic with a segmented min.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np

from corpus_tools.text import CJK, CONTROL, MARKUP_PUNCTUATION, PUNCT, SPACE, _TABLE_SIZE, char_class_table

MAX_HASH = np.uint32(0xFFFFFFFF)  # the value of every slot of an empty set's signature

# Token kinds of a code point (one table lookup per character).
_SEPARATOR, _WORD_CHAR, _CJK_CHAR = 0, 1, 2
# Documents are tokenized and hashed in chunks of about this many characters (~30k shingles):
# large enough to amortize numpy's per-call cost, small enough to bound memory (the
# (num_perm, shingles) uint32 matrix of the permutation step, ~15 MB at 128 permutations, and
# the (80, shingles) SHA-1 message schedule, ~10 MB).
_CHUNK_CHARS = 1 << 17
# A longer text is hashed and permuted in blocks of this many shingles.
_BLOCK_SHINGLES = 1 << 15
_SHA1 = hashlib.sha1


@cache
def _token_kinds() -> np.ndarray:
    """Kind of every code point below U+40000; larger ones are looked up as U+3FFFF
    (unassigned, a separator)."""
    classes = char_class_table()
    kinds = np.full(_TABLE_SIZE, _WORD_CHAR, dtype=np.uint8)
    kinds[np.isin(classes, (SPACE, PUNCT, CONTROL))] = _SEPARATOR
    kinds[[ord(c) for c in MARKUP_PUNCTUATION]] = _SEPARATOR
    kinds[classes == CJK] = _CJK_CHAR
    return kinds


def joined_codepoints(texts: list[str]) -> np.ndarray:
    """The code points of `texts` joined by "\\n" (a separator, so no token spans two texts)."""
    return np.frombuffer("\n".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _token_marks(cp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(in a token, first of its token, last of its token) for every code point: a CJK character
    is a token by itself; other token characters run until a separator or CJK."""
    kind = _token_kinds()[np.minimum(cp, _TABLE_SIZE - 1)]
    prev, nxt = np.full_like(kind, _SEPARATOR), np.full_like(kind, _SEPARATOR)
    prev[1:], nxt[:-1] = kind[:-1], kind[1:]
    in_token = kind != _SEPARATOR
    splits_before = (prev == _SEPARATOR) | (kind == _CJK_CHAR) | (prev == _CJK_CHAR)
    splits_after = (nxt == _SEPARATOR) | (kind == _CJK_CHAR) | (nxt == _CJK_CHAR)
    return in_token, in_token & splits_before, in_token & splits_after


def token_bounds(cp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first, last) code point index of every token of `cp` (`joined_codepoints` of texts), in
    order: the tokens shingles are made of (module docstring), without the lowercasing."""
    _, first, last = _token_marks(cp)
    return np.flatnonzero(first), np.flatnonzero(last)


def text_chunks(texts: list[str], chars: int = _CHUNK_CHARS):
    """(begin, end) of consecutive runs of `texts` of at most `chars` characters together (a
    longer text is a run by itself): numpy's per-call cost amortized, memory bounded."""
    begin = 0
    while begin < len(texts):
        end, total = begin + 1, len(texts[begin])
        while end < len(texts) and total + len(texts[end]) <= chars:
            total += len(texts[end])
            end += 1
        yield begin, end
        begin = end


def _shingle_spans(texts: list[str], ngram: int) -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray]:
    """Shingles of a few texts as byte spans of one normalized buffer.

    Returns ``(buf, starts, ends, counts)``: shingle ``i`` is ``buf[starts[i]:ends[i]]``, in text
    order, and text ``d`` owns ``counts[d]`` consecutive shingles (duplicates included).
    `buf` holds every token once, each followed by one space; texts are concatenated.
    """
    lowered = [t.lower() for t in texts]
    lengths = np.fromiter(map(len, lowered), dtype=np.int64, count=len(lowered))
    cp = joined_codepoints(lowered)
    in_token, first, splits_after = _token_marks(cp)
    token_first = np.flatnonzero(first)  # code point index of each token's start
    token_last = np.flatnonzero(splits_after)

    # The normalized buffer: token characters in order, one space after each token.
    emitted = in_token.astype(np.int64) + (in_token & splits_after)
    out_pos = np.cumsum(emitted) - emitted  # output position of each input code point
    out = np.full(int(emitted.sum()), ord(" "), dtype=np.uint32)
    out[out_pos[in_token]] = cp[in_token]
    utf8_len = 1 + (out >= 0x80).astype(np.int64) + (out >= 0x800) + (out >= 0x10000)
    byte_at = np.concatenate(([0], np.cumsum(utf8_len)))  # byte offset of each output position
    buf = out.tobytes().decode("utf-32-le").encode("utf-8")
    token_start = byte_at[out_pos[token_first]]
    token_end = byte_at[out_pos[token_last] + 1]  # exclusive, before the space

    # Shingles: token i starts one when it is at most max(m - ngram, 0) tokens into a text of m.
    text_start = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))  # code point offsets
    text_of_token = np.searchsorted(text_start, token_first, side="right") - 1
    tokens_per_text = np.bincount(text_of_token, minlength=len(texts))
    first_token = np.concatenate(([0], np.cumsum(tokens_per_text)))
    rank = np.arange(len(token_first)) - first_token[text_of_token]
    last_start = np.maximum(tokens_per_text - ngram, 0)
    starts_shingle = np.flatnonzero(rank <= last_start[text_of_token])
    owner = text_of_token[starts_shingle]
    last_token = np.minimum(starts_shingle + ngram - 1, first_token[owner + 1] - 1)
    counts = np.bincount(owner, minlength=len(texts))
    return buf, token_start[starts_shingle], token_end[last_token], counts


def shingles(text: str, ngram: int = 5) -> list[bytes]:
    """The set of shingles of `text` (see the module docstring), in order of first occurrence.

    >>> shingles("a b c a b c", ngram=3)
    [b'a b c', b'b c a', b'c a b']
    >>> shingles("Too short.", ngram=5), shingles("  ...  ")
    ([b'too short'], [])
    """
    if ngram < 1:
        raise ValueError(f"ngram must be positive, got {ngram}")
    buf, starts, ends, _ = _shingle_spans([text], ngram)
    return list(dict.fromkeys([buf[s:e] for s, e in zip(starts.tolist(), ends.tolist())]))


_SHA1_INIT = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0)
_SHA1_ROUND_CONSTANTS = (0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC, 0xCA62C1D6)
_ONE_BLOCK = 55  # longest message whose SHA-1 padding fits one 64-byte block


def sha1_hash32(buf: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """datasketch's `sha1_hash32` of each ``buf[starts[i]:ends[i]]``: the first 4 bytes of its
    SHA-1 digest read as a little-endian uint32, as a (len(starts),) uint32 array.

    Calling `hashlib.sha1` once per shingle costs ~0.4 us in CPython (object creation and the
    call, not the hashing), the largest cost of a signature. So messages that fit one block
    (<= 55 bytes: five words or CJK characters, nearly every shingle) run FIPS 180-4's
    compression function in numpy, one uint32 array op over all messages at a time (~0.2 us per
    message on arrays of 10k+); longer ones go through hashlib.

    >>> import hashlib, struct
    >>> buf = b"hello world " + "你 好 世 界".encode() + b" " + b"x" * 80
    >>> spans = [(0, 11), (12, 25), (0, 0), (26, 106)]
    >>> ours = sha1_hash32(buf, *np.array(spans).T)
    >>> ours.tolist() == [struct.unpack("<I", hashlib.sha1(buf[s:e]).digest()[:4])[0] for s, e in spans]
    True
    """
    starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    lengths = ends - starts
    out = np.empty(len(starts), dtype=np.uint32)
    for i in np.flatnonzero(lengths > _ONE_BLOCK).tolist():
        out[i] = int.from_bytes(_SHA1(buf[starts[i] : ends[i]]).digest()[:4], "little")
    short = np.flatnonzero(lengths <= _ONE_BLOCK)
    if not len(short):
        return out
    n, size = len(short), lengths[short]
    # The padded block of each message: its bytes, 0x80, zeros, its length in bits (big endian).
    padded = np.frombuffer(buf + bytes(64), dtype=np.uint8)
    block = np.lib.stride_tricks.sliding_window_view(padded, 64)[starts[short]]  # (n, 64) copy
    block[np.arange(64) >= size[:, None]] = 0
    block[np.arange(n), size] = 0x80
    block[:, 62], block[:, 63] = (size * 8) >> 8, (size * 8) & 0xFF
    # Message schedule, one row per round: W[t] = rotl1(W[t-3] ^ W[t-8] ^ W[t-14] ^ W[t-16]).
    w = np.empty((80, n), dtype=np.uint32)
    w[:16] = block.view(">u4").T
    tmp = np.empty(n, dtype=np.uint32)
    for t in range(16, 80):
        np.bitwise_xor(w[t - 3], w[t - 8], out=w[t])
        w[t] ^= w[t - 14]
        w[t] ^= w[t - 16]
        np.right_shift(w[t], np.uint32(31), out=tmp)
        w[t] <<= np.uint32(1)
        w[t] |= tmp
    for quarter, k in enumerate(_SHA1_ROUND_CONSTANTS):
        w[20 * quarter : 20 * quarter + 20] += np.uint32(k)
    a, b, c, d, e = (np.full(n, h, dtype=np.uint32) for h in _SHA1_INIT)
    f, new_a = np.empty(n, dtype=np.uint32), np.empty(n, dtype=np.uint32)
    for t in range(80):
        if t < 20:  # choose: d ^ (b & (c ^ d))
            np.bitwise_xor(c, d, out=f)
            f &= b
            f ^= d
        elif 40 <= t < 60:  # majority: (b & c) | (d & (b | c))
            np.bitwise_or(b, c, out=f)
            f &= d
            np.bitwise_and(b, c, out=tmp)
            f |= tmp
        else:  # parity
            np.bitwise_xor(b, c, out=f)
            f ^= d
        np.left_shift(a, np.uint32(5), out=new_a)  # new a = rotl5(a) + f + e + K + W[t]
        np.right_shift(a, np.uint32(27), out=tmp)
        new_a |= tmp
        new_a += f
        new_a += e
        new_a += w[t]
        np.left_shift(b, np.uint32(30), out=e)  # rotl30(b), written over e (no longer needed)
        np.right_shift(b, np.uint32(2), out=tmp)
        e |= tmp
        # Rotate the registers by renaming buffers: (a, b, c, d, e) <- (new a, a, rotl30(b), c, d).
        a, b, c, d, e, new_a = new_a, a, e, c, d, b
    a += np.uint32(_SHA1_INIT[0])  # the digest's first word, big endian; datasketch reads it
    out[short] = a.byteswap()  # little endian
    return out


_M3_C1, _M3_C2 = 0xCC9E2D51, 0x1B873593
_M3_SHORT = 60  # longest message the vectorized MurmurHash3 reads through one 64-byte window


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3_x86_32 of `data` as an unsigned int (= ``mmh3.hash(data, seed, signed=False)``).

    The scalar form: give it to datasketch as ``MinHash(..., hashfunc=murmur3_32)`` to get the
    signatures of ``MinHasher(hash="murmur3")``; `murmur3_hash32` is the vectorized one.

    >>> murmur3_32(b"hello"), murmur3_32(b"The quick brown fox jumps over the lazy dog")
    (613153351, 776992547)
    """
    mask = 0xFFFFFFFF
    h, n = seed & mask, len(data)
    rotl = lambda x, r: ((x << r) | (x >> (32 - r))) & mask  # noqa: E731
    for i in range(0, n - n % 4, 4):
        k = rotl(int.from_bytes(data[i : i + 4], "little") * _M3_C1 & mask, 15) * _M3_C2 & mask
        h = (rotl(h ^ k, 13) * 5 + 0xE6546B64) & mask
    if n % 4:
        h ^= rotl(int.from_bytes(data[n - n % 4 :], "little") * _M3_C1 & mask, 15) * _M3_C2 & mask
    h ^= n
    h = (h ^ (h >> 16)) * 0x85EBCA6B & mask
    h = (h ^ (h >> 13)) * 0xC2B2AE35 & mask
    return h ^ (h >> 16)


def murmur3_hash32(buf: bytes, starts: np.ndarray, ends: np.ndarray, seed: int = 0) -> np.ndarray:
    """`murmur3_32` of each ``buf[starts[i]:ends[i]]``, vectorized over messages.

    About 8x cheaper than `sha1_hash32`: a shingle of three CJK characters (11 bytes) is two
    4-byte blocks and a tail, a dozen uint32 array operations per block, where SHA-1 always runs
    80 rounds. Blocks are processed position by position for all messages still that long;
    messages longer than 60 bytes (rare: long words) go through the scalar form.

    >>> buf = b"hello world " + "你 好 世 界".encode()
    >>> murmur3_hash32(buf, np.array([0, 6, 12, 0]), np.array([5, 11, 27, 0])).tolist() == [
    ...     murmur3_32(b"hello"), murmur3_32(b"world"), murmur3_32("你 好 世 界".encode()), murmur3_32(b"")]
    True
    """
    starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    lengths = ends - starts
    out = np.empty(len(starts), dtype=np.uint32)
    for i in np.flatnonzero(lengths > _M3_SHORT).tolist():
        out[i] = murmur3_32(buf[starts[i] : ends[i]], seed)
    short = np.flatnonzero(lengths <= _M3_SHORT)
    if not len(short):
        return out
    # Longest first, so the messages that still have block j are a prefix of the arrays.
    order = np.argsort(-lengths[short], kind="stable")
    short, size = short[order], lengths[short][order]
    blocks = size >> 2
    padded = np.frombuffer(buf + bytes(64), dtype=np.uint8)
    window = np.lib.stride_tricks.sliding_window_view(padded, 64)[starts[short]]  # (n, 64) copy
    words = window.view("<u4")  # (n, 16): word j of message i
    h = np.full(len(short), seed, dtype=np.uint32)
    c1, c2 = np.uint32(_M3_C1), np.uint32(_M3_C2)

    def scramble(k):  # k * c1, rotl 15, * c2
        k = k * c1
        return ((k << np.uint32(15)) | (k >> np.uint32(17))) * c2

    with_block = np.bincount(blocks)[::-1].cumsum()[::-1][1:]  # [j]: messages with more than j blocks
    for j, n in enumerate(with_block.tolist()):
        x = h[:n] ^ scramble(words[:n, j])
        h[:n] = ((x << np.uint32(13)) | (x >> np.uint32(19))) * np.uint32(5) + np.uint32(0xE6546B64)
    # The tail: the word after the full blocks, keeping only the message's bytes (scramble(0) == 0).
    tail = words[np.arange(len(short)), blocks] & ((np.uint32(1) << (8 * (size & 3)).astype(np.uint32)) - np.uint32(1))
    h ^= scramble(tail)
    h ^= size.astype(np.uint32)
    out[short] = _fmix32(h)
    return out


HASHES = {"sha1": sha1_hash32, "murmur3": murmur3_hash32}  # base hash of a shingle, by name


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, as datasketch's affine schemes pre-mix the base hash."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


@dataclass(frozen=True)
class MinHasher:
    """MinHash signatures of texts, equal to datasketch's ``MinHash(num_perm, seed)`` fed with
    ``update(s)`` for each of ``shingles(text, ngram)``.

    Defaults: 128 permutations (text-dedup's and DataTrove's order of magnitude: the standard
    error of a Jaccard estimate is about sqrt(J(1-J)/128) <= 0.044), seed 1 (datasketch's
    default), word 5-grams (Ziya2 and text-dedup use 5-grams).
    """

    num_perm: int = 128
    seed: int = 1
    ngram: int = 5
    hash: str = "sha1"  # base hash of a shingle: "sha1" (datasketch's default) or "murmur3" (~8x faster)

    def __post_init__(self):
        if not 1 <= self.num_perm <= 1 << 32:
            raise ValueError(f"num_perm must be in [1, 2**32], got {self.num_perm}")
        if self.hash not in HASHES:
            raise ValueError(f"hash must be one of {sorted(HASHES)}, got {self.hash!r}")
        if self.ngram < 1:
            raise ValueError(f"ngram must be positive, got {self.ngram}")

    @property
    def hashfunc(self):
        """The scalar base hash to give ``datasketch.MinHash(hashfunc=...)`` for identical signatures."""
        return murmur3_32 if self.hash == "murmur3" else (lambda b: int.from_bytes(_SHA1(b).digest()[:4], "little"))

    @cached_property
    def permutations(self) -> tuple[np.ndarray, np.ndarray]:
        """``(a, b)``, each (num_perm,) uint32, ``a`` odd: datasketch's `_init_permutations` for
        the affine32 scheme, drawn from ``np.random.RandomState(seed)`` in the same order."""
        gen = np.random.RandomState(self.seed)
        a = gen.randint(0, 1 << 31, self.num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        b = gen.randint(0, 1 << 32, self.num_perm, dtype=np.uint32)
        return a, b

    def signatures(self, texts: list[str]) -> np.ndarray:
        """(len(texts), num_perm) uint32 signatures, all permutations at once.

        >>> MinHasher(num_perm=3).signatures(["", "x"])
        array([[4294967295, 4294967295, 4294967295],
               [1177937295,  939948354, 2708915958]], dtype=uint32)
        """
        out = np.full((len(texts), self.num_perm), MAX_HASH, dtype=np.uint32)
        for begin, end in text_chunks(texts):
            self._sign_chunk(texts[begin:end], out[begin:end])
        return out

    def signature(self, text: str) -> np.ndarray:
        """(num_perm,) uint32 signature of one text."""
        return self.signatures([text])[0]

    def _sign_chunk(self, texts: list[str], out: np.ndarray) -> None:
        buf, starts, ends, counts = _shingle_spans(texts, self.ngram)
        a, b = self.permutations
        first = np.concatenate(([0], np.cumsum(counts)))  # text d owns shingles first[d]:first[d+1]
        # Blocks of at most _BLOCK_SHINGLES bound memory when one text is very long.
        for lo in range(0, len(starts), _BLOCK_SHINGLES):
            hi = min(lo + _BLOCK_SHINGLES, len(starts))
            # Duplicate shingles are hashed too: that costs less than finding them, and min()
            # does not mind.
            base = _fmix32(HASHES[self.hash](buf, starts[lo:hi], ends[lo:hi]))
            # (num_perm, shingles): each permutation's values are contiguous, so the segmented
            # min per text runs along rows (7x faster than the (shingles, num_perm) layout).
            permuted = np.multiply.outer(a, base)  # uint32 arithmetic wraps: mod 2**32
            permuted += b[:, None]
            # The texts with shingles in this block, and where each one's shingles begin in it.
            owners = np.arange(np.searchsorted(first, lo, side="right") - 1, np.searchsorted(first, hi, side="left"))
            owners = owners[counts[owners] > 0]
            segment_starts = np.maximum(first[owners], lo) - lo
            out[owners] = np.minimum(out[owners], np.minimum.reduceat(permuted, segment_starts, axis=1).T)


def _false_positive_area(threshold, b, r, nodes, weights):
    # Integral over [0, threshold] of P(candidate | s) = 1 - (1 - s^r)^b.
    s = threshold / 2 * (nodes + 1)
    return threshold / 2 * ((1 - (1 - s[None, :] ** r[:, None]) ** b[:, None]) @ weights)


def _false_negative_area(threshold, b, r, nodes, weights):
    # Integral over [threshold, 1] of P(not candidate | s) = (1 - s^r)^b.
    s = threshold + (1 - threshold) / 2 * (nodes + 1)
    return (1 - threshold) / 2 * (((1 - s[None, :] ** r[:, None]) ** b[:, None]) @ weights)


def optimal_param(
    threshold: float, num_perm: int, false_positive_weight: float = 0.5, false_negative_weight: float = 0.5
) -> tuple[int, int]:
    """``(bands, rows)`` with ``bands * rows <= num_perm`` minimizing the weighted areas under the
    false positive and false negative probability curves, as datasketch's `_optimal_param`.

    Both integrands are polynomials of degree ``bands * rows <= num_perm``, so Gauss-Legendre
    quadrature with ``num_perm // 2 + 1`` nodes integrates them exactly (to rounding); the
    scan order and tie-breaking (first minimum, bands then rows ascending) follow datasketch.

    >>> optimal_param(0.8, 128)
    (9, 13)
    >>> optimal_param(0.5, 256), optimal_param(0.7, 128, 0.3, 0.7)
    ((42, 6), (16, 8))
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    if num_perm < 1:
        raise ValueError(f"num_perm must be positive, got {num_perm}")
    pairs = np.array([(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)], dtype=np.float64)
    b, r = pairs[:, 0], pairs[:, 1]
    nodes, weights = np.polynomial.legendre.leggauss(min(num_perm // 2 + 1, 512))
    error = false_positive_weight * _false_positive_area(threshold, b, r, nodes, weights)
    error = error + false_negative_weight * _false_negative_area(threshold, b, r, nodes, weights)
    best = int(np.argmin(error))
    return int(b[best]), int(r[best])


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer (a bijection on uint64), elementwise. Fixed here, not shared: the
    band hashes it makes are bucket keys that must not change between versions."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def band_hashes(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, bands) uint64 bucket keys: band ``i`` hashes slots ``i*rows .. (i+1)*rows - 1``
    (datasketch's `hashranges`).

    The hash starts from the band number, then folds in each slot with
    ``h = mix64(h ^ slot)``; for a fixed slot that step is a bijection, so two bands that
    differ in exactly one slot never collide, and the band number keeps equal slots in
    different bands apart. Pure uint64 arithmetic: the same keys on every platform.

    >>> sig = np.arange(6, dtype=np.uint32).reshape(1, 6)
    >>> band_hashes(sig, bands=2, rows=3)
    array([[17413882681574548673,  1683893686821996552]], dtype=uint64)
    """
    signatures = np.asarray(signatures)
    if signatures.ndim != 2:
        raise ValueError(f"signatures must be 2-D (n, num_perm), got shape {signatures.shape}")
    if bands < 1 or rows < 1 or bands * rows > signatures.shape[1]:
        raise ValueError(f"bands * rows = {bands} * {rows} exceeds num_perm {signatures.shape[1]}")
    slots = signatures[:, : bands * rows].astype(np.uint64).reshape(len(signatures), bands, rows)
    h = np.broadcast_to(_mix64(np.arange(bands, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)), slots.shape[:2])
    for j in range(rows):
        h = _mix64(h ^ slots[:, :, j])
    return np.ascontiguousarray(h)


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> float | np.ndarray:
    """Fraction of equal slots: the MinHash estimate of the Jaccard similarity (row-wise if 2-D).

    >>> estimated_jaccard(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 4]))
    0.75
    >>> estimated_jaccard(np.array([[1, 2], [3, 4]]), np.array([[1, 2], [0, 0]]))
    array([1., 0.])
    """
    equal = np.asarray(a) == np.asarray(b)
    if equal.ndim == 1:
        return float(np.count_nonzero(equal)) / equal.shape[0]
    return np.count_nonzero(equal, axis=-1) / equal.shape[-1]
