"""rockscc's grammars (lark, LALR) and the one way they are built.

Building an LALR parser costs 10–40 ms; lark's own cache would keep it as a pickle in the shared
temp directory, where anyone could plant one to be loaded. Here a built parser is kept in the
build's memo instead (build/.rockscc-cache, 0600), as JSON of lark's own serialization: data from
which lark rebuilds its tables, never code. Outside a build, parsers are built.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def lalr_parser(grammar: Path, **options: Any):
    """The LALR parser of a .lark file, from the build's memo when an earlier process built it."""
    import lark
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    from rockscc.build import memo

    text = grammar.read_text()
    key = hashlib.sha256(repr((text, sorted(options.items()), lark.__version__)).encode()).hexdigest()
    saved = memo.get("lark-parser", key)
    if saved is not None:
        try:
            return lark.Lark.load(_from_json(json.loads(saved)))
        except Exception:  # a memo entry lark cannot read: build instead
            pass
    parser = lark.Lark(text, parser="lalr", **options)
    data, memo_data = parser.memo_serialize([TerminalDef, Rule])
    memo.remember("lark-parser", key, json.dumps(_to_json({"data": data, "memo": memo_data})).encode())
    return parser


# JSON keeps tables (dicts with integer keys) and tuples apart from objects and lists
def _to_json(value: Any) -> Any:
    if isinstance(value, dict):
        if all(type(k) is str for k in value):
            return {"d": {k: _to_json(v) for k, v in value.items()}}
        return {"k": [[_to_json(k), _to_json(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"t": [_to_json(v) for v in value]}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if value is None or type(value) in (str, int, float, bool):
        return value
    raise TypeError(f"lark serialized a {type(value).__name__}")


def _from_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        (kind, body), = value.items()
        if kind == "d":
            return {k: _from_json(v) for k, v in body.items()}
        if kind == "k":
            return {_from_json(k): _from_json(v) for k, v in body}
        if kind == "t":
            return tuple(_from_json(v) for v in body)
        raise ValueError(f"unknown JSON form {kind!r}")
    return value
