"""Write new data into a TOML file someone may have edited by hand, keeping what they wrote.

A file rockscc wrote itself (its text is what tomli_w makes of its data) is simply written again
with tomli_w: fast, and nothing to keep. Any other file is parsed with tomlkit and only the keys
whose values changed are replaced, so comments, blank lines, key order and quoting around them
stay. The result is parsed back and must equal the new data; if tomlkit ever got it wrong the
file is written plainly instead (data is never traded for formatting).
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any


def plain(data: dict) -> str:
    """The text rockscc writes for data nobody formatted: one key per line (diffs well), the
    values of a table, then its tables (`[attrs]`) and arrays of tables (`[[interfaces]]`).
    Made here because tomli_w's general writer costs ~0.8 ms a host, most of a load of ten
    thousand hosts."""
    lines: list[str] = []
    _table(data, "", lines)
    return "\n".join(lines).lstrip("\n") + "\n" if lines else ""


def is_plain(text: str, data: dict) -> bool:
    """Whether `text` is exactly what rockscc would write for `data` (nothing of a user's to keep)."""
    return text == plain(data)


def _table(data: dict, prefix: str, lines: list[str], header: str = "[{}]") -> None:
    tables = [(k, v) for k, v in data.items() if isinstance(v, dict)]
    arrays = [(k, v) for k, v in data.items() if _is_tables(v)]
    values = [(k, v) for k, v in data.items() if not isinstance(v, dict) and not _is_tables(v)]
    if prefix and (values or not (tables or arrays) or header != "[{}]"):
        lines += ["", header.format(prefix)]
    lines += [f"{_key(k)} = {_value(v)}" for k, v in values]
    for key, table in tables:
        _table(table, f"{prefix}.{_key(key)}" if prefix else _key(key), lines)
    for key, items in arrays:
        for item in items:
            _table(item, f"{prefix}.{_key(key)}" if prefix else _key(key), lines, "[[{}]]")


def _is_tables(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _key(key: str) -> str:
    return key if _BARE.fullmatch(key) else _string(key)  # fullmatch: "$" would let "a\n" pass


def _string(value: str) -> str:
    # JSON's escapes are TOML's (\" \\ \b \t \n \f \r \uXXXX); DEL must be escaped in TOML too
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: Any, inline: bool = False) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            repr(value)
            if value == value and value not in (float("inf"), float("-inf"))
            else {"nan": "nan", "inf": "inf", "-inf": "-inf"}[repr(value)]
        )
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v, True)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, list):
        if not value:
            return "[]"
        if inline:
            return "[" + ", ".join(_value(v, True) for v in value) + "]"
        return "[\n" + "".join(f"    {_value(v, True)},\n" for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def rewrite(text: str, old: dict, new: dict) -> str:
    """`text` (whose data is `old`) changed to hold `new`, keeping comments and formatting."""
    if not text.strip() or is_plain(text, old):
        return plain(new)
    import tomlkit

    try:
        document = tomlkit.parse(text)
        _update(document, new)
        result = tomlkit.dumps(document)
        if tomllib.loads(result) == new:
            return result
    except Exception:  # noqa: BLE001 - tomlkit's own errors; the plain text below is always right
        pass
    return plain(new)


def _update(container: Any, new: dict) -> None:
    for key in [k for k in container if k not in new]:
        del container[key]
    for key, value in new.items():
        if key in container:
            old = container[key]
            if isinstance(value, dict) and isinstance(old, dict):
                _update(old, value)
                continue
            if _same_tables(old, value):
                for item, element in zip(old, value, strict=True):
                    _update(item, element)
                continue
            if _unwrap(old) == value:
                continue  # unchanged: keep its spelling (quotes, inline comment)
        container[key] = value


def _same_tables(old: Any, value: Any) -> bool:
    """Two arrays of tables of the same length: updated element by element (comments kept)."""
    return (
        isinstance(value, list)
        and isinstance(old, list)
        and len(old) == len(value)
        and bool(value)
        and all(isinstance(v, dict) for v in value)
        and all(isinstance(o, dict) for o in old)
    )


def _unwrap(item: Any) -> Any:
    return item.unwrap() if hasattr(item, "unwrap") else item
