"""Reading and writing cluster.toml: location-aware errors, an exclusive lock, atomic replace."""

from __future__ import annotations

import fcntl
import hashlib
import os
import pickle
import re
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import tomli_w

from rockscc.errors import RocksccError
from rockscc.model.cluster import Cluster, host_digest
from rockscc.model.codec import SchemaError, dotted, encode
from rockscc.model.records import Host

FILENAME = "cluster.toml"
LOCKNAME = ".cluster.lock"
CACHE = ".rockscc-cache/cluster.pickle"


def find_cluster_dir(start: Path | None = None) -> Path:
    """The nearest directory at or above `start` holding cluster.toml, as git finds .git."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / FILENAME).is_file():
            return candidate
    raise RocksccError(f"no {FILENAME} in {here} or any parent directory (use 'rockscc init DIR' or 'rockscc -C DIR')")


def load(root: Path) -> Cluster:
    path = root / FILENAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RocksccError(f"{path}: no such file (use 'rockscc init {root}')") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RocksccError(f"{path}: cannot read: {exc}") from None
    key = hashlib.sha256(text.encode()).hexdigest()
    cluster = _cached(root, key)
    if cluster is None:
        cluster = parse(text, root)
        _store_cache(root, key, cluster)
    return cluster


def _cached(root: Path, key: str) -> Cluster | None:
    """The parsed description from the last load of the same bytes: tomllib costs ~65 µs a host."""
    from rockscc import __version__

    try:
        with open(root / CACHE, "rb") as fh:
            entry = pickle.load(fh)
        if entry["key"] == key and entry["version"] == __version__:
            entry["cluster"].root = root
            entry["cluster"].attach_host_digests(entry.get("digests"))
            return entry["cluster"]
    except Exception:  # missing, stale or unreadable cache: parse instead
        pass
    return None


def _store_cache(root: Path, key: str, cluster: Cluster, digests: dict[str, str] | None = None) -> None:
    from rockscc import __version__

    try:
        (root / CACHE).parent.mkdir(exist_ok=True)
        cluster.attach_host_digests(None)  # computed from the records as saved; stored beside, not inside, the cluster
        digests = digests if digests is not None else cluster.host_digests()
        data = pickle.dumps({"key": key, "version": __version__, "cluster": cluster, "digests": digests})
        cluster.attach_host_digests(digests)
        atomic_write(root / CACHE, data)
    except OSError:
        pass  # a read-only description still works, just slower


def parse(text: str, root: Path) -> Cluster:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RocksccError(_toml_error(str(exc))) from None
    try:
        cluster = Cluster.from_data(data, root)
        cluster.validate()
    except SchemaError as exc:
        line = locate(text, exc.path)
        raise RocksccError(f"{FILENAME}:{line}: {dotted(exc.path)}: {exc.message}") from None
    return cluster


def render(cluster: Cluster) -> str:
    return tomli_w.dumps(cluster.to_data())


def save(cluster: Cluster) -> None:
    """Validate, then replace cluster.toml atomically (temp file + fsync + rename)."""
    try:
        cluster.validate()
    except SchemaError as exc:
        raise RocksccError(f"{dotted(exc.path)}: {exc.message}") from None
    data = render(cluster).encode()
    atomic_write(cluster.root / FILENAME, data)
    _store_cache(cluster.root, hashlib.sha256(data).hexdigest(), cluster)  # the next load skips tomllib


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


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
        cluster = load(root)
        cluster.attach_host_digests(None)  # it is about to change: digests are computed, not remembered
        yield cluster
        save(cluster)


def add_host(root: Path, make: Callable[[Cluster], Host], previous: Cluster | None = None) -> Cluster:
    """Add one host, as a transaction would, without rendering the whole description again:
    under the lock, `make(cluster)` chooses the host from the current description; it is
    checked against the others and its table is appended to cluster.toml (hosts are the file's
    last tables, so the bytes are what a full save writes). Ten thousand hosts: milliseconds
    instead of seconds (insert-ethers adds hosts while machines wait for DHCP). Returns the
    description with the host, its parse cache and host digests up to date.

    `previous`: what the last call returned; used again instead of loading when cluster.toml is
    still the file that call wrote (nothing else changed the description since)."""
    with locked(root):
        path = root / FILENAME
        text = path.read_text(encoding="utf-8")
        same = previous is not None and getattr(previous, "_written", None) == file_signature(path)
        cluster = previous if same else load(root)
        digests = dict(cluster.host_digests())
        host = make(cluster)
        if host.name in cluster.hosts:
            raise RocksccError(f'host "{host.name}" already exists')
        cluster.hosts[host.name] = host
        try:
            cluster.validate_new_host(host.name)
        except SchemaError as exc:
            raise RocksccError(f"{dotted(exc.path)}: {exc.message}") from None
        chunk = tomli_w.dumps({"hosts": {host.name: encode(host)}})
        data = (text.rstrip("\n") + "\n\n" + chunk if text.strip() else chunk).encode()
        atomic_write(path, data)
        digests[host.name] = host_digest(host)
        cluster.__dict__.pop("_written", None)  # not into the parse cache
        _store_cache(root, hashlib.sha256(data).hexdigest(), cluster, digests)
        cluster.attach_host_digests(digests)
        cluster._written = file_signature(path)
        return cluster


def file_signature(path: Path) -> tuple | None:
    """(size, mtime, inode) of a file, None if missing: a file replaced atomically has a new one."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _toml_error(message: str) -> str:
    match = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if not match:
        return f"{FILENAME}: {message}"
    text = message[: match.start()].strip()
    return f"{FILENAME}:{match[1]}:{match[2]}: {text}"


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
            rest = target[len(here):]
            if target[: len(here)] == here and rest:
                for key in rest:
                    if re.search(rf'(?:^|[{{,\s"]){re.escape(key)}"?\s*=', line[assign.end():]):
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
