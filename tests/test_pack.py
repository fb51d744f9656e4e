"""`ziya pack` on a real Spark session: round trip of the sample (every document once, in id order,
EOS after each), shard limits, megatron-core's IndexedDataset and GPTDataset reading the shards,
determinism across partitionings, bad input accounted for, and a bad tokenizer failing first."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_tools.mix import build_blends
from corpus_tools.shards import PackConfig, ShardReader, verify_pack
from corpus_tools.tokenizer import load_tokenizer
from pipelines import pack
from pipelines.shard_plan import plan_shards
from pipelines.stage import OutputExists
from tests.conftest import REPO, SAMPLE_PACK_SHARD_TOKENS
from ziya.cli import main as cli_main


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer()


def manifest_of(path: str) -> dict:
    with open(os.path.join(path, "manifest.json")) as f:
        return json.load(f)


def stats_of(path: str) -> dict:
    with open(os.path.join(path, "stats.json")) as f:
        return json.load(f)


def source_tokens(pack_dir: str, source: str) -> tuple[np.ndarray, list[int]]:
    """A source's tokens across its shards in manifest order, and each document's length."""
    tokens, lengths = [], []
    for shard in manifest_of(pack_dir)["shards"]:
        if shard["source"] == source:
            reader = ShardReader(os.path.join(pack_dir, shard["prefix"]))
            tokens.append(np.array(reader.tokens))
            lengths += reader.lengths.tolist()
    return np.concatenate(tokens), lengths


def test_round_trip_every_document_once_in_id_order_with_eos(sample_pack_output, sample_clean_output, tok):
    kept = pq.read_table(os.path.join(sample_clean_output, "kept"), columns=["id", "text", "source"]).to_pylist()
    manifest = manifest_of(sample_pack_output)
    assert set(manifest["sources"]) == {d["source"] for d in kept}
    for source in manifest["sources"]:
        docs = sorted((d for d in kept if d["source"] == source and d["text"].strip()), key=lambda d: d["id"])
        expected = [ids + [tok.eos_id] for ids in tok.encode_batch([d["text"] for d in docs])]
        tokens, lengths = source_tokens(sample_pack_output, source)
        assert lengths == [len(e) for e in expected], source  # every document once, in id order
        assert tokens.tolist() == [t for e in expected for t in e], source
        ends = np.cumsum(lengths)
        assert (tokens[ends - 1] == tok.eos_id).all() and (tokens == tok.eos_id).sum() == len(docs)
        first = tokens[:lengths[0] - 1]
        assert tok.decode(first) == tok.decode(tok.encode_batch([docs[0]["text"]])[0])

    stats = stats_of(sample_pack_output)
    assert stats["input"] == len(kept) == stats["packed"] + stats["dropped"]["empty"] + stats["quarantined"]
    assert stats["reconciles"] and stats["tokens"] == manifest["totals"]["tokens"]
    assert manifest["tokenizer"]["sha256"] == tok.sha256 and manifest["dtype"] == "uint16"


def test_shards_hold_one_source_and_at_most_shard_tokens_plus_one_document(sample_pack_output):
    manifest = manifest_of(sample_pack_output)
    assert manifest["config"]["shard_tokens"] == SAMPLE_PACK_SHARD_TOKENS
    assert any(s["shards"] > 1 for s in manifest["sources"].values())
    for shard in manifest["shards"]:
        reader = ShardReader(os.path.join(sample_pack_output, shard["prefix"]))
        assert shard["tokens"] - int(reader.lengths[-1]) < SAMPLE_PACK_SHARD_TOKENS, shard["prefix"]
        assert os.path.basename(shard["prefix"]).startswith(shard["source"])
    assert verify_pack(sample_pack_output).ok


def test_megatron_reads_the_shards_and_builds_gpt_samples(sample_pack_output):
    from megatron.core.datasets.blended_megatron_dataset_builder import BlendedMegatronDatasetBuilder
    from megatron.core.datasets.gpt_dataset import GPTDataset, GPTDatasetConfig
    from megatron.core.datasets.indexed_dataset import IndexedDataset

    manifest = manifest_of(sample_pack_output)
    for shard in manifest["shards"]:
        ds = IndexedDataset(os.path.join(sample_pack_output, shard["prefix"]))
        assert len(ds) == shard["documents"] and int(ds.sequence_lengths.sum()) == shard["tokens"]

    class Tokenizer:  # what GPTDataset asks of a tokenizer
        vocab_size, eod, pad = manifest["tokenizer"]["vocab_size"], manifest["tokenizer"]["eos_id"], -1
        unique_identifiers = {"class": "test", "vocab_size": 32000}

    blends = build_blends(os.path.join(REPO, "recipes", "ziya2_demo.toml"), [sample_pack_output])
    stage = blends["stages"][0]
    cfg = GPTDatasetConfig(random_seed=1, sequence_length=64, blend=(stage["blend"]["prefixes"], stage["blend"]["weights"]),
                           split="100,0,0", path_to_cache=None, tokenizer=Tokenizer(),  # no cache: no process group needed
                           reset_position_ids=False, reset_attention_mask=False, eod_mask_loss=False)
    train, _, _ = BlendedMegatronDatasetBuilder(GPTDataset, [32, 0, 0], lambda: True, cfg).build()
    sample = train[0]
    assert len(train) >= 32 and sample["tokens"].shape == (64,)
    assert int(sample["tokens"].max()) < 32000


def test_ziya2_demo_recipe_resolves_against_the_sample_pack(sample_pack_output):
    blends = build_blends(os.path.join(REPO, "recipes", "ziya2_demo.toml"), [sample_pack_output])
    assert [s["name"] for s in blends["stages"]] == ["general", "instruction_mix", "math_heavy"]
    for stage in blends["stages"]:
        assert sum(stage["blend"]["weights"]) == pytest.approx(1.0)
        assert all(os.path.exists(p + ".bin") for p in stage["blend"]["prefixes"])
        assert max(s["epochs"] for s in stage["sources"]) < 5  # no source repeated absurdly


def test_deterministic_across_input_partitioning_and_shuffle_partitions(spark, sample_pack_output, sample_clean_output, tmp_path):
    """The same documents as three Parquet files in shuffled order, packed with 5 shuffle partitions
    instead of 2: byte-identical shards (same names, counts and sha256)."""
    kept = pq.read_table(os.path.join(sample_clean_output, "kept"))
    order = np.random.default_rng(3).permutation(kept.num_rows)
    reshuffled = tmp_path / "reshuffled"
    reshuffled.mkdir()
    for k, rows in enumerate(np.array_split(order, 3)):
        pq.write_table(kept.take(pa.array(rows)), str(reshuffled / f"part-{k}.parquet"))
    before = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", "5")
    try:
        out = str(tmp_path / "pack")
        pack.run(spark, [str(reshuffled)], out, PackConfig(shard_tokens=SAMPLE_PACK_SHARD_TOKENS))
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", before)
    assert manifest_of(out)["shards"] == manifest_of(sample_pack_output)["shards"]


def write_jsonl(path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


LONG_TEXT = " ".join(f"word{i}" for i in range(200))  # far more tokens than shard_tokens below


@pytest.fixture(scope="module")
def raw_pack(spark, tmp_path_factory):
    """A pack of raw JSON lines with bad records, empty and over-long documents: (input, output, stats)."""
    raw = tmp_path_factory.mktemp("raw")
    write_jsonl(raw / "mixed.jsonl", [
        json.dumps({"id": "a", "text": "第一篇文章。", "source": "s"}),
        json.dumps({"id": "b", "text": "", "source": "s"}),
        json.dumps({"id": "c", "text": "  \n\t ", "source": "s"}),
        json.dumps({"id": "d", "text": LONG_TEXT, "source": "s"}),
        json.dumps({"id": "e", "text": "short one", "source": "s"}),
        json.dumps({"id": "f", "title": "no text field", "source": "s"}),
        '{"id": "g", "text": "broken json',
        json.dumps({"id": "h", "text": "another source"}),  # no source field: the file name
    ])
    out = str(tmp_path_factory.mktemp("raw_pack") / "pack")
    return str(raw), out, pack.run(spark, [str(raw)], out, PackConfig(shard_tokens=20))


def test_bad_input_is_accounted_for_and_a_long_document_ends_its_shard(raw_pack, tok):
    _, out, stats = raw_pack
    assert (stats["input"], stats["packed"], stats["dropped"], stats["quarantined"]) == (8, 4, {"empty": 2}, 2)
    assert stats["per_source"]["s"]["empty"] == 2
    manifest = manifest_of(out)
    shards = [(s["prefix"], s["documents"]) for s in manifest["shards"]]
    # source s in id order: a (short) starts shard 0; d starts in it and overruns; e starts past 20 tokens
    assert shards == [("shards/mixed-00000", 1), ("shards/s-00000", 2), ("shards/s-00001", 1)]
    long_tokens = len(tok.encode_batch([LONG_TEXT])[0]) + 1
    assert manifest["shards"][1]["tokens"] == len(tok.encode_batch(["第一篇文章。"])[0]) + 1 + long_tokens
    assert pq.read_table(os.path.join(out, "quarantine")).num_rows == 2
    assert verify_pack(out).ok


def test_an_interrupted_run_resumes_keeping_its_finished_shards(spark, raw_pack, tmp_path):
    """Left by a killed run: the run's plan and one finished shard (files + done marker). The rerun
    keeps that shard's files as they are and writes the rest: the same pack as an uninterrupted run."""
    raw, finished, _ = raw_pack
    manifest = manifest_of(finished)
    done = manifest["shards"][1]
    tmp = tmp_path / "pack.incomplete"
    (tmp / "shards").mkdir(parents=True)
    (tmp / "_done").mkdir()
    for ext in (".bin", ".idx"):
        shutil.copy(os.path.join(finished, done["prefix"] + ext), tmp / (done["prefix"] + ext))
    info = {k: done[k] for k in ("documents", "tokens", "dtype", "bin_bytes", "bin_sha256", "idx_bytes", "idx_sha256")}
    (tmp / "_done" / f"{os.path.basename(done['prefix'])}.json").write_text(json.dumps(info))
    config = json.loads(open(os.path.join(finished, "config.json")).read())
    (tmp / "_run.json").write_text(json.dumps({"config": config, "plan": [{"inputs": [raw]}]}))
    kept_inode = os.stat(tmp / (done["prefix"] + ".bin")).st_ino
    (tmp / "shards" / "s-00001.bin.tmp").write_bytes(b"half a shard")  # a task killed mid-write

    stats = pack.run(spark, [raw], str(tmp_path / "pack"), PackConfig(shard_tokens=20))
    assert stats["resumed"]
    assert manifest_of(str(tmp_path / "pack"))["shards"] == manifest["shards"]
    assert os.stat(tmp_path / "pack" / (done["prefix"] + ".bin")).st_ino == kept_inode  # not rewritten
    assert not [n for n in os.listdir(tmp_path / "pack" / "shards") if n.endswith(".tmp")]


def test_rerun_is_a_no_op_and_another_config_is_refused(spark, sample_pack_output):
    stats = pack.run(spark, ["ignored: finished runs are not re-read"], sample_pack_output,
                     PackConfig(shard_tokens=SAMPLE_PACK_SHARD_TOKENS))
    assert stats == stats_of(sample_pack_output)
    with pytest.raises(OutputExists, match="different config"):
        pack.run(spark, ["ignored"], sample_pack_output, PackConfig(shard_tokens=7))


@pytest.mark.parametrize("damage", ["truncated", "missing", "garbage"])
def test_a_bad_tokenizer_fails_before_any_spark_work(tmp_path, capsys, damage, tok):
    model = tmp_path / "tokenizer.model"
    if damage == "truncated":
        model.write_bytes(tok.model_bytes[: len(tok.model_bytes) // 3])
    elif damage == "garbage":
        model.write_bytes(b"\x00\xff not a model" * 100)
    out = tmp_path / "pack"
    rc = cli_main(["pack", "--input", str(tmp_path), "--output", str(out), "--tokenizer", str(model)])
    err = capsys.readouterr().err
    assert rc == 2 and f"ziya pack: error: {model}" in err, err
    assert not out.exists() and not (tmp_path / "pack.incomplete").exists()


def test_repeated_ids_within_a_source_stop_the_job(spark, tmp_path):
    """Shards are ordered by id: two documents of one source with the same id have no defined order."""
    raw = tmp_path / "raw"
    raw.mkdir()
    write_jsonl(raw / "r.jsonl", [json.dumps({"id": "x", "text": t, "source": "s"}) for t in ("one", "two")])
    with pytest.raises(ValueError, match=r"unique within a source; sources with repeated ids: \['s'\]"):
        pack.run(spark, [str(raw)], str(tmp_path / "pack"), PackConfig())


def sequential_shards(rows: list[tuple[str, str, int]], shard_tokens: int) -> list[dict]:
    """The shard plan by a plain loop over each source's documents in id order."""
    shards: dict[tuple[str, int], dict] = {}
    for source in sorted({r[0] for r in rows}):
        offset = 0
        for _, doc_id, n in sorted(r for r in rows if r[0] == source):
            if n:
                s = shards.setdefault((source, offset // shard_tokens),
                                      {"source": source, "key": offset // shard_tokens, "first_id": doc_id,
                                       "documents": 0, "tokens": 0})
                s["documents"] += 1
                s["tokens"] += n
            offset += n
    return [shards[k] for k in sorted(shards)]


@pytest.mark.parametrize("partitions", [1, 7])
def test_shard_plan_is_a_prefix_sum_over_range_partitions(spark, partitions):
    """One big source split over many partitions and Arrow batches (and two small ones, empty
    documents among them) gives the plan a sequential loop gives."""
    rng = np.random.default_rng(3)
    rows = [("big", f"d{i:05d}", int(n)) for i, n in enumerate(rng.integers(0, 300, 6000))]
    rows += [("small", f"s{i}", i % 3 * 50) for i in range(40)] + [("zzz", "only", 0)]
    rng.shuffle(rows)
    df = spark.createDataFrame(rows, "source string, id string, n_tokens long")
    before = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
    try:
        per_source, shards = plan_shards(df, shard_tokens=5000)
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", before)
    assert shards == sequential_shards(rows, 5000)
    assert per_source["big"] == {"documents": 6000, "tokens": sum(r[2] for r in rows if r[0] == "big"),
                                 "empty": sum(1 for r in rows if r[0] == "big" and r[2] == 0)}
    assert per_source["zzz"] == {"documents": 1, "empty": 1, "tokens": 0}


def test_a_repeated_id_is_found_wherever_it_falls(spark):
    rows = [("s", f"d{i:05d}", 10) for i in range(3000)] + [("s", "d02999", 10), ("t", "a", 1)]
    before = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", "5")
    try:
        with pytest.raises(ValueError, match=r"sources with repeated ids: \['s'\]"):
            plan_shards(spark.createDataFrame(rows, "source string, id string, n_tokens long"), 100)
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", before)
