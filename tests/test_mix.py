"""`ziya mix` on small packs written without Spark: the blend a recipe resolves to (weights spread
over a source's shards by tokens, prefixes, epochs), clear errors for bad recipes, one run per output."""
from __future__ import annotations

import json
import os
import socket

import pytest

from corpus_tools import storage
from corpus_tools.config import ConfigError
from corpus_tools.mix import MixError, build_blends
from corpus_tools.tokenizer import load_tokenizer
from tests.test_shards import write_pack
from ziya.cli import main as cli_main

RECIPE = """
[[stages]]
name = "general"
tokens = 1000
sources = { news = 3, docs = 1 }

[[stages]]
name = "docs_only"
tokens = 10
lr_rewarm = true
sources = { docs = 0.5 }
"""


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer()


@pytest.fixture(scope="module")
def pack(tmp_path_factory, tok):
    path = tmp_path_factory.mktemp("pack")
    return str(path), write_pack(str(path), tok)


def recipe_file(tmp_path, text: str) -> str:
    path = tmp_path / "recipe.toml"
    path.write_text(text)
    return str(path)


def test_recipe_resolves_to_the_expected_blend(tmp_path, pack):
    pack_dir, manifest = pack
    shard = {s["prefix"]: s["tokens"] for s in manifest["shards"]}
    news = shard["shards/news-00000"] + shard["shards/news-00001"]
    docs = shard["shards/docs-00000"]

    blends = build_blends(recipe_file(tmp_path, RECIPE), [pack_dir])

    assert blends["tokenizer_sha256"] == manifest["tokenizer"]["sha256"]
    assert blends["vocab_size"] == 32000
    general, docs_only = blends["stages"]
    assert (general["name"], general["tokens"], general["lr_rewarm"]) == ("general", 1000, False)
    assert general["blend"]["prefixes"] == [os.path.join(os.path.abspath(pack_dir), p) for p in
                                            ("shards/docs-00000", "shards/news-00000", "shards/news-00001")]
    expected = [0.25, 0.75 * shard["shards/news-00000"] / news, 0.75 * shard["shards/news-00001"] / news]
    assert general["blend"]["weights"] == pytest.approx(expected)
    assert sum(general["blend"]["weights"]) == pytest.approx(1.0)
    assert general["sources"] == [
        {"name": "docs", "weight": 0.25, "tokens_available": docs, "tokens_planned": 250, "epochs": pytest.approx(250 / docs)},
        {"name": "news", "weight": 0.75, "tokens_available": news, "tokens_planned": 750, "epochs": pytest.approx(750 / news)},
    ]
    assert docs_only["lr_rewarm"] is True
    assert docs_only["blend"]["weights"] == [1.0]
    assert docs_only["sources"][0]["epochs"] == pytest.approx(10 / docs)  # < 1: downsampled


def test_cli_writes_the_blends_and_prints_the_plan(tmp_path, pack, capsys):
    out = tmp_path / "blends.json"
    assert cli_main(["mix", "--recipe", recipe_file(tmp_path, RECIPE), "--pack", pack[0], "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "upsampled" in printed and "downsampled" in printed
    assert [s["name"] for s in json.loads(out.read_text())["stages"]] == ["general", "docs_only"]
    assert not os.path.exists(f"{out}.lock"), "the lock is released"


def test_a_mix_into_a_busy_output_is_refused_in_one_line(tmp_path, pack, capsys):
    out = tmp_path / "blends.json"
    argv = ["mix", "--recipe", recipe_file(tmp_path, RECIPE), "--pack", pack[0], "--output", str(out)]
    with storage.exclusive_lock(f"{out}.lock", "mix", str(out)):  # another run, as this process
        assert cli_main(argv) == 2
    err = capsys.readouterr().err
    holder = f"(mix on {socket.gethostname()}, pid {os.getpid()}, started "
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"ziya mix: error: {out} is being written by another run {holder}"), err
    assert not out.exists()


def test_unknown_source_is_refused(tmp_path, pack):
    with pytest.raises(MixError, match=r"names source\(s\) \['math'\] that no pack holds; available: \['docs', 'news'\]"):
        build_blends(recipe_file(tmp_path, RECIPE.replace("docs = 1 }", "math = 1 }")), [pack[0]])


def test_packs_with_different_tokenizers_are_refused(tmp_path, pack):
    other = tmp_path / "other"
    other.mkdir()
    manifest = dict(pack[1], tokenizer={**pack[1]["tokenizer"], "sha256": "0" * 64, "path": "/x/expanded.model"})
    (other / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(MixError, match="packs use different tokenizers"):
        build_blends(recipe_file(tmp_path, RECIPE), [pack[0], str(other)])


@pytest.mark.parametrize("bad, message", [
    ('[[stages]]\nname = "a"\ntokens = 0\nsources = { news = 1 }', "stages[0].tokens = 0: expected an integer >= 1"),
    ('[[stages]]\nname = "a"\ntokens = 5\nsources = { news = -1 }',
     "stages[0].sources.news = -1: expected a finite number > 0"),
    ('[[stages]]\nname = "a"\ntokens = 5\nsources = {}', "sources must be a non-empty table"),
    ('[[stages]]\nname = "a"\ntokens = 5\nsource = { news = 1 }', "unknown key"),
    ('packs = []', "at least one [[stages]]"),
])
def test_bad_recipes_are_clear_errors(tmp_path, pack, bad, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        build_blends(recipe_file(tmp_path, bad), [pack[0]])


def test_no_pack_is_a_clear_error(tmp_path, capsys):
    assert cli_main(["mix", "--recipe", recipe_file(tmp_path, RECIPE), "--output", str(tmp_path / "b.json")]) == 2
    assert "no pack directory" in capsys.readouterr().err
