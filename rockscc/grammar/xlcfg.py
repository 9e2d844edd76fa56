"""Reading xl/xm domain configs back into data (the inverse of backends/xen.py), so existing
configs can be imported and rockscc's own output checked."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from lark import Lark, Transformer
from lark.exceptions import UnexpectedInput

from rockscc.errors import RocksccError
from rockscc.grammar import lalr_parser

_ESCAPE = re.compile(r"\\(.)")  # one backslash escape, read left to right as xl does
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


@cache
def _parser() -> Lark:
    return lalr_parser("xlcfg")


class _ToData(Transformer):
    def start(self, items):
        return dict(i for i in items if i is not None)

    def setting(self, items):
        return (str(items[0]), items[1])

    def string(self, items):
        return _ESCAPE.sub(lambda m: _ESCAPES.get(m[1], m[1]), str(items[0])[1:-1])

    def number(self, items):
        return int(str(items[0]), 0)

    def list(self, items):
        return [i for i in items if i is not None]


def parse_xl(text: str, source: str = "xl config") -> dict[str, Any]:
    try:
        tree = _parser().parse(text if text.endswith("\n") else text + "\n")
    except UnexpectedInput as exc:
        raise RocksccError(f"{source}:{exc.line}:{exc.column}: not valid xl config syntax") from None
    return _ToData().transform(tree)
