"""`ziya score` on Spark (pipelines/score.py): scores, per-language percentiles and buckets,
thresholds, the missing-model path, bad input, accounting and partitioning independence."""
from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_tools.config import ConfigError
from corpus_tools.lm.model import ModelError, TrainConfig, train
from corpus_tools.lm.score import ScoreConfig
from pipelines import score

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN_TXT = os.path.join(HERE, "data", "kenlm", "train.txt")
N_EN = 20


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("models")
    train([TRAIN_TXT], str(folder / "en"), TrainConfig("en", order=5, vocab_size=2000))
    return str(folder)


def corpus_rows() -> list[dict]:
    with open(TRAIN_TXT, encoding="utf-8") as f:
        lines = [line.strip() for line in f][600:]
    rows = []
    for i in range(N_EN):
        text = "\n".join(lines[3 * i: 3 * i + 3])
        if i % 4 == 3:  # a few garbled ones, so the ranking has something to find
            text = " ".join(reversed(text.split()))
        rows.append({"id": f"en-{i:02d}", "text": text, "lang": "en", "source": "docs"})
    rows.append({"id": "zh-0", "text": "人民日报一九九八年元旦献词。", "lang": "zh", "source": "news"})
    rows.append({"id": "de-0", "text": "Ein kurzer deutscher Satz.", "lang": "de", "source": "web"})
    rows.append({"id": "en-empty", "text": "", "lang": "en", "source": "docs"})
    return rows


def write_input(folder, rows: list[dict], files: int = 1) -> str:
    os.makedirs(folder, exist_ok=True)
    for k in range(files):
        pq.write_table(pa.Table.from_pylist(rows[k::files]), os.path.join(folder, f"part-{k}.parquet"))
    return str(folder)


def read_all(folder: str) -> dict[str, dict]:
    table = pq.read_table(folder)
    return {r["id"]: r for r in table.to_pylist()}


@pytest.fixture(scope="module")
def scored(spark, models_dir, tmp_path_factory):
    base = tmp_path_factory.mktemp("score")
    inp = write_input(base / "in", corpus_rows())
    cfg = ScoreConfig(models=models_dir, keep=["high", "medium"])
    stats = score.run(spark, [inp], str(base / "out"), cfg)
    return base, stats, cfg


def test_buckets_take_exact_shares_of_each_language(scored):
    base, stats, _ = scored
    kept, rejected = read_all(str(base / "out" / "kept")), read_all(str(base / "out" / "rejected"))
    en_scored = [r for r in {**kept, **rejected}.values() if r["lang"] == "en" and r["ppl"] is not None]
    assert len(en_scored) == N_EN
    buckets = [r["quality_bucket"] for r in sorted(en_scored, key=lambda r: r["ppl_para"])]
    assert buckets == ["high"] * 6 + ["medium"] * 6 + ["low"] * 8  # 30% / 30% / 40%
    percentiles = [r["ppl_percentile"] for r in sorted(en_scored, key=lambda r: r["ppl_para"])]
    assert percentiles == sorted(percentiles) and percentiles[-1] == 1.0
    assert percentiles[0] == pytest.approx(1 / N_EN)


def test_thresholds_reject_low_bucket_with_reason_and_everything_is_accounted_for(scored):
    base, stats, _ = scored
    kept, rejected = read_all(str(base / "out" / "kept")), read_all(str(base / "out" / "rejected"))
    assert {r["drop_reason"] for r in rejected.values()} == {"ppl_bucket_low"}
    assert len(rejected) == 8 and "drop_reason" not in next(iter(kept.values()))
    assert stats["input"] == len(corpus_rows()) == len(kept) + len(rejected) == stats["kept"] + stats["rejected"]
    assert stats["reconciles"]
    on_disk = json.load(open(base / "out" / "stats.json"))
    assert on_disk["counters"]["drop/ppl_bucket_low"] == 8


def test_languages_without_a_model_pass_through_with_nulls_and_are_counted(scored):
    base, stats, _ = scored
    kept = read_all(str(base / "out" / "kept"))
    for doc_id in ("zh-0", "de-0", "en-empty"):
        doc = kept[doc_id]
        assert doc["ppl"] is None and doc["ppl_para"] is None and doc["quality_bucket"] is None
    c = stats["counters"]
    assert c["unscored/no_model"] == 2 and c["unscored/no_text"] == 1
    assert c["lang/zh/bucket/unscored"] == 1 and c["lang/de/bucket/unscored"] == 1


def test_scores_do_not_depend_on_partitioning(spark, scored, models_dir, tmp_path):
    base, _, cfg = scored
    inp = write_input(tmp_path / "in", list(reversed(corpus_rows())), files=4)
    score.run(spark, [inp], str(tmp_path / "out"), cfg)
    first = {**read_all(str(base / "out" / "kept")), **read_all(str(base / "out" / "rejected"))}
    second = {**read_all(str(tmp_path / "out" / "kept")), **read_all(str(tmp_path / "out" / "rejected"))}
    cols = ("ppl", "ppl_para", "ppl_percentile", "quality_bucket", "drop_reason")
    assert {k: tuple(v.get(c) for c in cols) for k, v in first.items()} == \
           {k: tuple(v.get(c) for c in cols) for k, v in second.items()}


def test_rerun_with_same_config_is_a_no_op(spark, scored):
    base, stats, cfg = scored
    again = score.run(spark, [str(base / "in")], str(base / "out"), cfg)
    assert again == json.load(open(base / "out" / "stats.json"))


def test_input_without_language_column_is_a_clear_error(models_dir, tmp_path):
    pq.write_table(pa.Table.from_pylist([{"id": "a", "text": "x"}]), tmp_path / "part-0.parquet")
    with pytest.raises(ConfigError, match="language column 'lang'"):
        score.run(lambda: pytest.fail("the session started before the input was checked"), [str(tmp_path)],
                  str(tmp_path / "out"), ScoreConfig(models=models_dir))


def test_corrupt_model_is_a_clear_error_before_any_work(models_dir, tmp_path):
    for name in os.listdir(models_dir):
        if name.endswith((".json", ".sp.model")):
            (tmp_path / name).write_bytes(open(os.path.join(models_dir, name), "rb").read())
    meta = json.loads((tmp_path / "en.json").read_text())
    meta["binary"] = None
    (tmp_path / "en.json").write_text(json.dumps(meta))
    (tmp_path / "en.arpa").write_text("not an arpa file\n")
    score.cached_model.cache_clear()
    with pytest.raises(ModelError, match="cannot load language model"):
        score.prepare(ScoreConfig(models=str(tmp_path)))


def test_config_validates_thresholds():
    with pytest.raises(ConfigError):
        ScoreConfig.from_dict({"keep": ["best"]})
    with pytest.raises(ConfigError):
        ScoreConfig.from_dict({"min_quality": 0.5})
    with pytest.raises(ConfigError):
        ScoreConfig.from_dict({"high_share": 0.7, "medium_share": 0.6})


def test_cli_score_refuses_input_without_language_column_before_starting_spark(models_dir, tmp_path, capsys):
    from ziya.cli import main

    pq.write_table(pa.Table.from_pylist([{"id": "a", "text": "x"}]), tmp_path / "part-0.parquet")
    rc = main(["score", "--input", str(tmp_path), "--output", str(tmp_path / "out"), "--models", models_dir])
    assert rc == 2
    assert "language column 'lang'" in capsys.readouterr().err


def test_quality_score_is_added_and_thresholded(spark, models_dir, tmp_path):
    from corpus_tools.quality import train as train_quality

    rows = corpus_rows()
    good = tmp_path / "good.jsonl"
    bad = tmp_path / "bad.jsonl"
    lines = [line.strip() for line in open(TRAIN_TXT, encoding="utf-8")][:600]
    good.write_text("".join(json.dumps({"text": "\n".join(lines[i:i + 3])}) + "\n" for i in range(0, 600, 3)))
    bad.write_text("".join(json.dumps({"text": " ".join(reversed(" ".join(lines[i:i + 3]).split())) + " casino bonus"}) + "\n"
                           for i in range(0, 600, 3)))
    classifier = str(tmp_path / "quality.bin")
    train_quality([str(good)], [str(bad)], classifier)
    inp = write_input(tmp_path / "in", rows)
    stats = score.run(spark, [inp], str(tmp_path / "out"),
                      ScoreConfig(models=models_dir, quality_model=classifier, min_quality=0.5))
    docs = {**read_all(str(tmp_path / "out" / "kept")), **read_all(str(tmp_path / "out" / "rejected"))}
    assert docs["en-empty"]["quality_score"] is None
    assert all(0.0 <= d["quality_score"] <= 1.0 for k, d in docs.items() if k != "en-empty")
    low = {k for k, d in docs.items() if d["quality_score"] is not None and d["quality_score"] < 0.5}
    rejected = read_all(str(tmp_path / "out" / "rejected"))
    assert set(rejected) == low and all(r["drop_reason"] == "quality_score_too_low" for r in rejected.values())
    assert stats["input"] == stats["kept"] + stats["rejected"] == len(rows)


def test_an_interrupted_run_resumes_keeping_its_finished_parts(spark, models_dir, tmp_path, capsys):
    """A part marked done by an earlier attempt is not scored again: its staged scores (made
    recognizable here: ppl 1.0) are the ones that reach the output."""
    from corpus_tools.lm.score import config_json
    from corpus_tools.readers import input_files
    from pipelines.stage import StageOutput, plan_row_groups

    rows = corpus_rows()
    inp = write_input(tmp_path / "in", rows, files=2)
    cfg = ScoreConfig(models=models_dir)
    cfg_json = config_json(cfg)
    plan = plan_row_groups([f.path for f in input_files([inp])])
    assert len(plan) == 2
    out = StageOutput(str(tmp_path / "out"), cfg_json)
    out.begin(plan)
    first = plan[0]
    score.score_part(cfg_json, first["path"], first["row_group"], out.tmp, first["part"])
    staged = os.path.join(out.tmp, score.STAGED, f"{first['part']}.parquet")
    table = pq.read_table(staged)
    ppl = pa.array([None if v is None else 1.0 for v in table.column("ppl").to_pylist()], pa.float64())
    pq.write_table(table.set_column(table.schema.get_field_index("ppl"), "ppl", ppl), staged)

    stats = score.run(spark, [inp], str(tmp_path / "out"), cfg)
    assert "resuming: 1 of 2 parts" in capsys.readouterr().err
    docs = read_all(str(tmp_path / "out" / "kept"))
    resumed_ids = set(pq.read_table(first["path"]).column("id").to_pylist())
    for doc_id, doc in docs.items():
        if doc["ppl"] is not None:
            assert (doc["ppl"] == 1.0) == (doc_id in resumed_ids)
    assert stats["input"] == stats["kept"] + stats["rejected"] == len(rows)


def test_count_batch_counts_every_row_under_each_key():
    out = pa.RecordBatch.from_pydict({
        "lang": ["en", "en", "de", None, "en", "en"],
        "quality_bucket": ["high", "low", None, None, None, "high"],
        "drop_reason": [None, "ppl_bucket_low", None, None, None, None]})
    counters: dict[str, int] = {}
    score.count_batch(out, ScoreConfig(), {"en": "models/en"}, counters)
    assert counters == {
        "kept": 5, "rejected": 1, "lang/en/kept": 3, "lang/en/rejected": 1, "lang/de/kept": 1, "lang/unknown/kept": 1,
        "bucket/high": 2, "bucket/low": 1, "bucket/unscored": 3,
        "lang/en/bucket/high": 2, "lang/en/bucket/low": 1, "lang/en/bucket/unscored": 1,
        "lang/de/bucket/unscored": 1, "lang/unknown/bucket/unscored": 1,
        "drop/ppl_bucket_low": 1, "unscored/no_model": 2, "unscored/no_text": 1}
    score.count_batch(out, ScoreConfig(), {"en": "models/en"}, counters)
    assert counters["kept"] == 10 and counters["unscored/no_model"] == 4


def test_grid_fractions_reach_spark_as_the_same_doubles(spark):
    values = [1e-05, 0.001, 0.3, 0.6, 1 / 3, 1.0, 2.5e-10, 0.123456789]
    assert spark.sql(f"SELECT {score.sql_doubles(values)} AS a").first()["a"] == values
