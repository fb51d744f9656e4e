"""The project's modified Kneser-Ney estimator against KenLM's lmplz, and the perplexity scorer
against KenLM's query module (corpus_tools.lm). No Spark."""
from __future__ import annotations

import gzip
import json
import math
import os
import shutil

import kenlm
import pytest

from corpus_tools.lm.kneser_ney import NgramCounter, estimate, read_arpa, write_arpa
from corpus_tools.lm.model import LanguageModel, ModelError, TrainConfig, lm_normalize, paragraphs, train

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "data", "kenlm")
TRAIN_TXT = os.path.join(FIXTURE, "train.txt")
LMPLZ_ARPA = os.path.join(FIXTURE, "lmplz_o5.arpa.gz")


def fixture_lines() -> list[str]:
    with open(TRAIN_TXT, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


@pytest.fixture(scope="module")
def our_arpa(tmp_path_factory) -> str:
    counter = NgramCounter(order=5, chunk_tokens=7_000)  # several chunks folded together
    counter.add(line.split() for line in fixture_lines())
    path = str(tmp_path_factory.mktemp("kn") / "ours.arpa")
    write_arpa(estimate(counter), path)
    return path


@pytest.fixture(scope="module")
def lmplz_arpa(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("lmplz") / "lmplz.arpa")
    with gzip.open(LMPLZ_ARPA, "rb") as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return path


def test_every_ngram_matches_lmplz(our_arpa):
    ours, ref = read_arpa(our_arpa), read_arpa(LMPLZ_ARPA)
    assert set(ours) == set(ref)
    worst_prob = max(abs(ours[k][0] - ref[k][0]) for k in ref)
    worst_backoff = max(abs(ours[k][1] - ref[k][1]) for k in ref)
    assert worst_prob < 1e-4 and worst_backoff < 1e-4, (worst_prob, worst_backoff)


def test_sentence_log10_probabilities_match_lmplz(our_arpa, lmplz_arpa):
    ours, ref = kenlm.Model(our_arpa), kenlm.Model(lmplz_arpa)
    sentences = fixture_lines()[::25] + [
        "the kernel frees the buffer when the last reference is dropped .",
        "zxqv unseen words never appeared in training",
        "struct device * dev ,",
        "",
    ]
    for s in sentences:
        assert abs(ours.score(s, bos=True, eos=True) - ref.score(s, bos=True, eos=True)) < 1e-3, s


def test_chunked_counts_equal_one_pass_counts():
    lines = [line.split() for line in fixture_lines()[:300]]
    one, many = NgramCounter(3, chunk_tokens=10**9), NgramCounter(3, chunk_tokens=500)
    one.add(lines)
    many.add(lines)
    cols = ["w0", "w1", "w2"]
    a = one.finish().sort_values(cols).reset_index(drop=True)
    b = many.finish().sort_values(cols).reset_index(drop=True)
    assert a.equals(b)


def test_tiny_corpus_falls_back_to_lmplz_default_discounts(tmp_path, capsys):
    counter = NgramCounter(order=3)
    counter.add([["a", "b"], ["a", "c"]])
    model = estimate(counter)
    assert any(d.fallback for d in model.discounts)
    assert "fallback" in capsys.readouterr().err
    write_arpa(model, str(tmp_path / "tiny.arpa"))
    assert kenlm.Model(str(tmp_path / "tiny.arpa")).order == 3


def test_reserved_tokens_in_training_text_are_an_error():
    with pytest.raises(ValueError, match="reserved token"):
        NgramCounter(3).add([["a", "</s>", "b"]])


def test_normalization_folds_case_and_digits():
    assert lm_normalize("Linux 6.1  Kernel") == "linux 0.0 kernel"
    assert paragraphs("First Line\n\n  \nSecond 2026") == ["first line", "second 0000"]


def test_whitespace_collapses_exactly_as_the_plain_pattern():
    """lm_normalize skips single plain spaces instead of replacing them by themselves: on any
    mix of spaces, other Unicode whitespace and newlines it equals collapsing `[^\\S\\n]+`."""
    import random
    import re

    plain = re.compile(r"[^\S\n]+")
    alphabet = [" ", " ", "\n", "\t", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\xa0", "\u2028", "\u3000", "a", "字"]
    rnd = random.Random(0)
    for _ in range(20_000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))
        assert lm_normalize(text) == plain.sub(" ", text), repr(text)


@pytest.fixture(scope="module")
def small_model(tmp_path_factory) -> str:
    prefix = str(tmp_path_factory.mktemp("model") / "en")
    train([TRAIN_TXT], prefix, TrainConfig("en", order=5, vocab_size=2000))
    return prefix


def test_train_writes_a_model_kenlm_loads(small_model):
    with open(f"{small_model}.json", encoding="utf-8") as f:
        meta = json.load(f)
    assert meta["lang"] == "en" and meta["order"] == 5 and meta["sentences"] == 1200
    assert len(meta["ngrams"]) == 5 and all(n > 0 for n in meta["ngrams"])
    assert kenlm.Model(f"{small_model}.arpa").order == 5


def test_scorer_agrees_with_kenlm_on_known_sentences(small_model):
    lm = LanguageModel(small_model)
    raw = kenlm.Model(f"{small_model}.arpa")
    doc = "The kernel frees the buffer.\nStruct device * dev, 42 times"
    lines = paragraphs(doc)
    tokenized = [" ".join(lm.tokenizer.encode(line, out_type=str)) for line in lines]
    logs = [raw.score(t, bos=True, eos=True) for t in tokenized]
    lengths = [len(t.split()) + 1 for t in tokenized]
    joined = " ".join(tokenized)
    ppl, ppl_para = lm.perplexities(doc)
    assert ppl == pytest.approx(10 ** (-raw.score(joined, bos=True, eos=True) / (len(joined.split()) + 1)), rel=1e-9)
    assert ppl_para == pytest.approx(10 ** (-sum(logs) / sum(lengths)), rel=1e-9)
    assert lm.perplexities("   \n ") == (None, None)


def test_a_batch_scores_each_document_as_it_scores_alone(small_model):
    """Lines of many documents tokenized in one call: each document's scores are those of
    tokenizing and scoring it on its own, line by line."""
    lm = LanguageModel(small_model)

    def alone(doc):
        tokenized = [" ".join(lm.tokenizer.encode(line, out_type=str)) for line in paragraphs(doc)]
        if not tokenized:
            return None, None
        logs = [lm.kenlm.score(t, bos=True, eos=True) for t in tokenized]
        joined = " ".join(tokenized)
        return (10.0 ** (-lm.kenlm.score(joined, bos=True, eos=True) / (len(joined.split()) + 1)),
                10.0 ** (-sum(logs) / sum(len(t.split()) + 1 for t in tokenized)))

    docs = ["The kernel frees the buffer.\nStruct device * dev, 42 times", "", "  \n\t", "qqqq zzzz",
            "One line only.", "Lines\n\nwith  gaps \u3000 and\ttabs\n"]
    assert lm.perplexities_batch(docs) == [alone(d) for d in docs]
    assert lm.perplexities_batch(docs)[1:3] == [(None, None), (None, None)]
    assert lm.perplexities_batch([]) == []


def test_in_domain_text_scores_lower_than_garbled_text(small_model):
    lm = LanguageModel(small_model)
    clean = fixture_lines()[10]
    garbled = " ".join(reversed(clean.split()))
    assert lm.perplexities(clean)[1] < lm.perplexities(garbled)[1]


def test_corrupt_and_missing_model_files_are_clear_errors(small_model, tmp_path):
    for name in ("en.json", "en.sp.model"):
        shutil.copy(f"{small_model}.{name.split('.', 1)[1]}", tmp_path / name)
    (tmp_path / "en.arpa").write_text("\\data\\\nngram 1=zz\n")
    meta = json.loads((tmp_path / "en.json").read_text())
    meta["binary"] = None
    (tmp_path / "en.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="cannot load language model"):
        LanguageModel(str(tmp_path / "en"))
    os.remove(tmp_path / "en.arpa")
    with pytest.raises(ModelError, match="not found"):
        LanguageModel(str(tmp_path / "en"))
    (tmp_path / "en.json").write_text("{not json")
    with pytest.raises(ModelError, match="corrupt model metadata"):
        LanguageModel(str(tmp_path / "en"))


def test_perplexity_is_finite_for_unknown_words(small_model):
    ppl, ppl_para = LanguageModel(small_model).perplexities("qqqq zzzz xxxx")
    assert math.isfinite(ppl) and math.isfinite(ppl_para)


def test_cli_kenlm_train_writes_the_model(tmp_path, capsys):
    from ziya.cli import main

    rc = main(["kenlm", "train", "--lang", "en", "--input", TRAIN_TXT, "--output", str(tmp_path / "en"),
               "--order", "3", "--vocab-size", "1000"])
    assert rc == 0
    assert "3-gram model" in capsys.readouterr().err
    assert LanguageModel(str(tmp_path / "en")).kenlm.order == 3


def test_cli_kenlm_train_without_text_is_a_clear_error(tmp_path, capsys):
    from ziya.cli import main

    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    assert main(["kenlm", "train", "--lang", "en", "--input", str(empty), "--output", str(tmp_path / "m")]) == 2
    assert "no reference text" in capsys.readouterr().err
