"""Convert between TOML tables and the record dataclasses, with errors that name the key path.

Driven by the dataclasses' type hints, so adding a field to a record is the whole change.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, Union


class SchemaError(Exception):
    """A value of the wrong shape at `path` (a tuple of keys)."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{dotted(path)}: {message}")


def dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_key_field(f: dataclasses.Field) -> bool:
    return bool(f.metadata.get("key"))


_TYPE_WORDS = {str: "a string", int: "an integer", bool: "a boolean (true/false)", float: "a number"}


def decode(cls: Any, value: Any, path: tuple[str | int, ...] = ()) -> Any:
    """`value` (from tomllib) as an instance of the type `cls`."""
    origin = typing.get_origin(cls)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(cls) if a is not type(None)]
        if value is None:
            return None
        return decode(options[0], value, path)
    if origin is list:
        if not isinstance(value, list):
            raise SchemaError(path, "expected a list")
        (item,) = typing.get_args(cls)
        return [decode(item, v, path + (i,)) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise SchemaError(path, "expected a table")
        _, item = typing.get_args(cls)
        return {str(k): _decode_keyed(item, k, v, path + (k,)) for k, v in value.items()}
    if dataclasses.is_dataclass(cls):
        return _decode_record(cls, value, path)
    if cls is int and isinstance(value, bool) or not isinstance(value, cls):
        if cls is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        raise SchemaError(path, f"expected {_TYPE_WORDS.get(cls, cls.__name__)}, got {value!r}")
    return value


def _decode_keyed(cls: Any, key: str, value: Any, path: tuple) -> Any:
    record = decode(cls, value, path)
    if dataclasses.is_dataclass(record):
        for f in dataclasses.fields(record):
            if _is_key_field(f):
                setattr(record, f.name, str(key))
    return record


def _decode_record(cls: type, value: Any, path: tuple) -> Any:
    if not isinstance(value, dict):
        raise SchemaError(path, "expected a table")
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not _is_key_field(f)}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise SchemaError(path + (unknown[0],), f"unknown key (known: {', '.join(sorted(fields))})")
    kwargs = {}
    for name, f in fields.items():
        if name in value:
            kwargs[name] = decode(hints[name], value[name], path + (name,))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise SchemaError(path + (name,), "missing required key")
    return cls(**kwargs)


def encode(value: Any) -> Any:
    """A TOML-writable value; record fields equal to their default (and None) are left out."""
    if dataclasses.is_dataclass(value):
        out = {}
        for f in dataclasses.fields(value):
            if _is_key_field(f):
                continue
            item = getattr(value, f.name)
            if item is None or item == _default(f):
                continue
            out[f.name] = encode(item)
        return out
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):  # dicts, and the store's HostTable
        return {k: encode(v) for k, v in value.items()}
    return value


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING
