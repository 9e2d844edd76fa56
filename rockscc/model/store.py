"""The cluster description on disk: cluster.toml for what is cluster-wide, one file per host.

    cluster.toml              appliances, networks, attributes, PXE actions, rolls, …
    hosts/<name>.toml         one host's record (the keys a [hosts.<name>] table held)
    .rockscc-cache/hosts.sqlite   the host index (hostindex.py): derived, rebuilt from the files

An edit reads and writes what it touches: the host files it changed (tomledit.py keeps what a
user wrote in them), cluster.toml only when something cluster-wide changed. It validates the
hosts it changed, and the rest through the index: no other host's address, MAC or VM slot is the
same. Writers queue on `.cluster.lock` for the whole transaction; the files a transaction wrote
are replaced together (commit.py: all or nothing, even under SIGKILL), readers read under the
commit lock and never see half of it. A description still in one file (hosts inside
cluster.toml) is split on first use, as one commit.
"""

from __future__ import annotations

import bisect
import fcntl
import gc
import json
import os
import re
import stat
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from rockscc.errors import RocksccError
from rockscc.lazyre import LazyPattern
from rockscc.model import commit, tomledit
from rockscc.model.cluster import Cluster, host_digest
from rockscc.model.codec import SchemaError, check_strings, decode, dotted, encode
from rockscc.model.commit import atomic_write, commit_lock
from rockscc.model.hostindex import Index, Row, make_row
from rockscc.model.hosttable import HostTable
from rockscc.model.records import Host
from rockscc.model.timing import phase

FILENAME = "cluster.toml"
HOSTS_DIR = "hosts"
LOCKNAME = ".cluster.lock"
MODE = 0o600  # cluster.toml holds the root password hash, host files may hold secret attributes
DIR_MODE = 0o700
OLD_CACHES = (".rockscc-cache/cluster.pickle", ".rockscc-cache/cluster.json", ".rockscc-cache/cache.key")  # never read
__all__ = [
    "FILENAME",
    "HOSTS_DIR",
    "LOCKNAME",
    "add_host",
    "atomic_write",
    "description_signature",
    "loaded_signature",
    "cluster_wide",
    "find_cluster_dir",
    "host_file",
    "hosts_digest",
    "load",
    "locate",
    "locked",
    "save",
    "transaction",
]


def find_cluster_dir(start: Path | None = None) -> Path:
    """The nearest directory at or above `start` holding cluster.toml, as git finds .git."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / FILENAME).is_file():
            return candidate
    raise RocksccError(f"no {FILENAME} in {here} or any parent directory (use 'rockscc init DIR' or 'rockscc -C DIR')")


def host_file(root: Path, name: str) -> Path:
    return root / HOSTS_DIR / f"{name}.toml"


# --- reading -------------------------------------------------------------------------------------
def load(root: Path, *, lazy: bool = False) -> Cluster:
    """The description as it is now (a snapshot: commits by others after this are not seen).
    Every host file is checked against the index; `lazy`: only the listing of hosts/ now, each
    host's file when the host is first used (HostFiles: what the command line reads)."""
    return _load(root, writer=False, lazy=lazy)


def cluster_wide(root: Path) -> Cluster:
    """What cluster.toml says, without the hosts (registering rolls' commands needs no more)."""
    text = _read(root / FILENAME, f"use 'rockscc init {root}'")
    data = _parse_toml(text, FILENAME)
    data.pop("hosts", None)
    return _cluster_wide(text, data, root)


def _load(root: Path, *, writer: bool, lazy: bool = False) -> Cluster:
    if commit.has_journal(root):  # a commit was interrupted: finish or undo it first
        with commit_lock(root, shared=False):
            commit.recover(root)
    with phase("snapshot"), commit_lock(root, shared=True):
        toml_sig = file_signature(root / FILENAME)  # before the read: a change after it shows
        text = _read(root / FILENAME, f"use 'rockscc init {root}'")
        data = _parse_toml(text, FILENAME)
        if "hosts" not in data:
            cluster = _cluster_wide(text, data, root)
            files = HostFiles.open(root, cluster, writer=writer, trust_stamp=lazy)
            files.toml_sig = toml_sig
            if not lazy:
                files.verify_all()
            cluster.hosts = HostTable(files)
            cluster._top = (text, data)
            return cluster
    # a description from before the split: split it once, then read it as any other
    if not _migrate(root, writer=writer):
        return _legacy(text, data, root)  # read-only: used as it is
    return _load(root, writer=writer, lazy=lazy)


def _read(path: Path, hint: str = "") -> str:
    try:
        # opened without blocking and checked to be a file: a FIFO or device put in a file's place
        # would otherwise hang every command on its read
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise RocksccError(f"{path}: not a regular file")
        with open(fd, encoding="utf-8") as file:
            return file.read()
    except FileNotFoundError:
        raise RocksccError(f"{path}: no such file" + (f" ({hint})" if hint else "")) from None
    except UnicodeDecodeError as exc:  # the line an editor shows, not a byte offset
        line = exc.object[: exc.start].count(b"\n") + 1
        raise RocksccError(f"{path}:{line}: cannot read: not UTF-8 text (byte 0x{exc.object[exc.start]:02x})") from None
    except OSError as exc:
        raise RocksccError(f"{path}: cannot read: {exc}") from None


def _parse_toml(text: str, where: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        if text.startswith("\ufeff"):  # Notepad's: TOML has no byte order mark, tomllib says "Invalid statement"
            raise RocksccError(f"{where}:1: starts with a byte order mark, which TOML does not allow") from None
        raise RocksccError(_toml_error(str(exc), where, text)) from None


def _cluster_wide(text: str, data: dict, root: Path) -> Cluster:
    try:
        cluster = Cluster.from_data(data, root)
        cluster.validate()  # no hosts yet: what is cluster-wide
    except SchemaError as exc:
        raise RocksccError(f"{FILENAME}:{locate(text, exc.path)}: {dotted(exc.path)}: {exc.message}") from None
    return cluster


BULK = 64  # a command that uses more hosts than this checks all files at once (one pass)
LISTING = "listing"  # the index's meta key: hosts/'s stamp when its listing last matched the index
RACY_NS = 50_000_000  # a file changed this recently may change again with the same signature


class HostFiles:
    """The host files as the index knows them, each checked against its file before use.

    Made from the listing of hosts/ (names only, no stat), or from the index's names when
    hosts/ still has the stamp of the last listing that matched them (`open`): files added or
    removed by hand are seen either way. A host's row is checked when a command first uses the host — its file's
    signature (size, mtime, ctime, inode) against the row's, the file read again if they differ,
    its addresses, MACs and VM slot then checked against the other hosts through the index's
    lookups — so a command pays for the hosts it uses. A command that uses more than BULK
    hosts, or all of them (a listing, a build, an address book), checks every file at once
    (`verify_all`), as `load` without `lazy` does before it returns.
    """

    def __init__(
        self, root: Path, cluster: Cluster, index: Index, names: list[str] | None, stamp: str | None = None
    ) -> None:
        self.root, self.cluster, self.index = root, cluster, index
        self._names = names  # the listing when loaded, in name order (None: the index's, read on demand)
        self._listed = set(names) if names is not None else None
        self._added: set[str] = set()  # written by this process since (while the names are not read)
        self._gone: set[str] = set()
        self._rows: dict[str, Row] = {}  # rows checked against their files (data None until fetched)
        # rows verify_all found equal to their files by signature and did not fetch (a build needs
        # each host's digest and container, not ten thousand rows): name -> signature
        self._pending: dict[str, str] = {}
        self._digests: dict[str, str] = {}  # of the pending rows (and maybe others: look up by name)
        self._containers: dict[str, str] = {}  # VM -> container, of the pending rows (idem)
        self._pending_fetched = 0
        self.complete = False  # every listed host's row is checked (in `_rows` or `_pending`)
        self.stamp = stamp  # hosts/'s stamp when its listing matched the index (None: unknown)
        self._misses = 0
        self._fetched = 0
        # what description_signature said of the files this view holds (store.loaded_signature):
        # cluster.toml as read, each host file as its row was checked against (then as written)
        self.toml_sig: tuple | None = None
        self.file_sigs: dict[str, str] | None = None

    @property
    def names(self) -> list[str]:
        """Every listed host, in name order."""
        if self._names is None:
            names = self.index.names()
            if self._added or self._gone:
                names = sorted(set(names).union(self._added).difference(self._gone))
            self._names, self._listed = names, set(names)
        return self._names

    @property
    def listed(self) -> set[str]:
        """The names, as a set (read as `names` are)."""
        if self._listed is None:
            _ = self.names
        return self._listed

    def has(self, name: str) -> bool:
        """Whether a host of this name was listed (or written since by this process): one
        indexed lookup when the listing is the index's and was not read."""
        if self._listed is not None:
            return name in self._listed
        if name in self._gone:
            return False
        return name in self._added or name in self._rows or name in self._pending or self.index.has(name)

    @classmethod
    def open(cls, root: Path, cluster: Cluster, *, writer: bool = False, trust_stamp: bool = False) -> HostFiles:
        """The hosts of hosts/ now; files the index does not know are read (a few one by one and
        checked through the index, many all at once), rows of files gone are dropped.
        `trust_stamp`: when hosts/ is as it was when its listing last matched the index (its
        mtime, ctime and inode: any file created, removed or renamed there changes them), the
        index's names are the listing and hosts/ is not read (the command line; a hundred
        thousand names cost 0.2 s to list and compare)."""
        index = Index(root)
        stamp, racy = _dir_stamp(root)
        if trust_stamp and stamp is not None and index.meta(LISTING) == stamp:
            return cls(root, cluster, index, None, stamp)  # names read when a command needs them all
        listed, temps = _host_names(root, writer=writer)
        indexed = index.names()
        if len(indexed) == len(listed) and set(indexed) == listed:
            files = cls(root, cluster, index, indexed)
        else:
            files = cls(root, cluster, index, sorted(listed))
            index.apply({}, set(indexed) - listed)
            new = sorted(listed.difference(indexed))
            if len(new) > BULK:
                files.verify_all()
            for name in new:
                files.row(name)
            if set(index.names()) != listed:  # the index could not record it all: list again next time
                stamp = None
        if stamp is not None and not racy and not temps:  # (temps: a writer lists, and removes them)
            index.set_meta(LISTING, stamp)
        files.stamp = stamp
        return files

    def row(self, name: str) -> Row:
        """The host's row, checked against its file (KeyError: no such host was listed)."""
        row = self._rows.get(name)
        if row is not None:
            return row
        if name in self._pending:
            return self._fetch(name)
        if not self.has(name):
            raise KeyError(name)
        self._misses += 1
        if self._misses > BULK:
            self.verify_all()
            return self._fetch(name) if name in self._pending else self._rows[name]
        try:
            st = _stat(self.root, name)
        except RocksccError:
            self.index.set_meta(LISTING, "")  # listed, gone: the next command lists hosts/
            raise
        row = self.index.row(name)
        if row is None or row.sig != _sig(st):
            return self._refresh(name, st)
        self._rows[name] = row
        return row

    @property
    def rows(self) -> dict[str, Row]:
        """The rows checked against their files: every listed host's once `verify_all` ran (those
        it did not fetch are fetched now, all at once)."""
        if self._pending:
            self._materialize()
        return self._rows

    def _fetch(self, name: str) -> Row:
        """A row verify_all found equal to its file and did not fetch (many: all at once)."""
        self._pending_fetched += 1
        if self._pending_fetched > BULK:
            self._materialize()
            return self._rows[name]
        sig = self._pending.pop(name)
        row = self.index.row(name)
        if row is None or row.sig != sig:  # the index moved on since (its snapshot ended): the file decides
            return self._refresh(name, _stat(self.root, name))
        self._rows[name] = row
        return row

    def _materialize(self) -> None:
        """Fetch every pending row (in verify_all's snapshot while it is open), in name order."""
        pending, self._pending = self._pending, {}
        self._digests, self._containers = {}, {}
        fetched = self.index.rows()
        rows, moved = {}, []
        for name in self.names:
            row = self._rows.get(name)
            if row is None and name in pending:
                row = fetched.get(name)
                if row is None or row.sig != pending[name]:
                    moved.append(name)
                    continue
            if row is not None:
                rows[name] = row
        rows.update((name, row) for name, row in self._rows.items() if name not in rows)
        self._rows = rows
        for name in moved:  # the index moved on since (its snapshot ended): the file decides
            self._refresh(name, _stat(self.root, name))

    def digest(self, name: str) -> str:
        """The record digest of a host's row, checked against its file (no row fetched when
        verify_all found it equal)."""
        row = self._rows.get(name)
        if row is not None:
            return row.digest
        if name in self._pending:
            return self._digests[name]
        return self.row(name).digest

    def digests(self) -> dict[str, str]:
        """{name: record digest} of every listed host (every file checked), without fetching the
        rows of those whose files are as the index recorded them."""
        self.verify_all()
        digests, pending = self._digests, self._pending
        if digests.keys() == pending.keys():  # what a build finds (compared in C)
            found = dict(digests)
        else:
            found = {name: digests[name] for name in pending}
        found.update((name, row.digest) for name, row in self._rows.items())
        return found

    def containers(self) -> dict[str, str]:
        """VM -> its container, of every listed host (every file checked; idem)."""
        self.verify_all()
        found = {name: container for name, container in self._containers.items() if name in self._pending}
        found.update((name, row.container) for name, row in self._rows.items() if row.container is not None)
        return found

    def data(self, name: str) -> str:
        """The host's record (JSON), of the file its row was checked against."""
        row = self.row(name)
        if row.data is not None:
            return row.data
        self._fetched += 1
        if self._fetched == BULK:  # reading many: fetch every record at once
            self.verify_all()
            rows = self.rows  # every row fetched
            for other, (sig, data) in self.index.records().items():
                known = rows.get(other)
                if known is not None and known.data is None and known.sig == sig:
                    rows[other] = known._replace(data=data)
            row = rows[name]
            if row.data is not None:
                return row.data
        found = self.index.record(name)
        if found is None or found[0] != row.sig:  # the index moved on since: the file decides
            return self._refresh(name, _stat(self.root, name)).data
        row = self._rows[name] = row._replace(data=found[1])
        return row.data

    def holders(self, value: str) -> set[str]:
        """Listed hosts whose rows may hold `value` ("ip=…"): the index's, and rows read again."""
        token = f" {value} "
        found = {name for name in self.index.holders(value) if self.has(name)}
        return found | {name for name, row in self._rows.items() if token in row.addrs}

    def members(self, membership: str) -> set[str]:
        """Listed hosts whose rows may be of `membership`."""
        if self.complete:
            return {name for name, row in self.rows.items() if row.membership == membership}
        found = {name for name in self.index.members(membership) if self.has(name)}
        return found | {name for name, row in self.rows.items() if row.membership == membership}

    def vms(self) -> set[str]:
        """Listed hosts whose rows may be VMs."""
        if self.complete:
            return {name for name, row in self.rows.items() if row.container is not None}
        found = {name for name in self.index.vms() if self.has(name)}
        return found | {name for name, row in self.rows.items() if row.container is not None}

    def verify_all(self) -> None:
        """Check every listed host's file against its row at once (stat each; read what changed,
        and check it against all the others). The index's signatures and digests are read as
        whole columns (Index.signatures), not as ten thousand rows: rows are fetched when asked
        for (`rows`, `row`), or at once when a changed file must be checked against the others."""
        if self.complete:
            return
        with commit_lock(self.root, shared=True):
            found, sigs = _host_stats(self.root)
            missing = self.listed.difference(found)
            if missing or len(found) != len(self.listed):  # hosts/ changed since it was listed (or trusted)
                self.index.set_meta(LISTING, "")  # the next command lists it
            if missing:
                raise _gone(self.root, min(missing))
            # a read transaction: rows and records fetched later are of this snapshot
            indexed, digests, containers = self.index.signatures()
            known, names = self._rows, self.names
            if sigs == indexed:  # one comparison in C: every file is as the index recorded it (a build)
                stale = []
            else:
                stale = [name for name in names if name not in known and indexed.get(name) != sigs[name]]
            fresh = {name: _read_host(self.root, name, found[name], self.cluster) for name in stale}
            # a file read again only because its row was racy holds the record its row holds,
            # checked against the others when it was recorded: the check of all rows is for changes
            changed = {n: r for n, r in fresh.items() if n not in digests or digests[n] != r.digest}
            gone = set(indexed).difference(found) if fresh else set()
            rows = None
            if changed or gone:  # every row, to check the changes against
                indexed_rows = self.index.rows()
                rows = {name: known.get(name) or fresh.get(name) or indexed_rows[name] for name in names}
        if fresh:
            self.index.end_read()
            if rows is not None:
                _check_across(rows, changed, self.root)  # before the index records them
            self.index.apply(fresh, gone)
            self.index.begin_read()  # a new snapshot, which holds what was just recorded
        if rows is not None:
            self._rows = rows
        else:
            self._rows.update(fresh)
            if not self._rows and len(sigs) == len(names):  # the files are the listing (none missing)
                self._pending = sigs
            else:
                self._pending = {name: sigs[name] for name in names if name not in self._rows}
            self._digests, self._containers = digests, containers
        self.complete = True
        # each file as the row this view holds was checked against (a row checked earlier in the
        # command keeps its own: the view sees a host as it was when first used)
        self.file_sigs = dict(self._pending)
        self.file_sigs.update((name, row.sig.removeprefix("~")) for name, row in self._rows.items())

    def rebase(self, rows: dict[str, Row], removed: set[str]) -> None:
        """What a commit of this process wrote: its rows, the hosts it removed."""
        for name in (*removed, *rows):
            self._pending.pop(name, None)
        for name in removed:
            self._rows.pop(name, None)
        self._rows.update(rows)
        if self.file_sigs is not None:
            for name in removed:
                self.file_sigs.pop(name, None)
            for name, row in rows.items():
                self.file_sigs[name] = row.sig.removeprefix("~")  # the file as stat'ed after its write
        if self._listed is None:  # names not read: remembered until they are
            self._gone = (self._gone | removed).difference(rows)
            self._added = (self._added | set(rows)).difference(removed)
            return
        added = set(rows).difference(self._listed)
        if len(added) + len(removed) > BULK:
            self._listed = (self._listed | added).difference(removed)
            self._names = sorted(self._listed)
            return
        for name in removed & self._listed:  # a few: in place (a sort of ten thousand names is not)
            self._names.pop(bisect.bisect_left(self._names, name))
        for name in added:
            bisect.insort(self._names, name)
        self._listed = (self._listed | added).difference(removed)

    def _refresh(self, name: str, st: os.stat_result) -> Row:
        """Read a host's file again (it is new or changed since the index saw it), check it
        against the other hosts and record it."""
        with commit_lock(self.root, shared=True):  # never a file of a commit in progress
            row = _read_host(self.root, name, st, self.cluster)
        self._rows[name] = row  # seen by the checks of the hosts they read in turn
        try:
            self._check_one(name, row)
        except BaseException:
            del self._rows[name]
            raise
        self.index.end_read()
        self.index.apply({name: row})
        return row

    def _peek(self, name: str) -> Row:
        """Another host's row as its file is now, not checked against the others (a conflict
        found while checking one host is that host's to report)."""
        row = self._rows.get(name)
        if row is not None:
            return row
        st = _stat(self.root, name)
        row = self.index.row(name)
        if row is not None and row.sig == _sig(st):
            return row
        with commit_lock(self.root, shared=True):
            return _read_host(self.root, name, st, self.cluster)

    def _check_one(self, name: str, row: Row) -> None:
        """What _check_across checks, for one host: through the index, not every row."""
        alike = [other for other in self.index.alike(name) if other not in self._gone]
        if alike:
            raise RocksccError(_case_message(name, alike[0]))
        host = decode(Host, json.loads(row.data))
        for i, iface in enumerate(host.interfaces):
            for key in ("ip", "mac"):
                value = getattr(iface, key)
                token = f"{key}={value}"
                others = (
                    sorted(o for o in self.holders(token) if o != name and f" {token} " in self._peek(o).addrs)
                    if value
                    else []
                )
                if others:
                    _located(
                        self.root,
                        name,
                        ("interfaces", i, key),
                        f"{key.upper()} {value} is already used by host {others[0]}",
                    )
        if row.container is not None:
            if not self.has(row.container):
                _located(self.root, name, ("vm", "container"), f'VM container "{row.container}" is not a host')
            for other in sorted(self.vms() - {name}):
                theirs = self._peek(other)
                if (theirs.container, theirs.slot) == (row.container, row.slot):
                    _located(
                        self.root, name, ("vm", "slice"), f"slice {row.slot} of {row.container} is already VM {other}'s"
                    )


def _located(root: Path, name: str, path: tuple, message: str) -> None:
    """Raise `message` at the line of `path` in the host's file."""
    text = _read(host_file(root, name))
    raise RocksccError(f"{HOSTS_DIR}/{name}.toml:{locate(text, path)}: {dotted(path)}: {message}")


def _host_names(root: Path, *, writer: bool = False) -> tuple[set[str], bool]:
    """The hosts of hosts/ (its file names; nothing stat'ed: listdir is a tenth of scandir's
    cost), and whether temp files of an interrupted commit were there (a writer removes them)."""
    try:
        entries = os.listdir(root / HOSTS_DIR)
    except FileNotFoundError:
        return set(), False
    except OSError as exc:
        raise RocksccError(f"{root / HOSTS_DIR}: cannot read: {exc.strerror}") from None
    temps = commit.temps(entries)
    if writer and temps:
        commit.remove_temps(root / HOSTS_DIR, temps)
    return {e[:-5] for e in entries if e.endswith(".toml") and not e.startswith(".")}, bool(temps)


def _seal(root: Path) -> str | None:
    """After a commit whose listing is known: set hosts/'s mtime one nanosecond back, so that
    its mtime and ctime differ. Any later change there by anyone sets both to the time of that
    change, so the stamp changes even within the same tick of the file system's clock (a script
    copying a host file in just after an edit is seen)."""
    path = root / HOSTS_DIR
    try:
        st = os.stat(path)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 1))
    except OSError:
        return None
    return _dir_stamp(root)[0]


def _dir_stamp(root: Path) -> tuple[str | None, bool]:
    """hosts/'s stamp (mtime, ctime, inode; None if there is none) and whether it is racy: changed
    so recently that a change within the same tick of the file system's clock could keep it."""
    try:
        st = os.stat(root / HOSTS_DIR)
    except OSError:
        return None, True
    return f"{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}", time.time_ns() - st.st_ctime_ns < RACY_NS


def _host_stats(root: Path) -> tuple[dict[str, os.stat_result], dict[str, str]]:
    """The stat of each host file of hosts/ and its signature (_sig), by host name. Each file
    is stat'ed through a descriptor of hosts/ (its name alone, not its path: ten thousand a
    build; 15 % less than scandir's entries)."""
    try:
        fd = os.open(root / HOSTS_DIR, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return {}, {}
    except OSError as exc:
        raise RocksccError(f"{root / HOSTS_DIR}: cannot read: {exc.strerror}") from None
    found, sigs = {}, {}
    stat = os.stat
    try:
        try:
            files = os.listdir(fd)
        except OSError as exc:
            raise RocksccError(f"{root / HOSTS_DIR}: cannot read: {exc.strerror}") from None
        for file in files:
            if file.endswith(".toml") and not file.startswith("."):
                try:
                    st = stat(file, dir_fd=fd)
                except FileNotFoundError:
                    continue  # removed meanwhile
                name = file[:-5]
                found[name] = st
                sigs[name] = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"  # _sig, inlined
    finally:
        os.close(fd)
    return found, sigs


def _stat(root: Path, name: str) -> os.stat_result:
    try:
        return host_file(root, name).stat()
    except FileNotFoundError:
        raise _gone(root, name) from None
    except OSError as exc:
        raise RocksccError(f"{HOSTS_DIR}/{name}.toml: cannot read: {exc.strerror}") from None


def _gone(root: Path, name: str) -> RocksccError:
    """A listed host file that stat cannot find: removed meanwhile, or a link to nothing."""
    if host_file(root, name).is_symlink():
        return RocksccError(f"{HOSTS_DIR}/{name}.toml: a link to a missing file")
    return RocksccError(f"{HOSTS_DIR}/{name}.toml: removed while this command ran")


def _sig(st: os.stat_result) -> str:
    """A host file's signature: any write changes its ctime (which no user call sets back)."""
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def _recorded(st: os.stat_result) -> str:
    """The signature an index row records for a file read or written now. A file changed within
    the last RACY_NS may be changed again within the same tick of the file system's clock,
    keeping its signature: such a row is marked racy ("~"), matches no file, and the file is read
    again by the next command (git's racy-clean rule)."""
    sig = _sig(st)
    return "~" + sig if time.time_ns() - st.st_ctime_ns < RACY_NS else sig


def _read_host(root: Path, name: str, st: os.stat_result, cluster: Cluster) -> Row:
    where = f"{HOSTS_DIR}/{name}.toml"
    text = _read(host_file(root, name))
    data = _parse_toml(text, where)
    try:
        host = decode(Host, data, ("hosts", name))
        host.name = name
        cluster.validate_host_record(name, host)
    except SchemaError as exc:
        raise RocksccError(_host_error(text, where, exc)) from None
    encoded = encode(host)
    return make_row(host, _recorded(st), json.dumps(encoded), host_digest(host), tomledit.is_plain(text, encoded))


def _host_error(text: str, where: str, exc: SchemaError) -> str:
    inner = exc.path[2:] if exc.path[:1] == ("hosts",) else exc.path
    return f"{where}:{locate(text, inner)}: {dotted(inner) or 'host'}: {exc.message}"


def _check_across(rows: dict[str, Row], fresh: dict[str, Row], root: Path) -> None:
    """What one host file cannot know: its addresses, MACs and VM slot are no other host's, its
    container is a host."""
    owners: dict[str, list[str]] = {}
    slots: dict[tuple, list[str]] = {}
    for name, row in rows.items():
        for value in row.addrs.split():
            if value.startswith(("ip=", "mac=")):
                owners.setdefault(value, []).append(name)
        if row.container is not None:
            slots.setdefault((row.container, row.slot), []).append(name)
    _check_case(rows, fresh, root)
    for name, row in rows.items():
        if name not in fresh and not (row.container and row.container not in rows):
            continue
        problem = _conflict(name, row, rows, owners, slots, decode_row=name in fresh)
        if problem:
            path, message = problem
            where = f"{HOSTS_DIR}/{name}.toml"
            text = _read(host_file(root, name))
            raise RocksccError(f"{where}:{locate(text, path)}: {dotted(path)}: {message}")


def _check_case(rows: dict[str, Row], fresh: dict[str, Row], root: Path) -> None:
    """A host file written by hand whose name differs from another host's only in case (what
    a command refuses: _refuse_names_differing_in_case)."""
    by_lower: dict[str, list[str]] = {}
    for name in rows:
        by_lower.setdefault(name.lower(), []).append(name)
    for name in sorted(fresh):
        alike = [other for other in by_lower.get(name.lower(), ()) if other != name]
        if alike:
            raise RocksccError(_case_message(name, sorted(alike)[0]))


def _case_message(name: str, other: str) -> str:
    return (
        f'{HOSTS_DIR}/{name}.toml: host "{name}" differs from host "{other}" only in case; '
        "host names are DNS names, which ignore case (rename one of them)"
    )


def _conflict(
    name: str, row: Row, rows: dict[str, Row], owners: dict, slots: dict, decode_row: bool
) -> tuple[tuple, str] | None:
    host = decode(Host, json.loads(row.data)) if decode_row else Host(membership="")  # a row read now has its record
    for i, iface in enumerate(host.interfaces):
        for key in ("ip", "mac"):
            value = getattr(iface, key)
            others = [o for o in owners.get(f"{key}={value}", []) if o != name] if value else []
            if others:
                return ("interfaces", i, key), f"{key.upper()} {value} is already used by host {others[0]}"
    if row.container is not None:
        if row.container not in rows:
            return ("vm", "container"), f'VM container "{row.container}" is not a host'
        others = [o for o in slots.get((row.container, row.slot), []) if o != name]
        if others:
            return ("vm", "slice"), f"slice {row.slot} of {row.container} is already VM {others[0]}'s"
    return None


def _legacy(text: str, data: dict, root: Path) -> Cluster:
    """A one-file description that cannot be split here (read-only): all hosts in memory."""
    try:
        cluster = Cluster.from_data(data, root)
        cluster.validate()
    except SchemaError as exc:
        raise RocksccError(f"{FILENAME}:{locate(text, exc.path)}: {dotted(exc.path)}: {exc.message}") from None
    cluster.hosts = HostTable.of(cluster.hosts)
    return cluster


def description_signature(root: Path) -> tuple:
    """Changes whenever any file of the description does (for pollers: serve, insert-ethers)."""
    return (file_signature(root / FILENAME), _host_signatures(root))


def loaded_signature(cluster: Cluster) -> tuple | None:
    """What `description_signature` said of the files this cluster was read from — cluster.toml
    stat'ed before it was read, each host file as checked against the index when every file
    was (`load` without `lazy`), the files its own commits wrote as stat'ed after writing them —
    without stat'ing them again; None when not every host file was checked. A file changed
    by anyone since makes it differ from `description_signature(root)`, as it should: the
    poller that compares the two then reads the description again."""
    view = cluster.hosts.view if isinstance(cluster.hosts, HostTable) else None
    if view is None or view.file_sigs is None or view.toml_sig is None:
        return None
    return (view.toml_sig, tuple(sorted(view.file_sigs.items())))


def hosts_digest(root: Path) -> str:
    """A digest of the host files as they are (name, size, mtime, ctime, inode of each): what a
    build step that reads the whole description depends on besides cluster.toml."""
    import hashlib

    return hashlib.sha256(repr(list(_host_signatures(root))).encode()).hexdigest()


def _host_signatures(root: Path) -> tuple[tuple[str, str], ...]:
    """(name, signature) of every host file, by name."""
    return tuple(sorted(_host_stats(root)[1].items()))


def file_signature(path: Path) -> tuple | None:
    """(size, mtime, inode) of a file, None if missing: a file replaced atomically has a new one."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


# --- splitting a one-file description ------------------------------------------------------------
def _migrate(root: Path, *, writer: bool) -> bool:
    """Move the hosts of cluster.toml into hosts/<name>.toml, as one commit; the comments in and
    around them move along. False when the description cannot be written here."""
    try:
        with nullcontext() if writer else locked(root):
            text = _read(root / FILENAME)
            data = _parse_toml(text, FILENAME)
            if "hosts" not in data:
                return True  # another process split it meanwhile
            cluster = _legacy(text, data, root)  # the whole description is checked once, as before
            _refuse_twice_described(text, cluster, root)
            writes = _split(text, data, cluster, root)
            _make_hosts_dir(root)
            with commit_lock(root, shared=False):
                commit.commit(root, writes, [], MODE)
            return True
    except PermissionError:
        return False
    except OSError as exc:
        if exc.errno in (30, 13):  # EROFS, EACCES
            return False
        raise


def _refuse_twice_described(text: str, cluster: Cluster, root: Path) -> None:
    """A host table pasted into cluster.toml for a host that has its own file: the split would
    replace that file, losing whatever only it says. Which one is meant is the user's call."""
    for name in cluster.hosts:
        if os.path.lexists(host_file(root, name)):
            raise RocksccError(
                f"{FILENAME}:{locate(text, ('hosts', name))}: hosts.{name}: the host also has its own file "
                f"{HOSTS_DIR}/{name}.toml: keep one of the two"
            )


def _split(text: str, data: dict, cluster: Cluster, root: Path) -> dict[Path, bytes]:
    import tomlkit

    document, tables = None, {}
    if "#" in text:  # comments to keep (tomlkit takes seconds on a file of 10 000 hosts: only then)
        try:
            document = tomlkit.parse(text)
            tables = document["hosts"]
        except Exception:  # noqa: BLE001 - tomlkit could not follow the file: its data is moved plainly
            document, tables = None, {}
    writes = {}
    for name, host in cluster.hosts.items():
        encoded = encode(host)
        body = _host_document(tables.get(name)) if name in tables else None
        if body is None or "#" not in body or tomllib.loads(body) != encoded:  # nothing of a user's to keep
            body = tomledit.plain(encoded)
        writes[host_file(root, name)] = body.encode()
    rest = {k: v for k, v in data.items() if k != "hosts"}
    top = None
    if document is not None:
        del document["hosts"]
        top = tomlkit.dumps(document)
    if top is None or tomllib.loads(top) != rest:
        top = tomledit.plain(rest)
    writes[root / FILENAME] = top.encode()
    return writes


def _host_document(table) -> str | None:
    import tomlkit

    try:
        document = tomlkit.document()
        for key, item in table.value.body:
            if key is None:
                document.add(item)
            else:
                document.append(key, item)
        return tomlkit.dumps(document)
    except Exception:  # noqa: BLE001
        return None


# --- writing -------------------------------------------------------------------------------------
@contextmanager
def locked(root: Path) -> Iterator[None]:
    """An exclusive advisory lock on the description; concurrent editors queue up."""
    with open(root / LOCKNAME, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def transaction(root: Path, *, lazy: bool = False) -> Iterator[Cluster]:
    """Lock, load (`lazy`: as `load`), let the caller edit, validate and save; on any exception
    nothing is written."""
    with locked(root):
        for old in OLD_CACHES:
            (root / old).unlink(missing_ok=True)
        cluster = _load(root, writer=True, lazy=lazy)  # an interrupted commit is finished first:
        commit.remove_stray_temps(root)  # only then are temp files strays (hosts/: when listed)
        yield cluster
        save(cluster)


def save(cluster: Cluster) -> None:
    """Validate what changed and write it (call under `locked`): the host files of hosts added,
    changed or removed, cluster.toml if anything cluster-wide changed, all as one commit."""
    if not isinstance(cluster.hosts, HostTable):
        cluster.hosts = HostTable.of(cluster.hosts)
    table: HostTable = cluster.hosts
    table.end_command()
    top = cluster.to_data(hosts=False)
    before = getattr(cluster, "_top", None)
    with phase("changes"):
        changed, removed = table.changes()
    _refuse_names_differing_in_case(table, changed)
    try:
        with phase("validate"):
            if before is None or before[1] != top:
                cluster.validate()  # something cluster-wide changed: every host may be affected
            else:
                cluster.validate_changes(changed, removed)
    except SchemaError as exc:
        raise RocksccError(f"{dotted(exc.path)}: {exc.message}") from None
    try:  # what is written always loads again: one line of printable text in every string
        if before is None or before[1] != top:
            check_strings(top)
        for name, (_host, data) in changed.items():
            check_strings(data, ("hosts", name))
    except SchemaError as exc:
        raise RocksccError(f"{dotted(exc.path)}: {exc.message}") from None
    with phase("write"):
        _write(cluster, table, before, top, changed, removed)


def _refuse_names_differing_in_case(table: HostTable, changed: dict) -> None:
    """A new host name must differ from every other in more than case: DNS names are
    case-insensitive (`COMPUTE-0-0` beside `compute-0-0` would be two A records of one name)
    and so are some file systems a description is copied to (two host files, one file). Only
    when a command adds or renames hosts: the names are listed once, whatever their number. The
    table lists the new names too, so two new names alike are found as one against the other."""
    new = [name for name in changed if table.is_new(name)]
    if not new:
        return
    new_lower = {name.lower(): name for name in new}
    for other in table:
        name = new_lower.get(other.lower())
        if name is not None and other != name:
            raise RocksccError(
                f'host "{name}": differs from host "{other}" only in case; host names are DNS names, '
                "which ignore case (choose another name)"
            )


def _write(cluster: Cluster, table: HostTable, before, top: dict, changed: dict, removed: set[str]) -> None:
    root = cluster.root
    writes: dict[Path, bytes] = {}
    if before is None or before[1] != top:
        old_text, old_data = before if before is not None else ("", {})
        writes[root / FILENAME] = tomledit.rewrite(old_text, old_data, top).encode()
    plain = {}  # host → whether its file is now exactly what rockscc writes
    for name, (_host, data) in changed.items():
        text, plain[name] = _host_text(root, table, name, data)
        writes[host_file(root, name)] = text.encode()
    deletes = [host_file(root, name) for name in removed]
    if not writes and not deletes:
        return
    try:
        if changed:
            _make_hosts_dir(root)
        with commit_lock(root, shared=False):
            # hosts/ as this transaction listed it (no one else changed it since): after the
            # commit its listing is known without reading it (docs/architecture.md: the limit)
            view = table.view
            known = view is not None and view.stamp is not None and _dir_stamp(root)[0] == view.stamp
            commit.commit(root, writes, deletes, MODE)
            listing = _seal(root) if known else None
    except OSError as exc:
        raise RocksccError(
            f"{exc.filename or root}: cannot write: {exc.strerror} (the description is unchanged)"
        ) from None
    with phase("index"):
        _record(cluster, table, changed, removed, plain, listing, (root / FILENAME) in writes)


def _make_hosts_dir(root: Path) -> None:
    path = root / HOSTS_DIR
    if not path.is_dir():
        path.mkdir(mode=DIR_MODE)
        os.chmod(path, DIR_MODE)  # whatever the umask


def _host_text(root: Path, table: HostTable, name: str, data: dict) -> tuple[str, bool]:
    """The new text of a host's file, and whether it is plain (rockscc's own layout). A renamed
    host's new file is its old file's text updated, so that what the user wrote there moves along."""
    source = name if table.loaded_row(name) is not None else table.renamed.get(name)
    row = table.loaded_row(source) if source else None
    if row is None or row.plain:
        return tomledit.plain(data), True
    try:
        text = host_file(root, source).read_text(encoding="utf-8")
    except OSError:
        return tomledit.plain(data), True
    new = tomledit.rewrite(text, table.original(source), data)
    return new, tomledit.is_plain(new, data)


def _record(
    cluster: Cluster,
    table: HostTable,
    changed: dict,
    removed: set[str],
    plain: dict[str, bool],
    listing: str | None,
    wrote_top: bool,
) -> None:
    """The index rows of what was written, hosts/'s stamp if its listing is known (`listing`),
    and the cluster object as now on disk (it may be edited and saved again: insert-ethers, move
    host vm)."""
    rows = {}
    for name, (host, data) in changed.items():
        try:
            st = host_file(cluster.root, name).stat()
        except OSError:
            continue
        rows[name] = make_row(host, _recorded(st), json.dumps(data), host_digest(host), plain[name])
    index = table.view.index if table.view is not None else Index(cluster.root)
    index.end_read()
    recorded = index.apply(rows, removed)
    if table.view is not None:
        table.view.stamp = listing if recorded and len(rows) == len(changed) else None
        index.set_meta(LISTING, table.view.stamp or "")
        if table.view.file_sigs is not None:
            for name in set(changed).difference(rows):  # written, not stat'ed: unknown now
                table.view.file_sigs.pop(name, None)
        if wrote_top:
            table.view.toml_sig = file_signature(cluster.root / FILENAME)
    table.rebase(rows, removed)
    cluster._top = (_read(cluster.root / FILENAME), cluster.to_data(hosts=False))


def release_descriptions() -> None:
    """Free now the descriptions a long-running process (`build --watch`, `serve`) is done with.
    A loaded description is a reference cycle (Cluster -> HostTable -> HostFiles -> Cluster)
    holding its index's sqlite connection (two descriptors); left to the collector's oldest
    generation, which seldom runs, a watch kept four more open after every rebuild and ran out
    of descriptors after a few hundred."""
    gc.collect()


def add_host(root: Path, make: Callable[[Cluster], Host], previous: Cluster | None = None) -> Cluster:
    """Add one host in a transaction of its own: under the lock, `make(cluster)` chooses the
    host from the current description. Returns the description with the host (`previous` is
    accepted for compatibility; a transaction is cheap now: it reads the index, not the hosts)."""
    with transaction(root) as cluster:
        host = make(cluster)
        if host.name in cluster.hosts:
            raise RocksccError(f'host "{host.name}" already exists')
        cluster.hosts[host.name] = host
    return cluster


def _toml_error(message: str, where: str, text: str) -> str:
    if message.endswith("(at end of document)"):
        return f"{where}:{max(1, len(text.splitlines()))}: {message[: -len('(at end of document)')].strip()} at the end of the file"
    match = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if not match:
        return f"{where}: {message}"
    text = message[: match.start()].strip()
    return f"{where}:{match[1]}:{match[2]}: {text}"


# --- finding the line of a key path --------------------------------------------------------------
_KEY = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_HEADER = LazyPattern(rf"^\s*(\[\[?)\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*\]\]?")
_ASSIGN = LazyPattern(rf"^\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*=")


def _split_key(text: str) -> list[str]:
    return [k.strip().strip("\"'") for k in re.findall(_KEY, text)]


def locate(text: str, path: tuple) -> int:
    """The line that best matches `path` (the longest matching prefix); 1 when nothing matches."""
    target = [str(p) for p in path]
    best_line, best_len = 1, 0
    table: list[str] = []
    array_counts: dict[tuple, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _split_key(header[2])
            if header[1] == "[[":
                key = tuple(table)
                array_counts[key] = array_counts.get(key, -1) + 1
                table = table + [str(array_counts[key])]
            here = table
        else:
            assign = _ASSIGN.match(line)
            if not assign:
                continue
            here = table + _split_key(assign[1])
            # a key inside an inline table on this line
            rest = target[len(here) :]
            if target[: len(here)] == here and rest:
                for key in rest:
                    if re.search(rf'(?:^|[{{,\s"]){re.escape(key)}"?\s*=', line[assign.end() :]):
                        here = here + [key]
        matched = _common_prefix(here, target)
        if matched > best_len or (matched == best_len == len(here) and matched):
            if matched > best_len:
                best_line, best_len = number, matched
    return best_line


def _common_prefix(a: list[str], b: list[str]) -> int:
    if len(a) > len(b) or b[: len(a)] != a:
        return 0
    return len(a)
