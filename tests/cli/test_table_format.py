"""The table writer (cli/table.py) against a plain reading of Rocks' format: the rows of the
largest listings go through its fast path, which must print what the plain one prints."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rockscc.cli.table import format_table

CELL = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.text(alphabet=st.sampled_from(list("ab-:{} é%0")), max_size=6),
)


def text(v) -> str:
    return "" if v is None else ("yes" if v else "no") if isinstance(v, bool) else str(v)


def plain(header, rows, *, owner=True, show_header=True, columns=None, pad="-") -> str:
    """Each row padded cell by cell to its column's widest entry, as Rocks printed them."""
    header = [h.lower() for h in header]
    cells = [[text(v) for v in row] for row in rows]
    if owner and cells:
        if len({row[0] for row in cells}) == 1:
            header, cells = header[1:], [row[1:] for row in cells]
        else:
            cells = [[f"{row[0]}:", *row[1:]] for row in cells]
    if columns:
        keep = [header.index(c) for c in columns]
        header, cells = [header[i] for i in keep], [[row[i] for i in keep] for row in cells]
    if not header:
        return ""
    widths = []
    for i, name in enumerate(header):
        widths.append(max([len(name) if show_header else 0] + [len(row[i]) for row in cells]))
    lines = []
    if show_header:
        lines.append(" ".join(h.upper().ljust(w) for h, w in zip(header, widths)).rstrip())
    for row in cells:
        lines.append(" ".join((v or pad * w).ljust(w) for v, w in zip(row, widths)).rstrip())
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None)
@given(
    width=st.integers(1, 5),
    data=st.data(),
    owner=st.booleans(),
    show_header=st.booleans(),
    pad=st.sampled_from(["-", "", "*"]),
)
def test_the_table_is_the_plain_reading(width, data, owner, show_header, pad) -> None:
    header = data.draw(st.lists(st.text(alphabet="abcXY_", min_size=0, max_size=5), min_size=width, max_size=width))
    rows = data.draw(st.lists(st.lists(CELL, min_size=width, max_size=width), max_size=6))
    columns = None
    if data.draw(st.booleans()) and len(set(header)) == len(header) and (not owner or width > 1):
        start = 1 if owner and rows and len({text(r[0]) for r in rows}) == 1 else 0
        names = [h.lower() for h in header][start:]
        columns = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3)) if names else None
    expected = plain(header, rows, owner=owner, show_header=show_header, columns=columns, pad=pad)
    assert format_table(header, rows, owner=owner, show_header=show_header, columns=columns, pad=pad) == expected


def test_a_short_row_prints_empty_cells_instead_of_failing() -> None:
    text = format_table(["host", "a", "b"], [["h1", "x", "y"], ["h2", "x"]], owner=False)
    assert text.splitlines() == ["HOST A B", "h1   x y", "h2   x -"]
