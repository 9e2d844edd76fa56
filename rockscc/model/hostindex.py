"""The host index: what every host file held when it was last read, in one SQLite file.

Derived and rebuildable: each row carries the signature (size, mtime, ctime, inode) of the file
it was made from, and the store re-reads any file whose signature differs (a hand edit, a file
added or removed, an edit that crashed before the index caught up). Deleting the index costs one parse of
every host file, nothing else. It is never the source of truth and holds no code: a row is the
host's record as JSON plus the values other hosts must not share (addresses, MACs, interface
names, VM slots), so an edit checks one host against ten thousand without reading them: the
`addrs` table maps each such value to its holders (an indexed lookup, not a pass over the rows).
"""

from __future__ import annotations

import _socket as socket  # socket.py's C half (inet_aton): socket.py builds its enums at import, ~5 ms of start-up
import os
import sqlite3
from pathlib import Path
from typing import NamedTuple

from rockscc.model.records import Host

INDEX = ".rockscc-cache/hosts.sqlite"
FORMAT = "5"  # 5: the columns `list host` prints (cpus, os, arch, comment)
HELD_ABOVE = "held-above:"  # meta rows of the allocator (highest_free)


class Row(NamedTuple):
    sig: str  # the host file's "size:mtime_ns:ctime_ns:inode" when this row was made ("~…": racy, see store)
    data: str  # the record as JSON (codec.encode)
    digest: str  # cluster.host_digest of the record
    plain: bool  # the file is exactly what rockscc writes (no comments or formatting to keep)
    membership: str
    rack: int
    rank: int
    container: str | None  # a VM's container
    slot: int | None  # a VM's slice on it
    addrs: str  # " ip=… mac=… name=… " of its interfaces, space-separated and -surrounded
    cpus: int  # the rest of what `list host` prints, so that listing every host decodes no record
    os: str
    arch: str
    comment: str | None


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
        host.cpus,
        host.os,
        host.arch,
        host.comment,
    )


def _ips(addrs: str) -> list[int]:
    out = []
    for value in addrs.split():
        if value.startswith("ip="):
            try:
                out.append(int.from_bytes(socket.inet_aton(value[3:]), "big"))
            except OSError:
                pass  # not an address (the host's validation names it)
    return out


class Index:
    """The index of one description; in memory when .rockscc-cache cannot be written."""

    def __init__(self, root: Path) -> None:
        from rockscc import __version__

        self.db = _open(root / INDEX)
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        stamp = f"{FORMAT} {__version__}"  # a new rockscc may decode differently, or hold other columns
        found = self.db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        if found is None or found[0] != stamp:
            if not self._write(lambda: self._start_again(stamp)):  # busy or read-only: none of its rows is used
                self.db = sqlite3.connect(":memory:", isolation_level=None)
                self.db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
                self._start_again(stamp)
        self._create()

    def _create(self) -> None:
        self.db.execute(f"CREATE TABLE IF NOT EXISTS hosts (name TEXT PRIMARY KEY, {', '.join(Row._fields)})")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS addrs (value TEXT, name TEXT, PRIMARY KEY (value, name)) WITHOUT ROWID"
        )
        self.db.execute("CREATE INDEX IF NOT EXISTS addrs_by_name ON addrs (name)")
        self.db.execute("CREATE INDEX IF NOT EXISTS hosts_by_container ON hosts (container)")
        self.db.execute("CREATE INDEX IF NOT EXISTS hosts_by_membership ON hosts (membership)")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS ips (num INTEGER, name TEXT, PRIMARY KEY (num, name)) WITHOUT ROWID"
        )
        self.db.execute("CREATE INDEX IF NOT EXISTS ips_by_name ON ips (name)")

    def _start_again(self, stamp: str) -> None:
        """An index of another format or rockscc: every table made anew (an older one may lack
        columns), the rows then rebuilt from the files as they are used."""
        found = self.db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        if found is not None and found[0] == stamp:
            return  # another process started it again while this one waited for the lock
        for table in ("hosts", "addrs", "ips"):
            self.db.execute(f"DROP TABLE IF EXISTS {table}")
        self.db.execute("DELETE FROM meta")
        self._create()
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (stamp,))

    def rows(self) -> dict[str, Row]:
        """Every row, by host name (in name order: what a host table iterates in), without the
        records (`data` None): a command reading three records of ten thousand fetches three
        (`data`). A read transaction stays open (or the one open is used), so what is fetched
        later is of the same snapshot (WAL: writers go on meanwhile)."""
        fields = ", ".join("NULL" if f == "data" else f for f in Row._fields)
        if not self.db.in_transaction:
            self.db.execute("BEGIN")
        make = Row._make
        return {r[0]: make(r[1:]) for r in self.db.execute(f"SELECT name, {fields} FROM hosts ORDER BY name")}

    def signatures(self) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
        """({name: sig}, {name: digest}, {VM: container}) of every row, in a read transaction
        that stays open as in `rows`: what checking every host file and stamping every host
        needs, fetched as whole columns joined in SQLite and split here (ten thousand rows made
        into tuples cost four times more)."""
        if not self.db.in_transaction:
            self.db.execute("BEGIN")
        count, *found = self.db.execute(
            "SELECT count(*), count(name), count(sig), count(digest), group_concat(name, char(10)),"
            " group_concat(sig, char(10)), group_concat(digest, char(10)) FROM hosts"
        ).fetchone()
        columns = [text.split("\n") if isinstance(text, str) else [] for text in found[3:]]
        if any(n != count for n in found[:3]) or any(len(column) != count for column in columns):
            # a value holding a newline, or none (a damaged or planted row): row by row
            rows = self.db.execute("SELECT name, sig, digest FROM hosts").fetchall()
            columns = [[row[i] for row in rows] for i in range(3)]
        names, sigs, digests = columns
        containers = dict(self.db.execute("SELECT name, container FROM hosts WHERE container >= ''"))
        return dict(zip(names, sigs)), dict(zip(names, digests)), containers

    def begin_read(self) -> None:
        """Start a read transaction (a snapshot: what is fetched later is of it) without
        fetching every row again as `rows` does."""
        if not self.db.in_transaction:
            self.db.execute("BEGIN")
        self.db.execute("SELECT 1 FROM hosts LIMIT 1").fetchone()  # the snapshot starts at the first read

    def meta(self, key: str) -> str | None:
        found = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if found is None else found[0]

    def set_meta(self, key: str, value: str) -> bool:
        return self._write(lambda: self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value)))

    def names(self) -> list[str]:
        """Every indexed host name, in name order."""
        # one string, split here: a hundred thousand rows fetched one by one cost ten times more
        (joined,) = self.db.execute(
            "SELECT group_concat(name, char(10)) FROM (SELECT name FROM hosts ORDER BY name)"
        ).fetchone()
        return joined.split("\n") if joined else []

    def has(self, name: str) -> bool:
        return self.db.execute("SELECT 1 FROM hosts WHERE name = ?", (name,)).fetchone() is not None

    def alike(self, name: str) -> list[str]:
        """Other indexed names equal to `name` but for case (host names are ASCII, which NOCASE
        folds): a scan, for the rare file read again after a hand edit."""
        found = self.db.execute("SELECT name FROM hosts WHERE name = ? COLLATE NOCASE AND name != ?", (name, name))
        return sorted(other for (other,) in found)

    def row(self, name: str) -> Row | None:
        """One host's row without its record (`data` None), None if it has none."""
        fields = ", ".join("NULL" if f == "data" else f for f in Row._fields)
        found = self.db.execute(f"SELECT {fields} FROM hosts WHERE name = ?", (name,)).fetchone()
        return None if found is None else Row._make(found)

    def record(self, name: str) -> tuple[str, str] | None:
        """(signature, record JSON) of one host: the caller checks the signature is the one it trusts."""
        return self.db.execute("SELECT sig, data FROM hosts WHERE name = ?", (name,)).fetchone()

    def holders(self, value: str) -> list[str]:
        """The hosts whose rows hold `value` ("ip=…", "mac=…", "name=…")."""
        return [r[0] for r in self.db.execute("SELECT name FROM addrs WHERE value = ?", (value,))]

    def members(self, membership: str) -> list[str]:
        """The hosts whose rows are of `membership`."""
        return [r[0] for r in self.db.execute("SELECT name FROM hosts WHERE membership = ?", (membership,))]

    def highest_free(self, below: int, first: int, top: int) -> int | None:
        """The highest address (an integer) from `below` down to `first` that no row holds;
        None if all are held. A run of held addresses is skipped in one query (its lowest
        member found through the index); and the meta row `held-above:FIRST:TOP` remembers
        below which address a search from `top` (broadcast - 1) ended, every address above it
        being held — kept true by `apply` as addresses are freed — so the next allocation of a
        hundred thousand hosts' network starts there."""
        key = f"{HELD_ABOVE}{first}:{top}"
        from_top = below == top
        if from_top:
            hint = self.meta(key)
            if hint is not None and first <= int(hint) < below:
                below = int(hint)
        found = None
        while below >= first:
            if self.db.execute("SELECT 1 FROM ips WHERE num = ?", (below,)).fetchone() is None:
                found = below
                break
            (start,) = self.db.execute(
                "SELECT max(num) FROM ips a WHERE num BETWEEN ? AND ? AND NOT EXISTS"
                " (SELECT 1 FROM ips b WHERE b.num = a.num - 1)",
                (first, below),
            ).fetchone()
            below = (start if start is not None else first) - 1
        if from_top and found is not None:
            self.set_meta(key, str(found))
        return found

    def vms(self) -> list[str]:
        """The hosts whose rows are VMs (have a container)."""
        # `>= ''` (every container name), not IS NOT NULL: SQLite scans the table for that
        return [r[0] for r in self.db.execute("SELECT name FROM hosts WHERE container >= ''")]

    def end_read(self) -> None:
        try:
            self.db.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def records(self) -> dict[str, tuple[str, str]]:
        """{name: (signature, record JSON)} of every host."""
        return {name: (sig, data) for name, sig, data in self.db.execute("SELECT name, sig, data FROM hosts")}

    def apply(self, changed: dict[str, Row], removed: set[str] | frozenset = frozenset()) -> bool:
        """Record new rows and forget removed hosts, in one SQLite transaction; False if the
        index could not be written (busy, read-only: the rows are simply not there)."""
        if not changed and not removed:
            return True
        marks = ", ".join("?" * (len(Row._fields) + 1))
        return self._write(
            lambda: (
                self._free(changed, removed),
                self.db.executemany("DELETE FROM hosts WHERE name = ?", [(n,) for n in removed]),
                self.db.executemany("DELETE FROM addrs WHERE name = ?", [(n,) for n in (*removed, *changed)]),
                self.db.executemany(
                    f"INSERT OR REPLACE INTO hosts VALUES ({marks})", [(name, *row) for name, row in changed.items()]
                ),
                self.db.executemany(
                    "INSERT OR IGNORE INTO addrs VALUES (?, ?)",
                    [(value, name) for name, row in changed.items() for value in row.addrs.split()],
                ),
                self.db.executemany("DELETE FROM ips WHERE name = ?", [(n,) for n in (*removed, *changed)]),
                self.db.executemany(
                    "INSERT OR IGNORE INTO ips VALUES (?, ?)",
                    [(num, name) for name, row in changed.items() for num in _ips(row.addrs)],
                ),
            )
        )

    def _free(self, changed: dict[str, Row], removed) -> None:
        """Addresses the rows being replaced or removed held and no longer hold: the
        `held-above` marks below them move up (the highest free address is now theirs)."""
        hints = self.db.execute("SELECT key, value FROM meta WHERE key LIKE ?", (HELD_ABOVE + "%",)).fetchall()
        if not hints:
            return
        freed = set()
        for name in (*removed, *changed):
            old = {num for (num,) in self.db.execute("SELECT num FROM ips WHERE name = ?", (name,))}
            freed |= old.difference(_ips(changed[name].addrs)) if name in changed else old
        if not freed:
            return
        for key, value in hints:
            first, top = (int(x) for x in key[len(HELD_ABOVE) :].split(":"))
            mark = max([int(value), *(x for x in freed if first <= x <= top)])
            self.db.execute("UPDATE meta SET value = ? WHERE key = ?", (str(mark), key))

    def _write(self, statements) -> bool:
        if self.db.in_transaction:
            # a read snapshot is open (verify_all): not written now. (A BEGIN IMMEDIATE that fails
            # inside a read transaction still takes SQLite's write lock and keeps it until that
            # transaction ends: every other writer of the index would then wait.)
            return False
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                statements()
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        except sqlite3.Error:
            return False  # a busy or read-only index only makes the next load re-read those files
        return True

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
