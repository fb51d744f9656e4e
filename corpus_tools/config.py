"""Typed configs: nested dataclasses loaded from TOML/JSON, validated, saved beside outputs.

`load(cls, data)` builds a dataclass from a plain dict, recursing into dataclass-typed
fields, and rejects unknown keys with the path that holds them, so a typo in a config
file fails at start-up instead of silently running with a default.
"""
from __future__ import annotations

import dataclasses
import json
import tomllib
import typing
from typing import Any, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    pass


def load(cls: type[T], data: dict[str, Any] | None, where: str = "config") -> T:
    if data is None:
        return cls()
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; valid keys: {sorted(names)}")
    kwargs = {}
    for name, value in data.items():
        field_type = hints[name]
        if dataclasses.is_dataclass(field_type) and isinstance(value, dict):
            value = load(field_type, value, f"{where}.{name}")
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def read_file(path: str | None) -> dict[str, Any]:
    """A config file as a dict (TOML or JSON by extension); no file gives {}."""
    if not path:
        return {}
    if not path.endswith((".toml", ".json")):
        raise ConfigError(f"config file must be .toml or .json: {path}")
    with open(path, "rb") as f:
        try:
            return json.load(f) if path.endswith(".json") else tomllib.load(f)
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc


def to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def dumps(cfg: Any) -> str:
    return json.dumps(to_dict(cfg), indent=2, sort_keys=True, ensure_ascii=False)
