"""Convert between TOML tables and the record dataclasses, with errors that name the key path.

Driven by the dataclasses' type hints, so adding a field to a record is the whole change.
"""

from __future__ import annotations

import dataclasses
import re
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


def _is_key_field(f: dataclasses.Field) -> bool:
    return bool(f.metadata.get("key"))


_TYPE_WORDS = {str: "a string", int: "an integer", bool: "a boolean (true/false)", float: "a number"}


def decode(cls: Any, value: Any, path: tuple[str | int, ...] = (), *, strings_checked: bool = False) -> Any:
    """`value` (from tomllib or json) as an instance of the type `cls`. Every string is a
    single-line value: control and other invisible characters are refused (unless the caller
    checked every string of `value` already: `strings_checked`)."""
    try:
        return _decoder(cls, strings_checked)(value)
    except SchemaError as exc:
        raise SchemaError(path + exc.path, exc.message) from None


def decode_trusted(cls: Any, value: Any) -> Any:
    """`value` as an instance of `cls`, trusting its shape: for data rockscc wrote itself and can
    tell apart from anything else (store.py's authenticated cache). Only nested records are
    built; strings, numbers and tables of strings are taken as they are."""
    return _trusted_decoder(cls)(value)


@cache
def _trusted_decoder(cls: Any):
    origin = typing.get_origin(cls)
    if origin in (Union, types.UnionType):
        inner = _trusted_decoder([a for a in typing.get_args(cls) if a is not type(None)][0])
        return None if inner is None else (lambda value: None if value is None else inner(value))
    if origin is list:
        item = _trusted_decoder(typing.get_args(cls)[0])
        return None if item is None else (lambda value: [item(v) for v in value])
    if origin is dict:
        item_type = typing.get_args(cls)[1]
        item = _trusted_decoder(item_type)
        key_field = (
            next((f.name for f in dataclasses.fields(item_type) if _is_key_field(f)), None)
            if dataclasses.is_dataclass(item_type)
            else None
        )
        if item is None:
            return None
        if key_field is None:
            return lambda value: {k: item(v) for k, v in value.items()}
        return lambda value: {k: _keyed(item(v), key_field, k) for k, v in value.items()}
    if dataclasses.is_dataclass(cls):
        return _trusted_record(cls)
    return None  # a plain value: taken as it is


def _keyed(record: Any, field: str, key: str) -> Any:
    record.__dict__[field] = key
    return record


def _trusted_record(cls: type):
    hints = typing.get_type_hints(cls)
    every = dataclasses.fields(cls)
    defaults = {f.name: f.default for f in every if f.default is not dataclasses.MISSING}
    factories = [(f.name, f.default_factory) for f in every if f.default_factory is not dataclasses.MISSING]
    nested: list = []  # (name, decoder) of the fields holding records, filled on first use

    def decode_record(value: dict) -> Any:
        if not nested:
            nested.extend((f.name, _trusted_decoder(hints[f.name])) for f in every)
            nested[:] = [(n, d) for n, d in nested if d is not None] or [("", None)]
        fields_ = {**defaults, **value}
        for name, factory in factories:
            if name not in value:
                fields_[name] = factory()
        for name, decoder in nested:
            if name in value:
                fields_[name] = decoder(value[name])
        record = object.__new__(cls)
        record.__dict__ = fields_
        return record

    return decode_record


_ESCAPE = re.compile(r"\\(u00[01]|.)")  # one JSON escape; escaped backslashes pair off left to right


def json_strings_printable(text: str) -> bool:
    """Whether every string in a JSON text written by json.dumps(ensure_ascii=False) is printable:
    such a text escapes control characters below U+0020 and writes every other character as is."""
    return text.isprintable() and not any(
        m[1] in ("b", "f", "n", "r", "t") or m[1].startswith("u00") for m in _ESCAPE.finditer(text)
    )


# Decoders are built once per type (closures over the type's fields), so decoding ten thousand
# hosts is a loop of plain calls; a decoder raises SchemaError with the path below it and each
# container prefixes its own key on the way out.
@cache
def _decoder(cls: Any, checked: bool):
    origin = typing.get_origin(cls)
    if origin in (Union, types.UnionType):
        inner = _decoder([a for a in typing.get_args(cls) if a is not type(None)][0], checked)
        return lambda value: None if value is None else inner(value)
    if origin is list:
        return _list_decoder(_decoder(typing.get_args(cls)[0], checked))
    if origin is dict:
        return _dict_decoder(typing.get_args(cls)[1], checked)
    if dataclasses.is_dataclass(cls):
        return _record_decoder(cls, checked)
    if cls is str:
        return _string_type if checked else _string
    return _scalar_decoder(cls)


def _string_type(value: Any) -> str:
    if type(value) is not str:
        raise SchemaError((), f"expected a string, got {value!r}")
    return value


def _string(value: Any) -> str:
    if type(value) is not str:
        raise SchemaError((), f"expected a string, got {value!r}")
    if not value.isprintable():
        raise SchemaError((), f"{unprintable(value)} is not allowed in a value (one line of printable text)")
    return value


def check_strings(value: Any, path: tuple = ()) -> None:
    """Every string in encoded data (keys too) is one line of printable text, as decode wants:
    what is saved always loads again, even when a record was made in code, not decoded."""
    if isinstance(value, str):
        if not value.isprintable():
            raise SchemaError(path, f"{unprintable(value)} is not allowed in a value (one line of printable text)")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_strings(key, path + (key,))
            check_strings(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_strings(item, path + (index,))


def unprintable(value: str) -> str:
    """The first character of `value` that is not printable, named."""
    import unicodedata

    char = next(c for c in value if not c.isprintable())
    name = unicodedata.name(char, "") or {"\n": "line feed", "\r": "carriage return", "\t": "tab", "\0": "NUL"}.get(
        char, ""
    )
    return f"the character U+{ord(char):04X}" + (f" ({name.lower()})" if name else "")


def _scalar_decoder(cls: type):
    def decode_scalar(value: Any) -> Any:
        if type(value) is cls:
            return value
        if cls is float and type(value) is int:
            return float(value)
        raise SchemaError((), f"expected {_TYPE_WORDS.get(cls, cls.__name__)}, got {value!r}")

    return decode_scalar


def _list_decoder(item):
    def decode_list(value: Any) -> list:
        if type(value) is not list:
            raise SchemaError((), "expected a list")
        out = []
        for index, element in enumerate(value):
            try:
                out.append(item(element))
            except SchemaError as exc:
                raise SchemaError((index,) + exc.path, exc.message) from None
        return out

    return decode_list


def _dict_decoder(item_type: Any, checked: bool):
    item = _decoder(item_type, checked)
    key = _string_type if checked else _string
    key_field = (
        next((f.name for f in dataclasses.fields(item_type) if _is_key_field(f)), None)
        if dataclasses.is_dataclass(item_type)
        else None
    )

    def decode_dict(value: Any) -> dict:
        if type(value) is not dict:
            raise SchemaError((), "expected a table")
        out = {}
        for name, element in value.items():
            try:
                key(name)
                out[name] = record = item(element)
            except SchemaError as exc:
                raise SchemaError((name,) + exc.path, exc.message) from None
            if key_field is not None:
                setattr(record, key_field, name)
        return out

    return decode_dict


def _record_decoder(cls: type, checked: bool):
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if not _is_key_field(f)]
    known = frozenset(f.name for f in fields)
    required = [f.name for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    decoders: dict[str, Any] = {}
    # the records are plain dataclasses (no __post_init__, no slots): made without calling
    # __init__ with keywords, which costs more than the decoding around it
    assert not hasattr(cls, "__post_init__") and not hasattr(cls, "__slots__"), cls
    defaults = {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}
    factories = [
        (f.name, f.default_factory) for f in dataclasses.fields(cls) if f.default_factory is not dataclasses.MISSING
    ]
    new = object.__new__

    def decode_record(value: Any) -> Any:
        if type(value) is not dict:
            raise SchemaError((), "expected a table")
        if not decoders:  # built on first use: records refer to each other
            decoders.update((f.name, _decoder(hints[f.name], checked)) for f in fields)
        try:
            kwargs = {name: decoders[name](element) for name, element in value.items()}
        except (KeyError, SchemaError):
            raise _record_error(value) from None
        for name in required:
            if name not in kwargs:
                raise SchemaError((name,), "missing required key")
        record = new(cls)
        fields_ = record.__dict__
        fields_.update(defaults)
        for name, factory in factories:
            if name not in kwargs:
                fields_[name] = factory()
        fields_.update(kwargs)
        return record

    def _record_error(value: dict) -> SchemaError:
        """The first bad key of a record, found again slowly (only on the error path)."""
        for name, element in value.items():
            if name not in known:
                return SchemaError((name,), f"unknown key (known: {', '.join(sorted(known))})")
            try:
                decoders[name](element)
            except SchemaError as exc:
                return SchemaError((name,) + exc.path, exc.message)
        return SchemaError((), "not a valid record")

    return decode_record


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
