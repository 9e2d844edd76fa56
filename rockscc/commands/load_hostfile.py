"""`rockscc load hostfile FILE.csv`: hosts from a spreadsheet, as Stacki users load them."""

from __future__ import annotations

import csv
import io

from rockscc.cli.command import Arg, Command
from rockscc.commands.load import read_script, run_lines
from rockscc.errors import RocksccError

COLUMNS = ("name", "appliance", "rack", "rank", "interface", "ip", "mac", "network", "comment")
ALIASES = {
    "host": "name",
    "hostname": "name",
    "interface_name": "interface",
    "device": "interface",
    "subnet": "network",
    "membership": "appliance",
}


class LoadHostfile(Command):
    """Add hosts from a CSV file (a spreadsheet saved as CSV), one transaction: every row loads
    or none does, and an error names the file's line.

    The first row names the columns (any order, case and spaces ignored): name (required),
    appliance, rack, rank, interface, ip, mac, network, comment. A row adds the host named (the
    first row of that name) and one interface of it; more rows of the same name add more
    interfaces. Empty cells take what `add host` would: appliance, rack and rank from a name
    <appliance>-<rack>-<rank>, interface eth0 (first row), network private, the next free
    address of the network (counting down from its broadcast address)."""

    name = "load hostfile"
    args = [Arg("file", help="a CSV file, or - for stdin")]
    examples = ["rockscc load hostfile hosts.csv"]
    mutates = True

    def run(self, ctx, opts) -> None:
        name, text = read_script(opts.file)
        rows = list(hostfile_commands(name, text))
        run_lines(ctx, name, rows)
        added = sum(words[:2] == ["add", "host"] and words[2].startswith("host=") for _, words in rows)
        ctx.after_commit.append(lambda: ctx.out(f"loaded {added} host(s) from {name}"))  # once written


def hostfile_commands(name: str, text: str):
    """(line number, command words) for each row of the CSV text: `add host` for the first row of
    a host, `add host interface` for each of its interfaces."""
    reader = csv.reader(io.StringIO(text), strict=True)
    header: list[str] | None = None
    seen: dict[str, int] = {}
    try:
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = _header(name, number, row)
                continue
            if len(row) > len(header):
                raise RocksccError(
                    f"{name}:{number}: {len(row)} cells, but the header names {len(header)} columns (nothing was loaded)"
                )
            cells = {key: value.strip() for key, value in zip(header, row, strict=False)}
            yield from _row_commands(name, number, cells, seen)
    except csv.Error as exc:
        raise RocksccError(f"{name}:{reader.line_num}: {exc} (nothing was loaded)") from None
    if header is None:
        raise RocksccError(f"{name}: no header row (columns: {', '.join(COLUMNS)})")


def _header(name: str, number: int, row: list[str]) -> list[str]:
    header = []
    for cell in row:
        key = "_".join(cell.strip().lower().replace("-", " ").split())
        key = ALIASES.get(key, key)
        if key not in COLUMNS:
            raise RocksccError(
                f'{name}:{number}: unknown column "{cell.strip()}" (columns: {", ".join(COLUMNS)}) (nothing was loaded)'
            )
        if key in header:
            raise RocksccError(f'{name}:{number}: column "{key}" named twice (nothing was loaded)')
        header.append(key)
    if "name" not in header:
        raise RocksccError(f'{name}:{number}: no "name" column (columns: {", ".join(COLUMNS)}) (nothing was loaded)')
    return header


def _row_commands(name: str, number: int, cells: dict[str, str], seen: dict[str, int]):
    host = cells.get("name", "")
    if not host:
        raise RocksccError(f"{name}:{number}: the name cell is empty (nothing was loaded)")
    first = host not in seen
    seen[host] = seen.get(host, 0) + 1
    if first:
        params = {
            "membership": cells.get("appliance"),
            "rack": cells.get("rack"),
            "rank": cells.get("rank"),
            "comment": cells.get("comment"),
            "ip": "none",
        }
        yield number, ["add", "host", f"host={host}", *_params(params)]  # host=: a name like "help" stays a name
    elif any(cells.get(key) for key in ("appliance", "rack", "rank", "comment")):
        raise RocksccError(
            f"{name}:{number}: host {host} was named on an earlier row: this row may only "
            f"add an interface (leave appliance, rack, rank and comment empty) (nothing was loaded)"
        )
    device = cells.get("interface") or ("eth0" if first else "")
    if not device:
        raise RocksccError(
            f"{name}:{number}: the interface cell is empty (a host's second row adds an interface) (nothing was loaded)"
        )
    network = cells.get("network") or "private"
    params = {
        "subnet": network,
        "ip": cells.get("ip") or "auto",
        "mac": cells.get("mac"),
        "name": host if network == "private" else None,
    }
    yield number, ["add", "host", "interface", f"host={host}", f"iface={device}", *_params(params)]


def _params(params: dict[str, str | None]) -> list[str]:
    return [f"{key}={value}" for key, value in params.items() if value]
