"""corpus_tools.tokenizer against the real default base model (mistral-common's tokenizer.model.v1)."""
from __future__ import annotations

import os
import pickle
import random

import numpy as np
import pytest

from corpus_tools.tokenizer import (
    Tokenizer,
    TokenizerError,
    default_base_tokenizer_path,
    load_tokenizer,
    token_dtype,
)

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "中华人民共和国成立于1949年。人民日报报道了这条新闻。",
    "emoji 😀🎉 and rare CJK 𠀀𪚥 and 齉龘",
    "",
    "  leading spaces, tabs\tand\nnewlines  ",
    "Ελληνικά, русский, العربية, हिन्दी, 한국어, 日本語",
]


@pytest.fixture(scope="module")
def base() -> Tokenizer:
    return load_tokenizer()


def test_default_base_has_llama2_layout(base):
    assert os.path.basename(base.path) == "tokenizer.model.v1"
    assert base.path == default_base_tokenizer_path()
    assert base.vocab_size == 32000
    assert (base.unk_id, base.bos_id, base.eos_id, base.pad_id) == (0, 1, 2, -1)
    assert [base.id_to_piece(i) for i in range(3)] == ["<unk>", "<s>", "</s>"]
    assert [base.id_to_piece(i) for i in (3, 258)] == ["<0x00>", "<0xFF>"]
    assert base.byte_fallback and base.model_type == "BPE"
    assert len(base.sha256) == 64
    assert base.dtype == np.uint16


def test_dtype_fits_vocabulary():
    assert token_dtype(32000) == np.uint16
    assert token_dtype(65535) == np.uint16
    assert token_dtype(65536) == np.int32


def test_byte_fallback_round_trips_any_unicode(base):
    rng = random.Random(0)
    # random code points from every plane in use, surrogates excluded
    chars = [chr(rng.choice([rng.randrange(0x20, 0xD800), rng.randrange(0xE000, 0x30000)])) for _ in range(3000)]
    texts = TEXTS[:3] + ["".join(chars[i:i + 50]) for i in range(0, 3000, 50)]
    for text in texts:
        ids = base.encode(text)
        assert base.unk_id not in ids
        assert base.decode(ids) == text


def test_rare_characters_fall_back_to_their_utf8_bytes(base):
    ids = base.encode_batch(["𠀀"])[0]  # U+20000, CJK extension B: not a piece of the base
    pieces = [base.id_to_piece(i) for i in ids]
    assert pieces[-4:] == ["<0xF0>", "<0xA0>", "<0x80>", "<0x80>"]


def test_encode_batch_equals_per_text_encode_without_bos_eos(base):
    batch = base.encode_batch(TEXTS, num_threads=2)
    assert batch == [base.encode(t) for t in TEXTS]
    assert batch[3] == []
    assert all(base.bos_id not in ids and base.eos_id not in ids for ids in batch)
    assert base.encode_batch(tuple(TEXTS)) == batch  # any sequence, default thread count


def test_flat_form_equals_list_form(base):
    tokens, lengths = base.encode_batch_flat(TEXTS)
    expected = base.encode_batch(TEXTS)
    assert lengths.dtype == np.int64 and tokens.dtype == np.uint16
    assert lengths.tolist() == [len(ids) for ids in expected]
    assert tokens.tolist() == [i for ids in expected for i in ids]
    empty_tokens, empty_lengths = base.encode_batch_flat([])
    assert empty_tokens.size == 0 and empty_lengths.size == 0
    assert base.decode(tokens[: lengths[0]]) == TEXTS[0]


def test_chars_per_token(base):
    assert base.chars_per_token([TEXTS[0]]) == len(TEXTS[0]) / len(base.encode(TEXTS[0]))
    with pytest.raises(ValueError, match="no tokens"):
        base.chars_per_token([""])


def test_pickles_for_spark_executors(base):
    clone = pickle.loads(pickle.dumps(base))
    assert clone.sha256 == base.sha256 and clone.encode_batch(TEXTS) == base.encode_batch(TEXTS)


@pytest.fixture(scope="module")
def model_bytes(base) -> bytes:
    return base.model_bytes


def _write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("keep", [0.999, 0.5, 0.1])
def test_truncated_model_is_a_clear_error(tmp_path, model_bytes, keep):
    path = _write(tmp_path, "cut.model", model_bytes[: int(len(model_bytes) * keep)])
    with pytest.raises(TokenizerError, match="truncated") as err:
        load_tokenizer(path)
    assert path in str(err.value)


def test_model_cut_between_fields_is_a_clear_error(tmp_path, base):
    proto = base.model_proto()
    proto.ClearField("normalizer_spec")  # what a cut right after trainer_spec leaves
    path = _write(tmp_path, "cut.model", proto.SerializeToString())
    with pytest.raises(TokenizerError, match="truncated SentencePiece model"):
        load_tokenizer(path)


def test_random_bytes_are_a_clear_error(tmp_path):
    path = _write(tmp_path, "random.model", random.Random(1).randbytes(4096))
    with pytest.raises(TokenizerError, match="not a SentencePiece model") as err:
        load_tokenizer(path)
    assert path in str(err.value)


def test_other_files_are_clear_errors(tmp_path):
    json_path = _write(tmp_path, "tokenizer.json", b'{"model": {"type": "BPE"}}')
    with pytest.raises(TokenizerError, match="not a SentencePiece model"):
        load_tokenizer(json_path)
    with pytest.raises(TokenizerError, match="empty file"):
        load_tokenizer(_write(tmp_path, "empty.model", b""))
    with pytest.raises(TokenizerError, match="not found"):
        load_tokenizer(str(tmp_path / "missing.model"))
    with pytest.raises(TokenizerError, match="not a file"):
        load_tokenizer(str(tmp_path))


def test_missing_byte_pieces_are_a_clear_error(tmp_path, base):
    proto = base.model_proto()
    proto.pieces[100].piece = "not-a-byte"  # <0x61> renamed; the model still claims byte_fallback
    proto.pieces[100].type = proto.SentencePiece.NORMAL
    path = _write(tmp_path, "nobytes.model", proto.SerializeToString())
    with pytest.raises(TokenizerError, match="1 of the 256 byte pieces are missing"):
        load_tokenizer(path)


def test_missing_eos_is_a_clear_error(tmp_path, base):
    proto = base.model_proto()
    proto.trainer_spec.eos_id = -1
    path = _write(tmp_path, "noeos.model", proto.SerializeToString())
    with pytest.raises(TokenizerError, match="no EOS"):
        load_tokenizer(path)
