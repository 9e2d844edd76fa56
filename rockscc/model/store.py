"""Reading and writing cluster.toml: location-aware errors, an exclusive lock, atomic replace.

cluster.toml holds the root password hash, so it is written 0600. The parse cache beside it
(.rockscc-cache/cluster.json, in a 0700 directory) is JSON, never code, and authenticated: it
starts with an HMAC of its contents under a key only this description's owner can read
(.rockscc-cache/cache.key, 0600). A cache rockscc did not write itself, for exactly the bytes of
cluster.toml now on disk and this version of rockscc, is ignored; one that passes is what
rockscc wrote after validating the description, so it is rebuilt without checking again.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import tomli_w

from rockscc.errors import RocksccError
from rockscc.model.cluster import Cluster, host_digest
from rockscc.model.codec import SchemaError, check_strings, decode_trusted, dotted, encode
from rockscc.model.records import Host

FILENAME = "cluster.toml"
LOCKNAME = ".cluster.lock"
CACHE_DIR = ".rockscc-cache"
CACHE = f"{CACHE_DIR}/cluster.json"
OLD_CACHES = (f"{CACHE_DIR}/cluster.pickle",)  # what earlier versions left: never read, removed
MODE = 0o600  # cluster.toml and its cache hold the root password hash
CACHE_FORMAT = 2
CACHE_KEY = f"{CACHE_DIR}/cache.key"


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
        mac, _, payload = (root / CACHE).read_bytes().partition(b"\n")
        if not hmac.compare_digest(mac, _mac(_cache_key(root, create=False), payload)):
            return None
        with _no_collection():  # a quarter million new objects, none of them garbage: nothing to scan for
            entry = json.loads(payload)
            if entry["format"] != CACHE_FORMAT or entry["key"] != key or entry["version"] != __version__:
                return None
            cluster = decode_trusted(Cluster, entry["cluster"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    cluster.root = root
    cluster.attach_host_digests(entry["digests"])
    return cluster


def _store_cache(root: Path, key: str, cluster: Cluster, digests: dict[str, str] | None = None) -> None:
    from rockscc import __version__

    try:
        (root / CACHE_DIR).mkdir(mode=0o700, exist_ok=True)
        for old in OLD_CACHES:
            (root / old).unlink(missing_ok=True)
        cluster.attach_host_digests(None)  # computed from the records as saved; stored beside, not inside, the cluster
        digests = digests if digests is not None else cluster.host_digests()
        payload = json.dumps({"format": CACHE_FORMAT, "key": key, "version": __version__, "cluster": cluster.to_data(),
                              "digests": digests}, separators=(",", ":")).encode()
        cluster.attach_host_digests(digests)
        atomic_write(root / CACHE, _mac(_cache_key(root, create=True), payload) + b"\n" + payload, MODE)
    except OSError:
        pass  # a read-only description (or a full disk) still works, just slower


@contextmanager
def _no_collection() -> Iterator[None]:
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).hexdigest().encode()


def _cache_key(root: Path, *, create: bool) -> bytes:
    """The description's cache key (32 random bytes, 0600), made on first use."""
    path = root / CACHE_KEY
    try:
        secret = path.read_bytes()
        if len(secret) == 32:
            return secret
    except FileNotFoundError:
        pass
    if not create:
        raise FileNotFoundError(2, "no cache key", str(path))
    atomic_write(path, os.urandom(32), MODE)
    return path.read_bytes()


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
    return tomli_w.dumps(_checked(cluster.to_data()))


def _checked(data: dict) -> dict:
    try:
        check_strings(data)
    except SchemaError as exc:
        raise RocksccError(f"{dotted(exc.path)}: {exc.message}") from None
    return data


def save(cluster: Cluster) -> None:
    """Validate, then replace cluster.toml atomically (temp file + fsync + rename)."""
    try:
        cluster.validate()
    except SchemaError as exc:
        raise RocksccError(f"{dotted(exc.path)}: {exc.message}") from None
    data = render(cluster).encode()
    _write_description(cluster.root / FILENAME, data)
    _store_cache(cluster.root, hashlib.sha256(data).hexdigest(), cluster)  # the next load skips tomllib


def _write_description(path: Path, data: bytes) -> None:
    try:
        atomic_write(path, data, MODE)
    except OSError as exc:
        raise RocksccError(f"{path}: cannot write: {exc.strerror} (the description is unchanged)") from None


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
        chunk = tomli_w.dumps(_checked({"hosts": {host.name: encode(host)}}))
        data = (text.rstrip("\n") + "\n\n" + chunk if text.strip() else chunk).encode()
        _write_description(path, data)
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
    for number, line in enumerate(text.split("\n"), start=1):  # TOML lines end at \n only
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
