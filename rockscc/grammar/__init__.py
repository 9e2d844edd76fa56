"""rockscc's grammars (lark, LALR) and the one way they are built.

Building an LALR parser costs 10–60 ms, once per process and grammar: for `cond=`, a good part
of what a one-host incremental build spends before it compiles anything. So the parse tables of
each grammar ship beside it as data (`tables.py`: `<name>.tables.json`, JSON, never a pickle),
made by `python -m rockscc.grammar.tables` and used only while they are exactly those of the
grammar text, the parser options and the lark version in use, and intact (they carry their own
digest); otherwise the parser is built from the grammar, as before.
`tests/xmlgraph/test_grammar_tables.py` fails when a shipped file is stale.

lark's own cache (`cache=True`) would keep a parser as a pickle in the shared temp directory,
under a name anyone can predict, where any local user could plant one for rockscc to unpickle: it
is not used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
GRAMMARS: dict[str, dict[str, Any]] = {  # name (HERE/<name>.lark) -> lark options besides parser="lalr"
    "cond": {"maybe_placeholders": False},
    "partition": {"propagate_positions": True},
    "xlcfg": {},
}


def lalr_parser(name: str):
    """The LALR parser of GRAMMARS[name]: from its shipped tables when they are current, else
    built from the grammar."""
    import lark

    from rockscc.grammar import tables

    text = (HERE / f"{name}.lark").read_text()
    loaded = tables.load(name, text, GRAMMARS[name])
    if loaded is not None:
        return loaded
    return lark.Lark(text, parser="lalr", **GRAMMARS[name])
