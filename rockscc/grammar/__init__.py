"""rockscc's grammars (lark, LALR) and the one way they are built.

Building an LALR parser costs 10–40 ms, once per process and grammar. lark's own cache
(`cache=True`) would keep it as a pickle in the shared temp directory, under a name anyone can
predict, where any local user could plant one for rockscc to unpickle: it is not used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def lalr_parser(grammar: Path, **options: Any):
    """The LALR parser of a .lark file shipped with rockscc."""
    import lark

    return lark.Lark(grammar.read_text(), parser="lalr", **options)
