"""Rocks' table format: upper-case headers, left-justified columns joined by one space,
an `owner:` column dropped when every row has the same owner, empty cells as dashes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rockscc.errors import RocksccError


def format_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    owner: bool = True,
    show_header: bool = True,
    columns: Sequence[str] | None = None,
    pad: str = "-",
) -> str:
    """Text of a table. With `owner`, the first column names the row's owner (`host:`)."""
    header = [h.lower() for h in header]
    # `list host` formats every host of the cluster: per-cell work stays in comprehensions and
    # each line is one str.format call (10 000 rows: ~0.08 s of CPU instead of ~0.15 s)
    cells = [[v if type(v) is str else _cell(v) for v in row] for row in rows]
    if any(len(row) != len(header) for row in cells):  # a short row's missing cells are empty
        cells = [(row + [""] * len(header))[: len(header)] for row in cells]
    if owner and cells:
        if len({row[0] for row in cells}) == 1:
            header, cells = header[1:], [row[1:] for row in cells]
        else:
            cells = [[f"{row[0]}:", *row[1:]] for row in cells]
    if columns:
        keep = _select(header, columns)
        header = [header[i] for i in keep]
        cells = [[row[i] for i in keep] for row in cells]
    if not header:
        return ""
    least = [len(h) for h in header] if show_header else [0] * len(header)
    columns_of = list(zip(*cells)) if cells else [()] * len(header)
    widths = [max(w, *map(len, column)) if column else w for w, column in zip(least, columns_of)]
    line = " ".join(f"{{:<{w}}}" for w in widths).format
    dashes = [pad * w for w in widths]
    lines = [line(*(h.upper() for h in header)).rstrip()] if show_header else []
    lines += [line(*[v or d for v, d in zip(row, dashes)]).rstrip() for row in cells]
    return "\n".join(lines) + "\n"


def format_json(header: Sequence[str], rows: Sequence[Sequence[Any]], columns: Sequence[str] | None = None) -> str:
    """The same rows for programs: a list of objects keyed by lower-case header."""
    header = [h.lower() for h in header]
    keep = _select(header, columns) if columns else range(len(header))
    records = [{header[i]: row[i] for i in keep} for row in rows]
    return json.dumps(records, indent=2) + "\n"


def _select(header: list[str], columns: Sequence[str]) -> list[int]:
    wanted = []
    for name in columns:
        name = name.strip().lower()
        if name not in header:
            raise RocksccError(f'output-col: no column "{name}" (columns: {", ".join(header)})')
        wanted.append(header.index(name))
    return wanted


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
