"""Vocabulary expansion on the sample corpus's Chinese text, against the real default base model."""
from __future__ import annotations

import doctest
import hashlib
import json
import os
import random
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_tools import vocab_expand
from corpus_tools.readers import InputConfig, plan_splits, read_split
from corpus_tools.tokenizer import load_tokenizer
from corpus_tools.vocab_expand import (
    MAX_LINE_BYTES,
    SCRIPT_CHARS,
    Corpus,
    ExpandConfig,
    ExpansionError,
    expand,
    fragment_processor,
    is_held_apart,
    iter_documents,
    merge_floor,
    piece_text,
    sentence_lines,
    training_texts,
)
from tests.conftest import SAMPLE
from ziya.cli import main

CFG = ExpandConfig(vocab_size=7000)  # the sample's Chinese needs ~5.6k pieces for its characters alone
SCHEMA_KEYS = {"base_model", "base_model_sha256", "base_vocab_size", "vocab_size", "model_sha256", "new_pieces"}


@pytest.fixture(scope="module")
def expansion(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("expand") / "zh.model")
    result = expand(None, [SAMPLE], out, CFG)
    return result, out, json.load(open(out + ".expansion.json", encoding="utf-8"))


def test_every_base_piece_keeps_its_id_and_everything_else(expansion):
    result, _, _ = expansion
    base, expanded = result.base.model_proto(), result.expanded.model_proto()
    assert len(expanded.pieces) > len(base.pieces) == 32000
    for i, piece in enumerate(base.pieces):
        assert expanded.pieces[i] == piece, i  # piece, score and type (special, byte, normal)
        assert result.expanded.id_to_piece(i) == result.base.id_to_piece(i)
    assert expanded.normalizer_spec == base.normalizer_spec
    base.trainer_spec.vocab_size = expanded.trainer_spec.vocab_size
    assert expanded.trainer_spec == base.trainer_spec
    exp = result.expanded
    assert (exp.unk_id, exp.bos_id, exp.eos_id, exp.pad_id, exp.byte_fallback) == (0, 1, 2, -1, True)


def test_new_pieces_are_chinese_absent_from_base_and_merge_after_it(expansion):
    result, _, _ = expansion
    base, expanded = result.base.model_proto(), result.expanded.model_proto()
    new = expanded.pieces[len(base.pieces):]
    base_pieces = {p.piece for p in base.pieces}
    assert len({p.piece for p in new}) == len(new)
    assert all(p.piece not in base_pieces for p in new)
    assert all(p.type == p.NORMAL and SCRIPT_CHARS["zh"].search(p.piece) for p in new)
    scores = [p.score for p in new]
    assert scores[0] < merge_floor(base) and all(a > b for a, b in zip(scores, scores[1:]))
    assert any(len(p.piece) == 1 for p in new) and any(len(p.piece) > 1 for p in new)  # characters and words


def test_expansion_json_matches_the_model(expansion):
    result, out, record = expansion
    assert set(record) == SCHEMA_KEYS
    assert record["base_model"] == os.path.abspath(result.base.path)
    assert record["base_model_sha256"] == hashlib.sha256(open(result.base.path, "rb").read()).hexdigest()
    assert record["model_sha256"] == hashlib.sha256(open(out, "rb").read()).hexdigest()
    assert record["base_vocab_size"] == 32000
    assert record["vocab_size"] == result.expanded.vocab_size == 32000 + len(record["new_pieces"])
    assert [p["id"] for p in record["new_pieces"]] == list(range(32000, record["vocab_size"]))
    assert all(set(p) == {"id", "piece", "base_ids"} for p in record["new_pieces"])
    assert all(result.expanded.id_to_piece(p["id"]) == p["piece"] for p in record["new_pieces"])


def test_base_ids_decode_back_to_each_new_piece(expansion):
    result, _, record = expansion
    base_fragment = fragment_processor(result.base.model_proto())
    for p in record["new_pieces"]:
        assert p["base_ids"] and all(0 <= i < 32000 for i in p["base_ids"])
        assert base_fragment.decode(p["base_ids"]) == piece_text(p["piece"]), p


def test_a_leading_space_mark_is_encoded_as_a_space_not_dropped_or_doubled():
    base = load_tokenizer()
    [ids] = vocab_expand.base_decompositions(base.model_proto(), ["\u2581中国"])
    assert [base.id_to_piece(i) for i in ids] == ["\u2581", "中", "国"]
    assert base.encode("中国")[0] == ids[0]  # what the normal encoder's dummy prefix would add


def test_chinese_gets_shorter_english_does_not_change(expansion):
    result, _, _ = expansion
    (zh_before, zh_after), (en_before, en_after) = result.chars_per_token["zh"], result.chars_per_token["en"]
    assert zh_after > 1.2 * zh_before
    assert en_after == pytest.approx(en_before, rel=0.01)  # the sample's full-width junk may change a little
    latin = [t for t in result.corpus.heldout["en"] if not SCRIPT_CHARS["zh"].search(t)]
    assert len(latin) > 100
    assert result.expanded.encode_batch(latin) == result.base.encode_batch(latin)


def test_expanded_model_round_trips_text(expansion):
    result, _, _ = expansion
    rng = random.Random(0)
    texts = result.corpus.heldout["zh"][:50] + ["".join(chr(rng.randrange(0x20, 0xD800)) for _ in range(200))]
    for text in texts:
        ids = result.expanded.encode(text)
        assert result.expanded.unk_id not in ids and result.expanded.decode(ids) == text


def test_expanded_model_batches_through_the_word_cache_with_the_same_ids(expansion):
    _, out, _ = expansion
    cached, plain = load_tokenizer(out), load_tokenizer(out, word_cache=False)
    assert cached.word_cache is not None, cached.word_cache_off
    texts = expansion[0].corpus.heldout["zh"] + expansion[0].corpus.heldout["en"]
    want, got = plain.encode_batch_flat(texts), cached.encode_batch_flat(texts)
    assert got[1].tolist() == want[1].tolist() and np.array_equal(got[0], want[0])


def test_documents_are_accounted_for(expansion):
    result, _, _ = expansion
    c = result.corpus
    assert c.documents == sum(c.by_lang.values()) and c.quarantined == 0
    assert c.empty_documents == 0
    assert c.train_documents + c.heldout_documents["zh"] == c.by_lang["zh"]
    assert 0.05 < c.heldout_documents["zh"] / c.by_lang["zh"] < 0.15


def test_held_apart_split_depends_on_the_id_only():
    ids = [f"doc-{i}" for i in range(2000)]
    chosen = {i for i in ids if is_held_apart(i, 0.1)}
    assert chosen == {i for i in reversed(ids) if is_held_apart(i, 0.1)}
    assert 150 < len(chosen) < 250
    assert chosen <= {i for i in ids if is_held_apart(i, 0.2)}


def test_stage_output_reads_kept_only(tmp_path):
    """A stage's output directory stands for its kept/ Parquet, read column-wise with its `lang`."""
    rows = []
    for split in plan_splits([os.path.join(SAMPLE, "news.jsonl.zst")]):
        for batch in read_split(split, InputConfig()):
            rows += batch.documents.select(["id", "text"]).to_pylist()
    stage = tmp_path / "clean"
    for sub, part in (("kept", rows[:300]), ("rejected", rows[300:])):
        (stage / sub).mkdir(parents=True)
        table = pa.Table.from_pylist([{**r, "lang": "zh", "n_chars": len(r["text"])} for r in part])
        pq.write_table(table, stage / sub / "part-00000.parquet")
    (stage / "_SUCCESS").touch()
    corpus = Corpus()
    texts = list(training_texts(iter_documents([str(stage)], CFG, corpus), CFG, corpus))
    assert corpus.documents == corpus.by_lang["zh"] == 300 and corpus.empty_documents == 0
    assert len(texts) + corpus.heldout_documents["zh"] == 300


def test_no_chinese_documents_is_a_clear_error(tmp_path):
    with pytest.raises(ExpansionError, match=r"no zh documents to train on .* by lang: code: \d+"):
        expand(None, [os.path.join(SAMPLE, "code.jsonl.zst")], str(tmp_path / "x.model"), CFG)
    assert not os.path.exists(tmp_path / "x.model")


def test_records_without_a_language_field_are_a_clear_error(tmp_path):
    path = tmp_path / "nolang.jsonl"
    path.write_text("".join(json.dumps({"text": "人民日报报道了这条新闻。" * 5}, ensure_ascii=False) + "\n"
                            for _ in range(20)), encoding="utf-8")
    with pytest.raises(ExpansionError, match="by lang: unknown: 20"):
        expand(None, [str(path)], str(tmp_path / "x.model"), CFG)


def test_too_small_a_vocabulary_is_a_clear_error(tmp_path):
    with pytest.raises(ExpansionError, match="could not train a 300-piece model .* Vocabulary size is smaller"):
        expand(None, [os.path.join(SAMPLE, "news.jsonl.zst")], str(tmp_path / "x.model"), ExpandConfig(vocab_size=300))


def test_unigram_base_is_refused(tmp_path):
    proto = load_tokenizer().model_proto()
    proto.trainer_spec.model_type = proto.trainer_spec.UNIGRAM
    base = tmp_path / "unigram.model"
    base.write_bytes(proto.SerializeToString())
    with pytest.raises(ExpansionError, match="only BPE base models"):
        expand(str(base), [SAMPLE], str(tmp_path / "x.model"), CFG)


def test_existing_output_needs_overwrite(expansion, tmp_path):
    _, out, _ = expansion
    target = tmp_path / "zh.model"
    shutil.copy(out, target)
    with pytest.raises(ExpansionError, match="exists"):
        expand(None, [SAMPLE], str(target), CFG)


def test_long_lines_are_cut_for_the_trainer():
    line = "人民日报" * 5000  # 20,000 characters, 60,000 bytes, no sentence end
    pieces = list(sentence_lines([line + "。\n\n短句。"]))
    assert all(len(p.encode("utf-8")) <= MAX_LINE_BYTES for p in pieces)
    assert "".join(pieces) == line + "。短句。"


def test_doctests():
    assert doctest.testmod(vocab_expand).failed == 0


def test_cli_expands_and_reports(tmp_path, capsys):
    out = str(tmp_path / "news.model")
    assert main(["tokenizer", "expand", "--input", os.path.join(SAMPLE, "news.jsonl.zst"),
                 "--vocab-size", "6000", "--output", out]) == 0
    report = capsys.readouterr().out
    assert "zh chars/token" in report and "no held-apart en documents" in report
    assert load_tokenizer(out).vocab_size == json.load(open(out + ".expansion.json"))["vocab_size"]
    assert main(["tokenizer", "expand", "--input", os.path.join(SAMPLE, "news.jsonl.zst"),
                 "--vocab-size", "6000", "--output", out]) == 2
    assert "exists" in capsys.readouterr().err


def test_every_document_is_counted_once():
    docs = [(f"zh-{i}", "人民日报" if i % 3 else "", "zh") for i in range(300)]
    docs += [("en-1", "English text", "en"), ("de-1", "Deutsch", "de"), ("x-1", "?", None)]
    corpus = Corpus()
    trained = list(training_texts(iter(docs), CFG, corpus))
    assert corpus.by_lang == {"zh": 300, "en": 1, "de": 1, "unknown": 1}
    assert corpus.empty_documents == 100
    assert len(trained) == corpus.train_documents
    assert corpus.train_documents + corpus.heldout_documents["zh"] + corpus.empty_documents == 300
