"""The word cache gives exactly SentencePiece's ids (corpus_tools.word_cache), on real text and on
the whitespace cases its proof depends on; models it cannot serve exactly fall back."""
from __future__ import annotations

import pickle

import numpy as np
import pyarrow as pa
import pytest

from corpus_tools.readers import plan_splits, read_split
from corpus_tools.tokenizer import Tokenizer, load_tokenizer, parse_model
from corpus_tools.word_cache import WordCacheEncoder, safe_cuts, unsupported_reason
from tests.conftest import SAMPLE

EDGE = [
    "", " ", "  ", "   ", "a", " a", "a ", "a  b", "  a  b  ", "a \u2581b", "\u2581", "\u2581\u2581x y",
    "a\tb\nc  \n  d", "x" * 200 + " " + "y" * 49, "你好 世界，  中文", "emoji 😀😀 𝔘 \U00020000",
    "\u3000全角空格", "a" + " " * 40 + "b", "end   ", " lead", "\x00 nul", "mixed 中文English  混合 text",
    # a literal "▁" is the same symbol as a space to BPE: no cut between it and a space
    "x\u2581 y", "\u2581 ", "  \u2581  a", "a\u2581\u2581 b", "return x  \u2581\u2581 z",
    # cuts at punctuation and digits
    "Sphinx, a (document) processor.", "12345678901234567890 3.14159 0x1F", "don't won't it's \"quoted\"",
    "a,b;c:d!e?f", "path/to/file_name.py:42", "http://example.com/a?b=c&d=e", "((((nested))))",
]


@pytest.fixture(scope="module")
def plain() -> Tokenizer:
    return load_tokenizer(word_cache=False)


@pytest.fixture(scope="module")
def sample_texts() -> list[str]:
    texts = []
    for split in plan_splits([SAMPLE]):
        for batch in read_split(split):
            texts += batch.documents.column("text").to_pylist()
    assert len(texts) > 4000
    return texts


def encoder(tok: Tokenizer, **kw) -> WordCacheEncoder:
    return WordCacheEncoder(tok.model_proto(), tok.dtype, **kw)


def assert_same(plain: Tokenizer, cache: WordCacheEncoder, texts: list[str]) -> None:
    want = plain.encode_batch_flat(texts, num_threads=1)
    got = cache.encode(texts)
    assert got[1].tolist() == want[1].tolist()
    assert got[0].dtype == want[0].dtype
    assert np.array_equal(got[0], want[0])


def test_default_base_qualifies_and_is_used():
    tok = load_tokenizer()
    assert unsupported_reason(tok.model_proto()) is None
    assert tok.word_cache is not None and tok.word_cache_off is None
    assert pickle.loads(pickle.dumps(tok)).word_cache is not None
    assert pickle.loads(pickle.dumps(load_tokenizer(word_cache=False))).word_cache is None


def test_whitespace_edge_cases_one_by_one_and_together(plain):
    cache = encoder(plain)
    for text in EDGE:
        assert cache.encode([text])[0].tolist() == plain.encode(text), repr(text)
    assert_same(plain, cache, EDGE)
    assert_same(plain, cache, EDGE[::-1])  # now every short segment is a cache hit


def test_safe_cuts_follow_the_vocabulary(plain):
    table = safe_cuts(plain.model_proto())

    def cut(a: str, b: str) -> bool:
        return bool(table[a.encode()[-1] << 8 | b.encode()[0]])

    assert cut("d", ",") and cut("3", "4") and cut("(", "w") and cut("x", " ") and cut("中", " ")
    assert not cut("t", "h") and not cut(" ", "t")  # "th", "▁t" are pieces
    assert not cut(" ", " ") and not cut("\u2581", " ")  # runs of "▁" are pieces
    assert not cut("a", "中")  # no cut is ever made before a non-ASCII byte


def test_random_ascii_texts_give_sentencepieces_ids(plain):
    """Every cut the table allows, in random combinations of letters, digits, punctuation, controls."""
    rng = np.random.default_rng(7)
    alphabet = np.array(list("abcdeHIJ  \t\n0123456789.,;:!?'\"()[]{}<>/\\-_=+*&^%$#@~`|\x00\x7f\u2581中é"))
    texts = ["".join(rng.choice(alphabet, size=rng.integers(0, 60))) for _ in range(2000)]
    cache = encoder(plain)
    assert_same(plain, cache, texts)
    assert_same(plain, cache, texts)  # again, from the cache


def test_sample_corpus_in_batches_with_a_cache_that_keeps_filling_up(plain, sample_texts):
    cache = encoder(plain, max_entries=3000, max_cached_chars=16)
    sizes = []
    for i in range(0, len(sample_texts), 300):
        assert_same(plain, cache, sample_texts[i:i + 300])
        sizes.append(cache.entries)
        assert cache.entries <= 3000
    assert min(sizes) < max(sizes)  # it was cleared along the way
    assert cache.used == int(cache.lengths.sum())  # long segments did not stay in the table


def test_sample_corpus_with_default_limits_cold_then_warm(plain, sample_texts):
    cache = encoder(plain)
    for _ in range(2):
        for i in range(0, len(sample_texts), 1024):
            assert_same(plain, cache, sample_texts[i:i + 1024])


def test_arrow_input_with_nulls_encodes_them_as_nothing(plain):
    tok = load_tokenizer()
    tokens, lengths = tok.encode_batch_flat(pa.chunked_array([["a b", None], ["", "你好"]]))
    assert lengths.tolist() == [len(plain.encode("a b")), 0, 0, len(plain.encode("你好"))]
    assert tokens.tolist() == plain.encode("a b") + plain.encode("你好")


def test_no_texts(plain):
    tokens, lengths = encoder(plain).encode([])
    assert tokens.size == 0 and lengths.size == 0


def modified(tok: Tokenizer, change) -> Tokenizer:
    proto = tok.model_proto()
    change(proto)
    data = proto.SerializeToString()
    return Tokenizer("modified.model", data, parse_model(data, "modified.model"))


@pytest.mark.parametrize("change, reason", [
    (lambda p: setattr(p.normalizer_spec, "name", "nmt_nfkc"), "normalizer"),
    (lambda p: setattr(p.normalizer_spec, "remove_extra_whitespaces", True), "whitespace"),
    (lambda p: setattr(p.pieces[500], "piece", "x\u2581y"), "joins a character"),
    (lambda p: setattr(p.pieces[500], "type", 4), "user-defined"),
])
def test_models_the_proof_does_not_cover_fall_back_to_sentencepiece(plain, change, reason):
    tok = modified(plain, change)
    assert tok.word_cache is None and reason in tok.word_cache_off
    assert tok.encode_batch_flat(["a  b", "x y"])[1].tolist() == [len(tok.encode("a  b")), len(tok.encode("x y"))]


def test_a_unigram_model_falls_back(tmp_path):
    import sentencepiece as spm

    lines = [f"line {i} of some text, words and more words {i * 7}" for i in range(300)]
    (tmp_path / "t.txt").write_text("\n".join(lines))
    spm.SentencePieceTrainer.train(input=str(tmp_path / "t.txt"), model_prefix=str(tmp_path / "u"), vocab_size=320, minloglevel=2,
                                   model_type="unigram", byte_fallback=True)
    tok = load_tokenizer(str(tmp_path / "u.model"))
    assert tok.word_cache is None and tok.word_cache_off == "not a BPE model"
    tokens, lengths = tok.encode_batch_flat(lines[:3])
    assert tokens.tolist() == sum((tok.encode(t) for t in lines[:3]), [])
