"""The host index: what every host file held when it was last read, in one SQLite file.

Derived and rebuildable: each row carries the signature (size, mtime, inode) of the file it was
made from, and the store re-reads any file whose signature differs (a hand edit, a file added or
removed, an edit that crashed before the index caught up). Deleting the index costs one parse of
every host file, nothing else. It is never the source of truth and holds no code: a row is the
host's record as JSON plus the values other hosts must not share (addresses, MACs, interface
names, VM slots), so an edit checks one host against ten thousand without reading them.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import NamedTuple

from rockscc.model.records import Host

INDEX = ".rockscc-cache/hosts.sqlite"
FORMAT = "2"


class Row(NamedTuple):
    sig: str  # the host file's "size:mtime_ns:inode" when this row was made
    data: str  # the record as JSON (codec.encode)
    digest: str  # cluster.host_digest of the record
    plain: bool  # the file is exactly what rockscc writes (no comments or formatting to keep)
    membership: str
    rack: int
    rank: int
    container: str | None  # a VM's container
    slot: int | None  # a VM's slice on it
    addrs: str  # " ip=… mac=… name=… " of its interfaces, space-separated and -surrounded


def addresses(host: Host) -> tuple[str, ...]:
    """The values of a host that no other host may hold (and that select it by address)."""
    out = []
    for iface in host.interfaces:
        if iface.ip:
            out.append(f"ip={iface.ip}")
        if iface.mac:
            out.append(f"mac={iface.mac}")
        if iface.name:
            out.append(f"name={iface.name}")
    return tuple(out)


def make_row(host: Host, sig: str, data: str, digest: str, plain: bool) -> Row:
    vm = host.vm
    return Row(
        sig,
        data,
        digest,
        plain,
        host.membership,
        host.rack,
        host.rank,
        vm.container if vm else None,
        vm.slice if vm else None,
        f" {' '.join(addresses(host))} ",
    )


class Index:
    """The index of one description; in memory when .rockscc-cache cannot be written."""

    def __init__(self, root: Path) -> None:
        from rockscc import __version__

        self.db = _open(root / INDEX)
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        self.db.execute(f"CREATE TABLE IF NOT EXISTS hosts (name TEXT PRIMARY KEY, {', '.join(Row._fields)})")
        stamp = f"{FORMAT} {__version__}"  # a new rockscc may decode differently: start again
        found = self.db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        if found is None or found[0] != stamp:
            self._write(
                lambda: (
                    self.db.execute("DELETE FROM hosts"),
                    self.db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (stamp,)),
                )
            )

    def rows(self) -> dict[str, Row]:
        """Every row, by host name (in name order: what a host table iterates in), without the
        records (`data` None): a command reading three records of ten thousand fetches three
        (`data`). A read transaction stays open, so what is fetched later is of the same
        snapshot (WAL: writers go on meanwhile)."""
        fields = ", ".join("NULL" if f == "data" else f for f in Row._fields)
        self.db.execute("BEGIN")
        make = Row._make
        return {r[0]: make(r[1:]) for r in self.db.execute(f"SELECT name, {fields} FROM hosts ORDER BY name")}

    def end_read(self) -> None:
        try:
            self.db.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def data(self, names: list[str] | None = None) -> dict[str, str]:
        """The records (JSON) of `names`, or of every host."""
        if names is None:
            return dict(self.db.execute("SELECT name, data FROM hosts"))
        out = {}
        for name in names:
            found = self.db.execute("SELECT data FROM hosts WHERE name = ?", (name,)).fetchone()
            if found is not None:
                out[name] = found[0]
        return out

    def apply(self, changed: dict[str, Row], removed: set[str] | frozenset = frozenset()) -> None:
        """Record new rows and forget removed hosts, in one SQLite transaction."""
        if not changed and not removed:
            return
        marks = ", ".join("?" * (len(Row._fields) + 1))
        self._write(
            lambda: (
                self.db.executemany("DELETE FROM hosts WHERE name = ?", [(n,) for n in removed]),
                self.db.executemany(
                    f"INSERT OR REPLACE INTO hosts VALUES ({marks})", [(name, *row) for name, row in changed.items()]
                ),
            )
        )

    def _write(self, statements) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                statements()
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        except sqlite3.Error:
            pass  # a busy or read-only index only makes the next load re-read those files

    def close(self) -> None:
        self.db.close()


def _open(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        db = sqlite3.connect(path, timeout=30, isolation_level=None)
        os.chmod(path, 0o600)  # it holds the host records, secrets included: the owner's alone
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # a lost row only costs a re-read of its file
        db.execute("BEGIN IMMEDIATE")
        db.execute("COMMIT")
        return db
    except (OSError, sqlite3.Error):
        return sqlite3.connect(":memory:", isolation_level=None)
