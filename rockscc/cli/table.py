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
    cells = [[_cell(v) for v in row] for row in rows]
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
    widths = [len(h) for h in header] if show_header else [0] * len(header)
    for row in cells:
        widths = [max(w, len(v)) for w, v in zip(widths, row)]
    lines = []
    if show_header:
        lines.append(_line([h.upper() for h in header], widths))
    for row in cells:
        lines.append(_line([v if v else pad * w for v, w in zip(row, widths)], widths))
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


def _line(values: list[str], widths: list[int]) -> str:
    return " ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()
