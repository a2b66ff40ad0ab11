"""YAML <-> typed dataclasses, strictly: unknown keys and wrong types are one-line UserErrors naming the key.

Generic (knows no cpfnet config): `from_dict(Cls, mapping)` builds a dataclass, nested dataclasses, tuples,
optional values; `to_dict` and `dump_yaml` go back; `load_yaml` reads YAML text. Keys left out take the
dataclass defaults.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

import yaml

from cpfnet.errors import UserError


def _type_name(tp) -> str:
    return getattr(tp, "__name__", str(tp))


def _convert(value: Any, tp, where: str) -> Any:
    """Check and convert one YAML value to the annotated type `tp`."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(value, option, where)
            except UserError as exc:
                errors.append(str(exc))
        raise UserError(errors[0])
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, where)
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise UserError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise UserError(f"{where}: expected {len(args)} values, got {len(value)}")
        return tuple(_convert(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if tp is bool:
        if not isinstance(value, bool):
            raise UserError(f"{where}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is float:
        # PyYAML reads 2e-4 (no dot) as a string; accept it as the number it means.
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UserError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise UserError(f"{where}: expected a string, got {value!r}")
        return value
    raise TypeError(f"{where}: unsupported config type {_type_name(tp)}")


def from_dict(cls, data: Any, where: str = "config"):
    """Build dataclass `cls` from a YAML mapping; unknown keys and wrong types are one-line UserErrors."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UserError(f"{where}: expected a mapping of keys, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in data if k not in names]
    if unknown:
        key = unknown[0] if isinstance(unknown[0], str) and unknown[0].isprintable() else repr(unknown[0])
        raise UserError(f"unknown key {where}.{key}; known keys of {where}: {', '.join(names)}")
    return cls(**{k: _convert(v, hints[k], f"{where}.{k}") for k, v in data.items()})


def to_dict(config) -> dict:
    """A config dataclass -> plain YAML-ready dict (tuples as lists)."""
    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value
    return plain(dataclasses.asdict(config))


def load_yaml(text: str, where: str) -> Any:
    """YAML text -> plain data; a syntax error is a one-line UserError naming `where`."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UserError(f"{where}: not valid YAML ({str(exc).splitlines()[0]})") from None


def dump_yaml(config) -> str:
    """A config dataclass -> YAML text, keys in field order."""
    return yaml.safe_dump(to_dict(config), sort_keys=False, default_flow_style=False)
