"""Typed config loading rejects what it does not know, naming where."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from corpus_tools.config import ConfigError, load, read_file


@dataclass
class Inner:
    threshold: float = 0.5


@dataclass
class Outer:
    name: str = "x"
    inner: Inner = field(default_factory=Inner)


def test_nested_values_and_defaults():
    cfg = load(Outer, {"inner": {"threshold": 0.9}})
    assert cfg.inner.threshold == 0.9 and cfg.name == "x"
    assert load(Outer, None) == Outer()


def test_unknown_keys_fail_with_their_path():
    with pytest.raises(ConfigError, match=r"config.inner: unknown key\(s\) \['treshold'\]"):
        load(Outer, {"inner": {"treshold": 0.9}})


def test_reads_toml_and_json(tmp_path):
    (tmp_path / "c.toml").write_text('name = "t"\n[inner]\nthreshold = 0.1\n')
    (tmp_path / "c.json").write_text('{"name": "j"}')
    assert load(Outer, read_file(str(tmp_path / "c.toml"))).inner.threshold == 0.1
    assert load(Outer, read_file(str(tmp_path / "c.json"))).name == "j"
    with pytest.raises(ConfigError):
        read_file(str(tmp_path / "c.yaml"))
