"""Benchmark decontamination without Spark: n-grams after normalization, the benchmark index,
reformatted copies found, short shared phrases ignored, CJK and mixed text, benchmark files."""
from __future__ import annotations

import gzip
import json
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from corpus_tools.config import ConfigError
from corpus_tools.decontaminate import (BenchmarkIndex, DecontaminateConfig, Decontaminator, ngrams, normalize,
                                        rejected_schema, split_batch)
from tests.conftest import SAMPLE


def sample_texts(source: str, n: int, min_chars: int = 400) -> list[str]:
    """Real texts from the bundled sample corpus (data/sample/docs.jsonl.zst, news.jsonl.zst)."""
    name = "news" if source == "people_daily_1998" else "docs"
    with open(f"{SAMPLE}/{name}.jsonl.zst", "rb") as f:
        records = [json.loads(line) for line in zstandard.ZstdDecompressor().stream_reader(f).read().splitlines()]
    texts = [r["text"] for r in records if r["source"] == source and r["kind"] in ("news", "docs")
             and len(r["text"]) >= min_chars]
    return texts[:n]


# prose words only, so that its tokens are exactly its space-separated words
ENGLISH = [" ".join(w for w in t.split() if w.isalpha()) for t in sample_texts("python_docs", 3, min_chars=2000)]
CHINESE = sample_texts("people_daily_1998", 3, min_chars=200)


def words(text: str, start: int, count: int) -> str:
    return " ".join(text.split()[start:start + count])


def write_jsonl(path, items: list[dict]) -> str:
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return str(path)


def index_of(tmp_path, items: list[dict], name: str = "bench.jsonl", fields=(), n: int = 13) -> BenchmarkIndex:
    return BenchmarkIndex.build([write_jsonl(tmp_path / name, items)], list(fields), n)


def test_normalize_decodes_entities_folds_width_and_case():
    assert normalize("ＡＢＣ１２３，Straße &amp; &lt;b&gt; ﬁle") == "abc123,strasse & <b> file"
    assert normalize("no entity here") == "no entity here"


def test_ngrams_are_13_tokens_ignore_punctuation_and_do_not_depend_on_their_neighbours():
    text = normalize(ENGLISH[0])
    n_tokens = len(text.split())
    alone = ngrams([text], 13)
    assert len(alone.hashes) == n_tokens - 12 > 0
    # the same text inside a chunk of others hashes the same (hashes are position independent)
    chunk = ngrams(["unrelated words before", text, normalize(CHINESE[0])], 13)
    assert np.array_equal(chunk.hashes[chunk.owner == 1], alone.hashes)
    # spans are the normalized text itself
    span = alone.joined[alone.start[0]:alone.end[0]]
    assert span == " ".join(text.split()[:13])
    assert len(ngrams(["only twelve words here a b c d e f g h"], 13).hashes) == 0
    # punctuation and spacing only separate tokens
    a, b = ngrams(["one two three four five six seven eight nine ten eleven twelve thirteen"], 13), \
        ngrams(["One,  two; three... four\nfive (six) seven — eight: nine/ten eleven! twelve? thirteen."], 13)
    assert a.hashes.tolist() == ngrams([normalize(b.joined)], 13).hashes.tolist()


def test_cjk_ngrams_are_13_characters_and_mixed_text_counts_words_and_characters():
    zh = normalize(CHINESE[0])
    han = len(re.findall(r"[\u4e00-\u9fff]", zh))
    assert len(ngrams([zh], 13).hashes) >= han - 12 > 0
    mixed = ngrams([normalize("用Python编程很有意思，我们一起学习Spark和Hadoop吧")], 13)
    assert len(mixed.hashes) == 18 - 12  # 用 python 编 程 很 有 意 思 我 们 一 起 学 习 spark 和 hadoop 吧
    assert mixed.joined[mixed.start[0]:mixed.end[0]].startswith("用python编程")


@pytest.mark.parametrize("reformat", [
    str.upper,
    lambda s: s.replace(" ", "   "),
    lambda s: re.sub(r"(\S+ \S+ \S+) ", r"\1\n", s),  # re-wrapped lines
    lambda s: s.replace(",", " , ").replace(".", " ."),
    lambda s: s.translate({ord(c): ord(c) + 0xFEE0 for c in "abcdefghijklmnopqrstuvwxyz"}),  # full-width letters
    lambda s: s.replace("'", "&#39;").replace(" a ", " &#97; "),  # entities
], ids=["upper", "spaces", "line_breaks", "punctuation", "fullwidth", "entities"])
def test_a_reformatted_copy_of_an_item_is_found(tmp_path, reformat):
    question = words(ENGLISH[0], 10, 30)
    index = index_of(tmp_path, [{"question": "An unrelated item about nothing in particular at all, long enough to "
                                             "count as an item of the benchmark."}, {"question": question}])
    copy = "Some preface text. " + reformat(words(ENGLISH[0], 15, 14)) + " And an ending."
    match = Decontaminator(index).find([copy, ENGLISH[1]])
    assert match[0] is not None and match[0].item == 1 and match[0].ngrams == 2, match
    assert match[0].span == normalize(words(ENGLISH[0], 15, 13)).replace("\n", " ") or match[0].span
    assert match[1] is None


def test_a_shared_phrase_shorter_than_13_tokens_is_not_contamination(tmp_path):
    question = words(ENGLISH[0], 0, 40)
    index = index_of(tmp_path, [{"question": question}])
    finder = Decontaminator(index)
    twelve, thirteen = words(ENGLISH[0], 5, 12), words(ENGLISH[0], 5, 13)
    # the same words around, but not in order: no 13 consecutive tokens in common
    found = finder.find([f"Before. {twelve}. After, something else entirely different.", f"x {thirteen} y",
                         f"{twelve} zebra {words(ENGLISH[0], 17, 12)}"])
    assert [m is not None for m in found] == [False, True, False]


def test_chinese_copies_with_fullwidth_and_halfwidth_punctuation_and_spaces_are_found(tmp_path):
    passage = CHINESE[0][:120]
    index = index_of(tmp_path, [{"question": passage, "answer": "A"}])
    finder = Decontaminator(index)
    han = re.sub(r"[^\u4e00-\u9fff]", "", passage)
    spaced = " ".join(han[20:34])  # 14 characters with spaces between
    converted = han[20:34].replace("", "，")[1:-1]  # full-width commas between characters
    short = han[20:32]  # 12 characters only
    found = finder.find([f"今天的新闻：{spaced}。", f"（{converted}）", f"这是一段话{short}没有更多了"])
    assert [m is not None for m in found] == [True, True, False]
    assert found[0].span.replace(" ", "").startswith(han[20:33])


def test_items_shorter_than_the_ngram_are_counted_and_fields_can_be_chosen(tmp_path):
    items = [{"question": "What is 2+2?", "answer": "4", "id": 1},
             {"question": words(ENGLISH[1], 0, 20), "choices": ["a b c", "d e f"], "answer": "B"},
             {"meta": "no text fields"}]
    index = index_of(tmp_path, items, fields=("question", "choices"))
    s = index.summary[0]
    assert (s["items"], s["short_items"], s["items_without_fields"]) == (3, 1, 1)
    assert s["ngrams"] == 20 - 12 + 3 + 3  # the question and the two choices joined by line breaks: 26 tokens
    with pytest.raises(ConfigError, match="no item has any of the fields"):
        index_of(tmp_path, items, fields=("passage",))
    everything = index_of(tmp_path, items)  # every string field and list of strings
    assert everything.summary[0]["ngrams"] == 20 + 3 + 3 + 1 - 12


def test_the_benchmark_with_most_shared_ngrams_names_the_drop_reason(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [{"q": words(ENGLISH[0], 0, 20)}])
    b = write_jsonl(tmp_path / "b.jsonl", [{"q": "filler " * 3 + words(ENGLISH[0], 0, 14)}, {"q": words(ENGLISH[2], 0, 40)}])
    index = BenchmarkIndex.build([a, b], [], 13)
    finder = Decontaminator(index)
    both, only_b = finder.find([words(ENGLISH[0], 0, 20), words(ENGLISH[2], 3, 30)])
    # b's first item shares its two n-grams with a's: an n-gram of two benchmarks counts for the first named
    assert both.hits == {0: 8} and finder.reason(both) == "contaminated:a.jsonl"
    assert only_b.hits == {1: 18} and only_b.item == 1 and finder.reason(only_b) == "contaminated:b.jsonl"


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst", ".parquet"])
def test_benchmark_files_in_every_format_give_the_same_index(tmp_path, suffix):
    items = [{"question": words(t, 0, 30), "answer": "x"} for t in ENGLISH + CHINESE]
    reference = index_of(tmp_path, items)
    path = tmp_path / f"bench{suffix}"
    data = "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items).encode()
    if suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(items), path)
    else:
        path.write_bytes({".jsonl": data, ".jsonl.gz": gzip.compress(data),
                          ".jsonl.zst": zstandard.ZstdCompressor().compress(data)}[suffix])
    index = BenchmarkIndex.build([str(path)], [], 13)
    assert np.array_equal(index.keys, reference.keys) and np.array_equal(index.items, reference.items)


def test_bad_benchmark_files_are_one_clear_error(tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", [{"q": words(ENGLISH[0], 0, 30)}])
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"q": "fine"}) + "\n{not json\n")
    (tmp_path / "other").mkdir()
    twin = write_jsonl(tmp_path / "other" / "good.jsonl", [{"q": words(ENGLISH[1], 0, 30)}])
    short = write_jsonl(tmp_path / "short.jsonl", [{"q": "too short to match"}])
    cases = [([], "no benchmark given"), ([str(bad)], "bad.jsonl:2: not JSON"),
             ([good, twin], "two benchmarks are named 'good.jsonl'"),
             ([short], "no item has 13 tokens or more"),
             ([str(tmp_path / "bench.csv")], "unknown input format")]
    for paths, says in cases:
        with pytest.raises(Exception, match=re.escape(says)):
            BenchmarkIndex.build(paths, [], 13)


def test_the_digest_follows_the_contents(tmp_path):
    one = index_of(tmp_path, [{"q": words(ENGLISH[0], 0, 30)}])
    same = index_of(tmp_path, [{"q": words(ENGLISH[0], 0, 30)}])
    edited = index_of(tmp_path, [{"q": words(ENGLISH[0], 1, 30)}])
    assert one.digest() == same.digest() != edited.digest()
    assert index_of(tmp_path, [{"q": words(ENGLISH[0], 0, 30)}], n=8).digest() != one.digest()


def test_split_batch_keeps_rows_as_they_were_and_adds_the_match_to_rejected_rows(tmp_path):
    index = index_of(tmp_path, [{"q": words(ENGLISH[0], 0, 30)}])
    batch = pa.RecordBatch.from_pydict({"id": ["a", "b", "c"], "text": [ENGLISH[0], ENGLISH[1], None],
                                        "lang": ["en", "en", None]})
    kept, rejected, found = split_batch(batch, "text", Decontaminator(index))
    assert kept.schema == batch.schema and kept.column("id").to_pylist() == ["b", "c"]
    assert rejected.schema == rejected_schema(batch.schema)
    row = rejected.to_pylist()[0]
    assert row["id"] == "a" and row["drop_reason"] == "contaminated:bench.jsonl" and row["benchmark_item"] == 0
    assert row["matched_ngrams"] == 18 and row["matched_span"] == " ".join(normalize(words(ENGLISH[0], 0, 13)).split())
    assert len(found) == 1


def test_config_keys_are_checked():
    with pytest.raises(ConfigError, match="ngram"):
        DecontaminateConfig.from_dict({"ngram": 0})
    with pytest.raises(ConfigError):
        DecontaminateConfig.from_dict({"benchmark": ["x"]})


def test_the_demo_benchmark_is_what_its_script_builds_and_finds_its_planted_passages(tmp_path):
    import subprocess
    import sys

    from tests.conftest import REPO

    shipped = f"{REPO}/data/benchmarks/demo_eval.jsonl"
    subprocess.run([sys.executable, f"{REPO}/scripts/build_demo_benchmark.py", "--output", str(tmp_path / "b.jsonl")],
                   check=True, capture_output=True)
    assert (tmp_path / "b.jsonl").read_bytes() == open(shipped, "rb").read()
    items = [json.loads(line) for line in open(shipped, encoding="utf-8")]
    index = BenchmarkIndex.build([shipped], ["question", "passage", "answer"], 13)
    with open(f"{SAMPLE}/docs.jsonl.zst", "rb") as f, open(f"{SAMPLE}/news.jsonl.zst", "rb") as g:
        records = [json.loads(line) for h in (f, g) for line in zstandard.ZstdDecompressor().stream_reader(h).read().splitlines()]
    matches = Decontaminator(index).find([r["text"] for r in records])
    found = {records[i]["id"]: m.item for i, m in enumerate(matches) if m}
    planted = {it["from"]: i for i, it in enumerate(items) if it["kind"] == "cloze"}
    assert len(planted) == 40 and all(found.get(doc) == i for doc, i in planted.items())  # every planted passage
    assert all(items[i]["kind"] == "cloze" for i in found.values())  # no word problem matches the corpus
