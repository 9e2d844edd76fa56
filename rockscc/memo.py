"""A memo that outlives the build process: results that are pure functions of their key.

Two kinds of work are costly to redo and depend only on what their key names: a partition plan
(the %pre chain's texts and interpreters, the hardware, the recorded partitions) and pykickstart's
verdict on a kickstart skeleton. Within a build they are memoized in memory; this store keeps
them between builds, in build/.rockscc-cache/memo.sqlite, so that rebuilding one host after an
attribute change starts neither the sandbox worker nor pykickstart when their inputs are known.

Only the build's main process writes: forked workers queue what they computed (`drain`) and the
engine stores it (`store`) in one transaction. Stages do not import this module's store: they are
handed a `Memo` (pipeline.Session.memo). The file is a cache: an unreadable or damaged one
is deleted and rebuilt, never an error.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from functools import cache
from pathlib import Path

DIRNAME = ".rockscc-cache"
FILENAME = "memo.sqlite"
MAX_ROWS = 100_000  # the oldest entries go first beyond this (per-host partition programs fill it fastest)


class Memo:
    """The memo of one session (pipeline.Session owns it). Stages see `get`, `known` and
    `remember`; the engine points it at a build directory (`use`), stores what a build and its
    forked workers computed (`drain`, `store`) and releases the file (`close`). Until `use` is
    given a directory it keeps nothing: a command that compiles without building reads no file."""

    def __init__(self) -> None:
        self._path: Path | None = None
        self._conn: tuple[int, sqlite3.Connection] | None = None  # (pid, connection): never used across fork
        self._pending: list[tuple[str, str, bytes]] = []

    def use(self, outdir: Path | None) -> None:
        """Memoize into this build directory's cache (None: in memory only)."""
        self.close()
        self._path = outdir / DIRNAME / FILENAME if outdir is not None else None
        self._pending.clear()

    def close(self) -> None:
        """End of a build: release the file (--watch and tests run many builds in one process)."""
        if self._conn is not None and self._conn[0] == os.getpid():
            self._conn[1].close()
        self._conn = None

    def get(self, namespace: str, key: str) -> bytes | None:
        conn = self._connection()
        if conn is None:
            return None
        try:
            row = conn.execute("SELECT value FROM memo WHERE ns = ? AND key = ?", (namespace, key)).fetchone()
        except sqlite3.Error:
            self._discard()
            return None
        return row[0] if row else None

    def known(self, namespace: str, key: str) -> bool:
        return self.get(namespace, key) is not None

    def remember(self, namespace: str, key: str, value: bytes = b"") -> None:
        if self._path is not None:
            self._pending.append((namespace, key, value))

    def drain(self) -> list[tuple[str, str, bytes]]:
        """What this process computed since the last drain (a forked worker hands it to the parent)."""
        entries = list(self._pending)
        self._pending.clear()
        return entries

    def store(self, entries: list[tuple[str, str, bytes]]) -> None:
        """Write entries (the main process's own and its workers') in one transaction."""
        entries = entries + self.drain()
        conn = self._connection(create=True)
        if conn is None or not entries:
            return
        try:
            with conn:
                conn.executemany("INSERT OR REPLACE INTO memo (ns, key, value) VALUES (?, ?, ?)", entries)
                (count,) = conn.execute("SELECT count(*) FROM memo").fetchone()
                if count > MAX_ROWS:
                    conn.execute(
                        "DELETE FROM memo WHERE rowid IN (SELECT rowid FROM memo ORDER BY rowid LIMIT ?)",
                        (count - MAX_ROWS,),
                    )
        except sqlite3.Error:
            self._discard()

    def _connection(self, create: bool = False) -> sqlite3.Connection | None:
        if self._path is None:
            return None
        if self._conn is not None and self._conn[0] == os.getpid():
            return self._conn[1]
        if not create and not self._path.exists():
            return None
        try:
            if self._path.parent.is_symlink():  # a link planted for .rockscc-cache: the cache is not written through it
                self._path.parent.unlink()
            self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            private_file(self._path)
            conn = sqlite3.connect(self._path, timeout=5, isolation_level="DEFERRED")
            conn.execute("PRAGMA journal_mode=WAL")  # readers (forked workers) never wait for the writer
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE IF NOT EXISTS memo (ns TEXT, key TEXT, value BLOB, PRIMARY KEY (ns, key))")
            conn.execute("CREATE TABLE IF NOT EXISTS meta (code TEXT)")
            row = conn.execute("SELECT code FROM meta").fetchone()
            if row is None or row[0] != code_identity():
                with conn:  # made by other code: nothing in it can be trusted
                    conn.execute("DELETE FROM memo")
                    conn.execute("DELETE FROM meta")
                    conn.execute("INSERT INTO meta (code) VALUES (?)", (code_identity(),))
        except (sqlite3.Error, OSError):
            self._discard()
            return None
        self._conn = (os.getpid(), conn)
        return conn

    def _discard(self) -> None:
        """A damaged cache is deleted: the next build recomputes what it held."""
        self._conn = None
        if self._path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self._path}{suffix}").unlink(missing_ok=True)


@cache
def code_identity() -> str:
    """rockscc's own code, by version and (path, size, mtime) of its sources: an upgrade or a
    developer's edit empties the memo instead of serving results computed by other code."""
    from rockscc import __version__

    package = str(Path(__file__).resolve().parent)
    entries = [__version__]
    for directory, dirs, files in os.walk(package):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if name.endswith((".py", ".lark", ".j2")):
                st = os.stat(os.path.join(directory, name))
                entries.append(f"{directory[len(package) :]}/{name}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(sorted(entries)).encode()).hexdigest()


def private_file(path: Path) -> None:
    """Create `path` readable by its owner only, before SQLite opens it (its journal and WAL files
    take the same mode): what a build records holds attribute values, the root password hash
    among them."""
    # never through a link (ELOOP): one planted in the build directory would have the build
    # chmod the host file it names (/usr/bin/dash, /etc/passwd) to 0600
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # a file written by an earlier rockscc
    finally:
        os.close(fd)
