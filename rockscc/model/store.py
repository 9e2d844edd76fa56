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

import fcntl
import json
import os
import re
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from rockscc.errors import RocksccError
from rockscc.model import commit, tomledit
from rockscc.model.cluster import Cluster, host_digest
from rockscc.model.codec import SchemaError, check_strings, decode, dotted, encode
from rockscc.model.commit import atomic_write, commit_lock
from rockscc.model.hostindex import Index, Row, make_row
from rockscc.model.hosttable import HostTable
from rockscc.model.overlay import RACY_NS
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
def load(root: Path) -> Cluster:
    """The description as it is now (a snapshot: commits by others after this are not seen)."""
    return _load(root, writer=False)


def cluster_wide(root: Path) -> Cluster:
    """What cluster.toml says, without the hosts (registering rolls' commands needs no more)."""
    text = _read(root / FILENAME, f"use 'rockscc init {root}'")
    data = _parse_toml(text, FILENAME)
    data.pop("hosts", None)
    return _cluster_wide(text, data, root)


def _load(root: Path, *, writer: bool) -> Cluster:
    if commit.has_journal(root):  # a commit was interrupted: finish or undo it first
        with commit_lock(root, shared=False):
            commit.recover(root)
    with phase("snapshot"), commit_lock(root, shared=True):
        text = _read(root / FILENAME, f"use 'rockscc init {root}'")
        data = _parse_toml(text, FILENAME)
        if "hosts" not in data:
            cluster = _cluster_wide(text, data, root)
            cluster.hosts = HostTable(*_host_rows(root, cluster))
            cluster._top = (text, data)
            return cluster
    # a description from before the split: split it once, then read it as any other
    if not _migrate(root, writer=writer):
        return _legacy(text, data, root)  # read-only: used as it is
    return _load(root, writer=writer)


def _read(path: Path, hint: str = "") -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RocksccError(f"{path}: no such file" + (f" ({hint})" if hint else "")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RocksccError(f"{path}: cannot read: {exc}") from None


def _parse_toml(text: str, where: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RocksccError(_toml_error(str(exc), where, text)) from None


def _cluster_wide(text: str, data: dict, root: Path) -> Cluster:
    try:
        cluster = Cluster.from_data(data, root)
        cluster.validate()  # no hosts yet: what is cluster-wide
    except SchemaError as exc:
        raise RocksccError(f"{FILENAME}:{locate(text, exc.path)}: {dotted(exc.path)}: {exc.message}") from None
    return cluster


def _host_rows(root: Path, cluster: Cluster) -> tuple[dict[str, Row], Callable]:
    """Every host file's index row, by name, and how to fetch the records the rows leave out;
    files changed since the index last saw them are read and checked again (their own values,
    and against every other host) and recorded in the index."""
    index = Index(root)
    rows = index.rows()
    found = _host_files(root)
    stale = {name: sig for name, sig in found.items() if name not in rows or rows[name].sig != sig}
    gone = set(rows) - set(found)
    if stale or gone:
        fresh = {name: _read_host(root, name, sig, cluster) for name, sig in stale.items()}
        # a file read again with the record its row holds (racily recent when last read: _row_signature)
        # was checked against the others then; those changed since are among the fresh ones
        changed = {n: r for n, r in fresh.items() if n not in rows or rows[n].digest != r.digest}
        rows = {n: r for n, r in rows.items() if n not in gone} | fresh
        index.end_read()
        if changed or gone:
            _check_across(rows, changed, root)  # before the index records them
        index.apply(fresh, gone)
        rows = index.rows()
    if stale:  # what the index could not record (busy, read-only) is still this snapshot's
        rows = dict(sorted((rows | {n: r for n, r in fresh.items() if n not in rows or rows[n].sig != r.sig}).items()))
    return rows, index.data


def _host_files(root: Path) -> dict[str, str]:
    try:
        entries = list(os.scandir(root / HOSTS_DIR))
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise RocksccError(f"{root / HOSTS_DIR}: cannot read: {exc.strerror}") from None
    found = {}
    for entry in entries:
        if entry.name.endswith(".toml") and not entry.name.startswith("."):
            found[entry.name[:-5]] = _stat_signature(entry.stat())
    return found


def _signature(path: Path) -> str | None:
    """A host file's signature as the index records it (size, mtime, ctime, inode)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return _stat_signature(st)


def _stat_signature(st: os.stat_result) -> str:
    """Size, mtime, ctime and inode, as git judges a file unchanged: the ctime and inode give away
    a rewrite whose mtime was put back (`cp -p`, `touch -r`), which size and mtime would not."""
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def _row_signature(sig: str) -> str:
    """The signature an index row keeps of a file read with signature `sig`: the same, unless the
    file was racily recent then (model/overlay.py: a same-sized rewrite within one clock tick
    keeps every time), in which case a mark that no file's signature has: the next load reads
    the file again instead of trusting the row."""
    _size, mtime, ctime, _inode = (int(part) for part in sig.split(":"))
    return f"{sig}:racy" if max(mtime, ctime) >= time.time_ns() - RACY_NS else sig


def _read_host(root: Path, name: str, sig: str, cluster: Cluster) -> Row:
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
    return make_row(host, _row_signature(sig), json.dumps(encoded), host_digest(host), tomledit.is_plain(text, encoded))


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
    for name, row in rows.items():
        if name not in fresh and not (row.container and row.container not in rows):
            continue
        problem = _conflict(name, row, rows, owners, slots, decode_row=name in fresh)
        if problem:
            path, message = problem
            where = f"{HOSTS_DIR}/{name}.toml"
            text = _read(host_file(root, name))
            raise RocksccError(f"{where}:{locate(text, path)}: {dotted(path)}: {message}")


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
    return (file_signature(root / FILENAME), tuple(sorted(_host_files(root).items())))


def hosts_digest(root: Path) -> str:
    """A digest of the host files as they are (name, size, mtime, inode of each): what a
    build step that reads the whole description depends on besides cluster.toml."""
    import hashlib

    return hashlib.sha256(repr(sorted(_host_files(root).items())).encode()).hexdigest()


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
def transaction(root: Path) -> Iterator[Cluster]:
    """Lock, load, let the caller edit, validate and save; on any exception nothing is written."""
    with locked(root):
        commit.remove_stray_temps(root)
        commit.remove_stray_temps(root / HOSTS_DIR)
        for old in OLD_CACHES:
            (root / old).unlink(missing_ok=True)
        cluster = _load(root, writer=True)
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
            commit.commit(root, writes, deletes, MODE)
    except OSError as exc:
        raise RocksccError(
            f"{exc.filename or root}: cannot write: {exc.strerror} (the description is unchanged)"
        ) from None
    _record(cluster, table, changed, removed, plain)


def _make_hosts_dir(root: Path) -> None:
    path = root / HOSTS_DIR
    if not path.is_dir():
        path.mkdir(mode=DIR_MODE)
        os.chmod(path, DIR_MODE)  # whatever the umask


def _host_text(root: Path, table: HostTable, name: str, data: dict) -> tuple[str, bool]:
    """The new text of a host's file, and whether it is plain (rockscc's own layout)."""
    row = table.rows.get(name)
    if row is None or row.plain:
        return tomledit.plain(data), True
    try:
        text = host_file(root, name).read_text(encoding="utf-8")
    except OSError:
        return tomledit.plain(data), True
    new = tomledit.rewrite(text, table.original(name), data)
    return new, tomledit.is_plain(new, data)


def _record(cluster: Cluster, table: HostTable, changed: dict, removed: set[str], plain: dict[str, bool]) -> None:
    """The index rows of what was written, and the cluster object as now on disk (it may be
    edited and saved again: insert-ethers, move host vm)."""
    rows = {}
    for name, (host, data) in changed.items():
        sig = _signature(host_file(cluster.root, name))
        if sig is not None:
            rows[name] = make_row(host, _row_signature(sig), json.dumps(data), host_digest(host), plain[name])
    index = Index(cluster.root)
    try:
        index.apply(rows, removed)
    finally:
        index.close()
    table.rebase(rows, removed)
    cluster._top = (_read(cluster.root / FILENAME), cluster.to_data(hosts=False))


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
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*\]\]?")
_ASSIGN = re.compile(rf"^\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*=")


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
