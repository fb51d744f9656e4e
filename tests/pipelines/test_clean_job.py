"""End-to-end `ziya clean` on a real Spark session: layout, accounting, bad input, determinism."""
from __future__ import annotations

import json
import os

import pyarrow.parquet as pq
import pytest
import zstandard

from corpus_tools.clean import CleanConfig
from corpus_tools.config import dumps
from pipelines import clean
from pipelines.stage import OutputExists
from tests.conftest import SAMPLE
from tests.hostile_inputs import GOOD, ODD_IDS, count_input_records, write_bad_inputs


def read_dir(path: str) -> list[dict]:
    files = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(".parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


@pytest.fixture(scope="module")
def sample_run(sample_clean_output):
    with open(os.path.join(sample_clean_output, "stats.json"), encoding="utf-8") as f:
        return sample_clean_output, json.load(f)


def test_sample_run_writes_the_contract_layout(sample_run):
    out, stats = sample_run
    assert {"kept", "rejected", "quarantine", "stats.json", "config.json", "_SUCCESS"} <= set(os.listdir(out))
    kept = read_dir(os.path.join(out, "kept"))
    rejected = read_dir(os.path.join(out, "rejected"))
    assert kept and rejected
    assert {"id", "text", "source", "url", "meta", "lang", "lang_score", "signals"} <= set(kept[0])
    assert all(r["drop_reason"] for r in rejected)
    assert json.load(open(os.path.join(out, "config.json"))) == json.loads(dumps(CleanConfig()))


def test_sample_run_accounts_for_every_input_record(sample_run):
    out, stats = sample_run
    kept = read_dir(os.path.join(out, "kept"))
    rejected = read_dir(os.path.join(out, "rejected"))
    quarantined = read_dir(os.path.join(out, "quarantine"))
    assert stats["reconciles"]
    assert stats["input"] == count_input_records([SAMPLE])
    assert stats["kept"] == len(kept) and stats["rejected"] == len(rejected) and stats["quarantined"] == len(quarantined)
    assert stats["input"] + stats["extra_segments"] == len(kept) + len(rejected) + len(quarantined)
    assert sum(v for k, v in stats["counters"].items() if k.startswith("drop/")) == len(rejected)


def test_sample_run_keeps_good_chinese_and_english(sample_run):
    out, stats = sample_run
    c = stats["counters"]
    for lang in ("zh", "en"):
        kept, rejected = c.get(f"lang/{lang}/kept", 0), c.get(f"lang/{lang}/rejected", 0)
        assert kept / (kept + rejected) > 0.4, (lang, kept, rejected)


def test_rerun_with_same_config_is_a_no_op_and_different_config_is_refused(spark, sample_run):
    out, stats = sample_run
    assert clean.run(spark, [SAMPLE], out, CleanConfig()) == stats
    with pytest.raises(OutputExists):
        clean.run(spark, [SAMPLE], out, CleanConfig.from_dict({"langid": {"min_score": 0.5}}))


def test_bad_input_is_quarantined_and_the_job_completes(spark, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    write_bad_inputs(inputs)
    stats = clean.run(spark, [str(inputs)], str(tmp_path / "out"), CleanConfig())
    assert stats["reconciles"]
    assert stats["input"] == count_input_records([str(inputs)])
    quarantined = read_dir(str(tmp_path / "out" / "quarantine"))
    errors = {r["error"].split(":")[0] for r in quarantined}
    assert {"malformed_json", "invalid_utf8", "text_not_a_string", "missing_text_field", "truncated_file",
            "corrupt_compressed_data", "invalid_unicode", "nested_too_deep"} <= errors
    by_file = {}
    for r in quarantined:
        by_file.setdefault(r["file"], []).append(r["error"].split(":")[0])
    assert by_file["tail.jsonl.zst"] == by_file["tail.jsonl.gz"] == ["corrupt_compressed_data"]
    assert sorted(by_file["surrogates.jsonl"]) == ["invalid_unicode"] * 5
    assert by_file["deep.jsonl"] == ["nested_too_deep"] * 4
    assert "ids.jsonl" not in by_file
    c = stats["counters"]
    assert c["drop/empty"] >= 1
    assert stats["extra_segments"] > 0  # the 20 MB document was split into segments
    outputs = read_dir(str(tmp_path / "out" / "kept")) + read_dir(str(tmp_path / "out" / "rejected"))
    ids = {r["id"] for r in outputs}
    assert {f"{tag}-{r['id']}" for tag in ("zst", "gz") for r in GOOD} <= ids  # nothing before the garbage lost
    assert {canonical for _, canonical in ODD_IDS.values()} <= ids
    huge = [r for r in outputs if r["id"].startswith("huge#")]
    assert len(huge) >= 60 and max(r["n_chars"] for r in huge) <= CleanConfig().preprocess.max_segment_chars


def decompress_sample(dest) -> str:
    """The sample as plain JSONL, which (unlike .zst) Spark splits into byte ranges."""
    dest.mkdir()
    for name in sorted(os.listdir(SAMPLE)):
        if name.endswith(".jsonl.zst"):
            with open(os.path.join(SAMPLE, name), "rb") as f:
                data = zstandard.ZstdDecompressor().stream_reader(f).read()
            (dest / name[: -len(".zst")]).write_bytes(data)
    return str(dest)


def test_output_does_not_depend_on_partitioning(spark, tmp_path):
    plain = decompress_sample(tmp_path / "plain")
    whole = clean.run(spark, [plain], str(tmp_path / "a"), CleanConfig())
    split_cfg = CleanConfig.from_dict({"input": {"split_bytes": 300_000, "batch_rows": 97}})
    pieces = clean.run(spark, [plain], str(tmp_path / "b"), split_cfg)
    assert pieces["splits"] > whole["splits"]
    for name in ("kept", "rejected", "quarantine"):
        a = sorted(json.dumps(r, sort_keys=True, default=str) for r in read_dir(str(tmp_path / "a" / name)))
        b = sorted(json.dumps(r, sort_keys=True, default=str) for r in read_dir(str(tmp_path / "b" / name)))
        assert a == b, name


def test_empty_outputs_still_carry_their_schema(spark, sample_run):
    out, stats = sample_run
    assert stats["quarantined"] == 0  # the sample has no unparseable records
    frame = spark.read.parquet(os.path.join(out, "quarantine"))
    assert frame.count() == 0 and frame.columns == ["source", "file", "offset", "error", "raw"]


def test_an_interrupted_run_resumes_and_matches_a_whole_run(spark, sample_run, tmp_path, capfd):
    """Finish one split by hand as a killed run would have, then let the job do the rest."""
    from corpus_tools.readers import Split
    from pipelines.stage import StageOutput

    cfg = CleanConfig()
    target = str(tmp_path / "resumed")
    from corpus_tools.readers import input_files
    from pipelines.stage import plan_parts

    plan = plan_parts(input_files([SAMPLE]), cfg.input.split_bytes)
    out = StageOutput(target, dumps(cfg))
    out.begin(plan)
    first = dict(plan[0])
    clean.clean_part(dumps(cfg), Split(**{k: v for k, v in first.items() if k != "part"}), out.tmp, first["part"])
    stats = clean.run(spark, [SAMPLE], target, cfg)
    assert stats["resumed_splits"] == 1
    assert "resuming: 1 of" in capfd.readouterr().err
    whole_out, whole = sample_run
    assert {k: stats[k] for k in ("input", "kept", "rejected", "quarantined")} == {k: whole[k] for k in ("input", "kept", "rejected", "quarantined")}
    for name in ("kept", "rejected"):
        assert sorted(r["id"] for r in read_dir(os.path.join(target, name))) == sorted(r["id"] for r in read_dir(os.path.join(whole_out, name)))
