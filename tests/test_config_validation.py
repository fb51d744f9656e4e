"""Config values are checked against their fields' type hints when a config loads (corpus_tools.config.load),
on the driver, with one line naming the dotted key: every field of every stage's, `ziya train`'s and
`ziya mix`'s config, every filter parameter, the ranges, and the CLI exiting 2 before Spark or torch starts."""
from __future__ import annotations

import dataclasses
import glob
import importlib
import json
import os
import re
import subprocess
import sys
import types
import typing

import pytest

from corpus_tools.config import ConfigError, dumps, load, read_file
from corpus_tools.filters import DOCUMENT_FILTERS, LINE_FILTERS, build_filters
from corpus_tools.mix import Recipe
from corpus_tools.mix import Stage as MixStage
from pipelines import pipeline
from pipelines.stages import STAGES
from tests.conftest import REPO, SAMPLE
from trainer.run_config import RunConfig, from_dict, load_run_config

DEMO_CONFIG = os.path.join(REPO, "configs", "train_tiny_demo.toml")
GOOD_STAGE = {"name": "a", "tokens": 5, "sources": {"news": 1}}


def named(ref: str):
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def leaf_fields(cls, prefix: str = ""):
    """(dotted key, type hint) of every field of a config dataclass, walking into nested ones."""
    hints = typing.get_type_hints(cls, include_extras=True)
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[f.name]):
            yield from leaf_fields(hints[f.name], f"{prefix}{f.name}.")
        elif f.init:
            yield prefix + f.name, hints[f.name]


def wrong_value(hint):
    """A value of the wrong type for `hint`: a number where text belongs, text anywhere else."""
    while typing.get_origin(hint) in (typing.Annotated, typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    return 5 if hint is str or typing.get_origin(hint) is typing.Literal else "oops"


def nested(key: str, value) -> dict:
    """"a.b", v -> {"a": {"b": v}}."""
    *tables, name = key.split(".")
    data = {name: value}
    for table in reversed(tables):
        data = {table: data}
    return data


def assert_names(exc: pytest.ExceptionInfo, key: str, value) -> None:
    message = str(exc.value)
    assert "\n" not in message, message
    assert re.search(rf"(^|[.\s]){re.escape(key)} = {re.escape(repr(value))}: expected \S", message), message


STAGE_FIELDS = [(stage.name, key, hint) for stage in STAGES.values() for key, hint in leaf_fields(named(stage.config))]
STAGE_FIELDS += [(stage.name, f"spark.{key}", hint) for stage in STAGES.values() if stage.engine
                 for key, hint in leaf_fields(named(stage.engine))]
FILTER_PARAMS = [(name, key, hint) for name, cls in {**DOCUMENT_FILTERS, **LINE_FILTERS}.items()
                 for key, hint in leaf_fields(cls)]


def test_the_walks_reach_every_kind_of_config():
    assert {("clean", "input.split_bytes"), ("clean", "langid.min_score"), ("dedup", "spark.max_rounds"),
            ("pack", "input.text_field"), ("score", "keep")} <= {(s, k) for s, k, _ in STAGE_FIELDS}
    assert len(FILTER_PARAMS) == sum(len(cls.params()) for cls in {**DOCUMENT_FILTERS, **LINE_FILTERS}.values())
    assert {"schedule.lr", "stability.inject", "data.blends"} <= {k for k, _ in TRAIN_FIELDS}
    assert {"stages[0].tokens", "stages[0].sources", "packs"} <= {k for k, _, _ in MIX_FIELDS}


@pytest.mark.parametrize("stage, key, hint", STAGE_FIELDS, ids=[f"{s}:{k}" for s, k, _ in STAGE_FIELDS])
def test_every_stage_field_rejects_a_wrong_type(stage, key, hint):
    value = wrong_value(hint)
    with pytest.raises(ConfigError) as exc:
        STAGES[stage].load_config(nested(key, value))
    assert_names(exc, key, value)


@pytest.mark.parametrize("name, key, hint", FILTER_PARAMS, ids=[f"{n}.{k}" for n, k, _ in FILTER_PARAMS])
def test_every_filter_parameter_rejects_a_wrong_type(name, key, hint):
    value = wrong_value(hint)
    with pytest.raises(ConfigError) as exc:
        STAGES["clean"].load_config({"filters": {name: {key: value}}})
    assert_names(exc, f"filters.{name}.{key}", value)


TRAIN_FIELDS = list(leaf_fields(RunConfig))


@pytest.mark.parametrize("key, hint", TRAIN_FIELDS, ids=[k for k, _ in TRAIN_FIELDS])
def test_every_train_field_rejects_a_wrong_type_given_with_set(key, hint):
    value = wrong_value(hint)
    with pytest.raises(ConfigError) as exc:
        load_run_config(DEMO_CONFIG, [f"{key}={value!r}"])  # repr: 5 or 'oops', both TOML
    assert_names(exc, key, value)


# Recipe.stages itself is checked by Recipe.from_file ("a recipe needs at least one [[stages]] table").
MIX_FIELDS = [(f"stages[0].{k}", k, h) for k, h in leaf_fields(MixStage)]
MIX_FIELDS += [(k, None, h) for k, h in leaf_fields(Recipe) if k != "stages"]


@pytest.mark.parametrize("key, stage_field, hint", MIX_FIELDS, ids=[k for k, _, _ in MIX_FIELDS])
def test_every_recipe_field_rejects_a_wrong_type(tmp_path, key, stage_field, hint):
    value = wrong_value(hint)
    if stage_field:
        recipe = {"stages": [{**GOOD_STAGE, stage_field: value}]}
    else:
        recipe = {key: value, "stages": [GOOD_STAGE]}
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(recipe))
    with pytest.raises(ConfigError) as exc:
        Recipe.from_file(str(path))
    assert_names(exc, key, value)


nan, inf = float("nan"), float("inf")


@pytest.mark.parametrize("stage, data, message", [
    ("clean", {"input": {"split_bytes": -5}}, "config.input.split_bytes = -5: expected an integer >= 1"),
    ("clean", {"input": {"split_bytes": 0}}, "config.input.split_bytes = 0: expected an integer >= 1"),
    ("clean", {"input": {"split_bytes": "big"}}, "config.input.split_bytes = 'big': expected an integer >= 1"),
    ("clean", {"input": {"batch_rows": True}}, "config.input.batch_rows = True: expected an integer >= 1"),
    ("clean", {"preprocess": {"remove_emoji": "yes"}},
     "config.preprocess.remove_emoji = 'yes': expected true or false"),
    ("clean", {"preprocess": {"max_segment_chars": 0}},
     "config.preprocess.max_segment_chars = 0: expected an integer >= 1 or null"),
    ("clean", {"langid": {"min_score": 1.5}},
     "config.langid.min_score = 1.5: expected a finite number in [0, 1] or null"),
    ("clean", {"langid": {"allowed": "zh"}}, "config.langid.allowed = 'zh': expected a list or null"),
    ("clean", {"filters": {"gopher_quality": {"min_words": "50"}}},
     "config.filters.gopher_quality.min_words = '50': expected an integer >= 0 or null"),
    ("clean", {"filters": {"fineweb_quality": {"max_short_line_fraction": 1.2}}},
     "config.filters.fineweb_quality.max_short_line_fraction = 1.2: expected a finite number in [0, 1] or null"),
    ("clean", {"filters": {"characters": {"max_symbol_fraction": nan}}},
     "config.filters.characters.max_symbol_fraction = nan: expected a finite number in [0, 1] or null"),
    ("clean", {"filters": {"repeated_char_lines": {"min_run": -1}}},
     "config.filters.repeated_char_lines.min_run = -1: expected an integer >= 1 or null"),
    ("clean", {"filters": {"c4_policy_lines": {"phrases": ["a", 1]}}},
     "config.filters.c4_policy_lines.phrases[1] = 1: expected a string"),
    ("clean", {"filters": {"gopher_quality": 3}},
     "config.filters.gopher_quality = 3: expected a dict of parameters, true, false or null"),
    ("dedup", {"threshold": inf}, "config.threshold = inf: expected a finite number in (0, 1]"),
    ("dedup", {"threshold": 0}, "config.threshold = 0: expected a finite number in (0, 1]"),
    ("dedup", {"num_perm": 1}, "config.num_perm = 1: expected an integer >= 2"),
    ("dedup", {"hash": "md5"}, "config.hash = 'md5': expected one of 'murmur3', 'sha1'"),
    ("dedup", {"seed": -1}, "config.seed = -1: expected an integer in [0, 4294967295]"),
    ("dedup", {"spark": {"checkpoint_every": 0}}, "spark.checkpoint_every = 0: expected an integer >= 1"),
    ("score", {"keep": ["best"]}, "score.keep[0] = 'best': expected one of 'high', 'medium', 'low'"),
    ("score", {"high_share": 1.5}, "score.high_share = 1.5: expected a finite number in [0, 1]"),
    ("score", {"max_ppl": -1}, "score.max_ppl = -1: expected a finite number > 0 or null"),
    ("score", {"score_column": "perplexity"}, "score.score_column = 'perplexity': expected one of 'ppl', 'ppl_para'"),
    ("pack", {"shard_tokens": -100}, "pack.shard_tokens = -100: expected an integer >= 1"),
    ("pack", {"shard_tokens": 1e8}, "pack.shard_tokens = 100000000.0: expected an integer >= 1"),
    ("pack", {"input": {"max_record_bytes": 0}}, "pack.input.max_record_bytes = 0: expected an integer >= 1"),
])
def test_out_of_range_values_are_refused_in_one_line(stage, data, message):
    with pytest.raises(ConfigError) as exc:
        STAGES[stage].load_config(data)
    assert str(exc.value) == message


@pytest.mark.parametrize("override, message", [
    ("data.micro_batch_size=0", "config.data.micro_batch_size = 0: expected an integer >= 1"),
    ("data.steps=-3", "config.data.steps = -3: expected an integer >= 0"),
    ("schedule.lr=-1e-3", "config.schedule.lr = -0.001: expected a finite number > 0"),
    ("schedule.lr=nan", "config.schedule.lr = nan: expected a finite number > 0"),
    ("schedule.decay_fraction=0", "config.schedule.decay_fraction = 0: expected a finite number in (0, 1]"),
    ("schedule.kind='linear'", "config.schedule.kind = 'linear': expected one of 'cosine', 'wsd', 'constant'"),
    ("optimizer.beta2=1.0", "config.optimizer.beta2 = 1.0: expected a finite number in [0, 1)"),
    ("precision='fp16'", "config.precision = 'fp16': expected one of 'auto', 'bf16', 'fp32'"),
    ("seed=-1", "config.seed = -1: expected an integer >= 0"),
    ("checkpoint.resume=1", "config.checkpoint.resume = 1: expected true or false"),
    ("stability.inject='nan@3'", "config.stability.inject = 'nan@3': expected a list"),
])
def test_out_of_range_train_values_are_refused_in_one_line(override, message):
    with pytest.raises(ConfigError) as exc:
        load_run_config(DEMO_CONFIG, [override])
    assert str(exc.value) == message


def test_cross_field_checks_still_run_after_the_field_checks():
    with pytest.raises(ConfigError, match="need 0 < high_share <= medium_share <= 1"):
        STAGES["score"].load_config({"high_share": 0.7, "medium_share": 0.6})
    with pytest.raises(ConfigError, match=r"bands x rows must be <= num_perm \(128\)"):
        STAGES["dedup"].load_config({"bands": 20, "rows": 10})
    with pytest.raises(ConfigError, match="need min_lr <= lr"):
        load_run_config(DEMO_CONFIG, ["schedule.min_lr=1.0"])


def test_defaults_and_shipped_configs_load(monkeypatch):
    monkeypatch.chdir(REPO)  # shipped files name paths relative to the repository's root
    for stage in STAGES.values():
        cfg, _ = stage.load_config({})
        assert cfg == named(stage.config)()
        assert type(cfg).from_dict(json.loads(dumps(cfg))) == cfg  # what a Spark task reloads
    assert len(build_filters(None)[0]) == len(DOCUMENT_FILTERS)
    for path in glob.glob(os.path.join(REPO, "configs", "*.toml")):
        cfg = load_run_config(path)
        assert from_dict(cfg.to_dict()) == cfg  # a checkpoint's saved config
    for path in glob.glob(os.path.join(REPO, "recipes", "*.toml")):  # mixture recipes and pipeline files
        if "output" in read_file(path):
            if os.path.exists(os.path.join(REPO, "models", "kenlm")):
                assert pipeline.load(path).steps
            else:  # a fresh clone: `make demo` builds the reference models before it runs the pipeline
                with pytest.raises(ConfigError, match="models does not exist"):
                    pipeline.load(path)
        else:
            assert Recipe.from_file(path).stages


def test_lists_become_tuples_for_tuple_fields():
    cfg = load_run_config(DEMO_CONFIG, ["stability.inject=['nan@3']"])
    assert cfg.stability.inject == ("nan@3",) and cfg.stability.injected(3) == "nan"
    _, line_filters = build_filters({"c4_policy_lines": {"phrases": ["buy now"]}})
    assert next(f for f in line_filters if f.name == "c4_policy_lines").phrases == ("buy now",)
    assert load(RunConfig, {"data": {"blends": "b.json"}, "schedule": {"lr": 1}}).schedule.lr == 1  # an int is a number


# ------------------------------------------------------------------------ the CLI, in fresh processes

ZIYA = [sys.executable, "-m", "ziya.cli"]


def test_a_bad_stage_config_exits_2_with_one_line_before_spark(tmp_path):
    cases = [  # (argv after the input and output, the one line expected)
        (["clean", "--config", "[input]\nsplit_bytes = -5\n"],
         "ziya clean: error: config.input.split_bytes = -5: expected an integer >= 1"),
        (["clean", "--config", '[filters]\ngopher_quality = { min_words = "many" }\n'],
         "ziya clean: error: config.filters.gopher_quality.min_words = 'many': expected an integer >= 0 or null"),
        (["dedup", "--config", "[spark]\nmax_rounds = 0\n"],
         "ziya dedup: error: spark.max_rounds = 0: expected an integer >= 1"),
        (["dedup", "--threshold", "nan"],  # a flag is laid over the config before it loads
         "ziya dedup: error: config.threshold = nan: expected a finite number in (0, 1]"),
        (["score", "--config", 'keep = ["best"]\n'],
         "ziya score: error: score.keep[0] = 'best': expected one of 'high', 'medium', 'low'"),
        (["pack", "--config", "shard_tokens = 0\n"],
         "ziya pack: error: pack.shard_tokens = 0: expected an integer >= 1"),
    ]
    runs = []
    for i, (argv, _) in enumerate(cases):
        out = tmp_path / f"out{i}"
        if "--config" in argv:
            config = tmp_path / f"bad{i}.toml"
            config.write_text(argv[-1])
            argv = [*argv[:-1], str(config)]
        cmd = [*ZIYA, argv[0], "--input", SAMPLE, "--output", str(out), *argv[1:]]
        runs.append((out, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    for (argv, line), (out, proc) in zip(cases, runs):
        stdout, stderr = proc.communicate(timeout=120)
        assert (proc.returncode, stderr.splitlines()) == (2, [line]), (argv, stdout, stderr)  # no Spark log line
        assert not any(os.path.exists(f"{out}{suffix}") for suffix in ("", ".incomplete", ".lock")), argv


def test_a_bad_recipe_exits_2_with_one_line(tmp_path):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text('[[stages]]\nname = "a"\ntokens = -5\nsources = { news = 1 }\n')
    out = tmp_path / "blends.json"
    proc = subprocess.run([*ZIYA, "mix", "--recipe", str(recipe), "--pack", str(tmp_path), "--output", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stderr.splitlines()) == (
        2, [f"ziya mix: error: {recipe}: stages[0].tokens = -5: expected an integer >= 1"]), proc.stderr
    assert not os.path.exists(out)


TRAIN = "import sys; from ziya.cli import main; rc = main(sys.argv[1:]); print('torch' in sys.modules, rc)"


@pytest.mark.parametrize("edit, overrides, line", [
    (("tp = 1", "tp = 0"), [], "config.parallel.tp = 0: expected an integer >= 1"),
    (None, ["--set", "schedule.lr=-1"], "config.schedule.lr = -1: expected a finite number > 0"),
    (None, ["--set", "metrics.log_interval='often'"],
     "config.metrics.log_interval = 'often': expected an integer >= 1"),
])
def test_a_bad_train_config_exits_2_with_one_line_before_torch(tmp_path, edit, overrides, line):
    config = DEMO_CONFIG
    if edit:
        config = tmp_path / "train.toml"
        config.write_text(open(DEMO_CONFIG, encoding="utf-8").read().replace(*edit))
    proc = subprocess.run([sys.executable, "-c", TRAIN, "train", "--config", str(config), *overrides],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    torch_imported, rc = proc.stdout.split()
    assert (torch_imported, rc, proc.stderr.splitlines()) == ("False", "2", [f"ziya train: error: {line}"]), proc.stderr
