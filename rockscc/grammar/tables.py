"""The parse tables of rockscc's grammars, shipped as JSON beside each grammar.

`<name>.tables.json` holds what lark's `memo_serialize` makes of a built LALR parser (rules,
terminals, the parse table, options) in a JSON form that keeps what JSON alone would lose (int
keys, tuples: `_encode`), with what it was made from:

    {"format": 1, "lark": "1.3.1", "key": sha256(grammar text, options), "digest": sha256(tables),
     "tables": {"data": …, "memo": …}}

`load` uses the file only when its format, lark version and key are those of the grammar and
options in use and its digest is that of its tables; anything else (a grammar edited since, a
damaged or truncated file, another lark) gives None and the caller builds the parser from the
grammar. Loading takes ~5 ms where building the cond grammar's tables takes ~50 ms. (lark numbers
the states in the order of its sets, so a file made again differs in its bytes, not in what it
parses: tests/xmlgraph/test_grammar_tables.py compares the parsers, not the files.)

    python -m rockscc.grammar.tables          # write every grammar's tables (after editing one)
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from rockscc.grammar import GRAMMARS, HERE

FORMAT = 1


def path_of(name: str):
    return HERE / f"{name}.tables.json"


def key(text: str, options: dict[str, Any]) -> str:
    """What the tables are a function of, besides lark's version: the grammar and its options."""
    return hashlib.sha256(json.dumps([text, sorted(options.items())]).encode()).hexdigest()


def _digest(tables: Any) -> str:
    return hashlib.sha256(json.dumps(tables, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def load(name: str, text: str, options: dict[str, Any]):
    """The parser from GRAMMARS[name]'s shipped tables, or None when they are missing, stale,
    damaged or of another lark."""
    import lark

    try:
        found = json.loads(path_of(name).read_text())
        if (
            type(found) is not dict
            or found.get("format") != FORMAT
            or found.get("lark") != lark.__version__
            or found.get("key") != key(text, options)
            or found.get("digest") != _digest(found.get("tables"))
        ):
            return None
        tables = found["tables"]
        return lark.Lark._load_from_dict(_decode(tables["data"]), _decode(tables["memo"]))
    except Exception:  # unreadable, not JSON, a shape lark does not take: build from the grammar
        return None


def dump(name: str) -> str:
    """The tables file of GRAMMARS[name], built from its grammar now."""
    import lark
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    text = (HERE / f"{name}.lark").read_text()
    options = GRAMMARS[name]
    data, memo = lark.Lark(text, parser="lalr", **options).memo_serialize([TerminalDef, Rule])
    tables = {"data": _encode(data), "memo": _encode(memo)}
    found = {"format": FORMAT, "lark": lark.__version__, "key": key(text, options), "digest": _digest(tables)}
    return json.dumps({**found, "tables": tables}, sort_keys=True, separators=(",", ":")) + "\n"


def _encode(value: Any) -> Any:
    """JSON keeps str keys and lists only: every dict becomes {"d": [[key, value]…]} and every
    tuple {"t": […]} (so no other object remains to be mistaken for one)."""
    if isinstance(value, dict):
        return {"d": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"t": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, (str, int)):  # bool is an int
        return value
    raise TypeError(f"cannot keep {type(value).__name__} in a tables file")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        (kind, items), *rest = value.items()
        if rest or kind not in ("d", "t"):
            raise ValueError("not a tables file")
        if kind == "d":
            return {_decode(k): _decode(v) for k, v in items}
        return tuple(_decode(v) for v in items)
    return value


def main() -> None:
    for name in GRAMMARS:
        path_of(name).write_text(dump(name))
        print(f"wrote {path_of(name)}")


if __name__ == "__main__":
    main()
