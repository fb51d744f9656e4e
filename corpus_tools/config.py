"""Typed configs: nested dataclasses loaded from TOML/JSON, validated, saved beside outputs.

`load(cls, data)` builds a dataclass from a plain dict and checks every value against its
field's type hint, recursing into dataclass-typed fields, so a typo or a bad value in a config
file fails at start-up, on the driver, with one line naming it, instead of silently running
with a default or crashing inside a Spark task:

    config.input.split_bytes = -5: expected an integer >= 1

Hints understood: bool, int, float (finite; an int is fine), str, `X | None`, unions,
`list[X]`, `tuple[X, ...]` (a TOML list becomes a tuple), `dict[K, V]`, `Literal[...]`,
nested dataclasses, and ranges as `Annotated[T, Range(...)]` (see the aliases below).
"""
from __future__ import annotations

import dataclasses
import json
import math
import tomllib
import types
import typing
from typing import Annotated, Any, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Range:
    """Bounds of a number field, inclusive unless `*_open`: `Annotated[int, Range(1)]` is >= 1."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, x: float) -> bool:
        above = self.low is None or (x > self.low if self.low_open else x >= self.low)
        below = self.high is None or (x < self.high if self.high_open else x <= self.high)
        return above and below

    def __str__(self) -> str:
        if self.low is not None and self.high is not None:
            return f"in {'(' if self.low_open else '['}{self.low}, {self.high}{')' if self.high_open else ']'}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {self.low}"
        return f"{'<' if self.high_open else '<='} {self.high}"


PositiveInt = Annotated[int, Range(1)]
NonNegativeInt = Annotated[int, Range(0)]
PositiveFloat = Annotated[float, Range(0, low_open=True)]
NonNegativeFloat = Annotated[float, Range(0)]
Share = Annotated[float, Range(0, 1)]  # a fraction, share or probability


class _Invalid(ConfigError):
    """A value that does not fit its field; `key` and `what` let a union report the best arm."""

    def __init__(self, key: str, value: Any, what: str):
        super().__init__(f"{key} = {value!r}: expected {what}")
        self.key, self.what = key, what


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# What each scalar type accepts (bool is an int in Python, but not in a config file).
_SCALARS: dict[type, tuple[str, typing.Callable[[Any], bool]]] = {
    bool: ("true or false", lambda v: isinstance(v, bool)),
    int: ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    float: ("a finite number", lambda v: _number(v) and math.isfinite(v)),
    str: ("a string", lambda v: isinstance(v, str)),
}


def _checked(value: Any, hint: Any, key: str) -> Any:
    """`value` if it fits `hint` (lists converted to tuples for tuple hints), else _Invalid."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if hint in _SCALARS:
        what, ok = _SCALARS[hint]
        if not ok(value):
            raise _Invalid(key, value, what)
        return value
    if origin is Annotated:
        ranges = [m for m in hint.__metadata__ if isinstance(m, Range)]
        what = " ".join([_SCALARS[args[0]][0], *map(str, ranges)])
        try:
            value = _checked(value, args[0], key)
        except _Invalid:
            raise _Invalid(key, value, what) from None
        if not all(value in r for r in ranges):
            raise _Invalid(key, value, what)
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arm in args:
            if arm is not type(None):
                try:
                    return _checked(value, arm, key)
                except _Invalid as exc:
                    errors.append(exc)
        deeper = [e for e in errors if e.key != key]
        if deeper:  # the value has the right shape (a list, a table), one of its items is wrong
            raise deeper[0]
        allowed = [e.what for e in errors] + (["null"] if type(None) in args else [])
        raise _Invalid(key, value, " or ".join(allowed))
    if origin is typing.Literal:
        if not any(value == a and type(value) is type(a) for a in args):
            raise _Invalid(key, value, "one of " + ", ".join(map(repr, args)))
        return value
    if hint in (list, tuple) or origin is list or (origin is tuple and args[1:] == (...,)):
        if not isinstance(value, (list, tuple)):
            raise _Invalid(key, value, "a list")
        item = args[0] if args else Any
        items = [_checked(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if tuple in (hint, origin) else items
    if hint is dict or origin is dict:
        if not isinstance(value, dict):
            raise _Invalid(key, value, "a table")
        item = args[1] if args else Any
        return {k: _checked(v, item, f"{key}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        if isinstance(value, hint):
            return value
        if not isinstance(value, dict):
            raise _Invalid(key, value, "a table")
        return load(hint, value, key)
    raise TypeError(f"{key}: config.load cannot check values of type {hint!r}")


def load(cls: type[T], data: dict[str, Any] | None, where: str = "config") -> T:
    """A `cls` from `data`, every value checked against its field's type hint; errors name `where.key`."""
    if data is None:
        return cls()
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table, got {type(data).__name__}")
    hints = typing.get_type_hints(cls, include_extras=True)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; valid keys: {sorted(names)}")
    kwargs = {name: _checked(value, hints[name], f"{where}.{name}") for name, value in data.items()}
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
