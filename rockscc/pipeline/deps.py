"""How a job's dependency keys are evaluated now, to compare with what its record holds:
`attr:` (a host's attribute), `env:` (all of them: an <eval>'s environment), `file:` (a file's
sha256, re-hashed only when its stat identity changed), `opt:` (a compile option), `hw:` (a host's
declared hardware, or that it has none), `model:` (a file of the description read as a whole), and the compiler's `walk:`, `graph:`,
`nodes:` and `include:` (which files it found: xmlgraph/depkeys.py)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING

from rockscc.engine.jobs import DepResolver, digest
from rockscc.engine.manifest import Manifest
from rockscc.errors import RocksccError
from rockscc.model import Cluster, Host
from rockscc.model.cluster import is_intrinsic
from rockscc.model.overlay import racy, stat_identity
from rockscc.model.store import hosts_digest

if TYPE_CHECKING:
    from rockscc.pipeline.session import Session


def register(resolver: DepResolver, session: Session, manifest: Manifest) -> None:
    cluster = session.cluster
    intrinsic_of = cache(lambda host: cluster.intrinsic_attrs(cluster.hosts[host]) if host in cluster.hosts else {})
    attrs_of = cache(lambda host: cluster.resolve_attrs(cluster.hosts[host]) if host in cluster.hosts else {})

    def attr(name, host):  # intrinsic values without resolving every attribute of every host
        intrinsic = intrinsic_of(host) if is_intrinsic(name) else {}
        return intrinsic[name] if name in intrinsic else attrs_of(host).get(name)

    resolver.register("attr", attr, per_host=True)
    resolver.register("file", lambda path, host: file_digest(Path(path), manifest), per_host=False)
    resolver.register("opt", lambda name, host: str(getattr(session.options, name, None)), per_host=False)
    profile_digest = cache(lambda profile: profile_hardware_digest(cluster, profile))

    def hw(_, name):
        host = cluster.hosts.get(name)
        if host is None:
            return None
        if host.hardware is None and not host.partitions:  # a shared profile (or none): hash it once
            return profile_digest(host.hwprofile)
        return hardware_digest(cluster, host)

    resolver.register("hw", hw, per_host=True)
    # which files the compiler finds now: a graph's files, a node's files, an include's file
    resolver.register(
        "graph",
        _refusal_as_value(
            lambda name, host: _depkeys().files_found(
                path for path, _overlay in _graph_files(session.tree().overlays, name)
            )
        ),
        per_host=False,
    )
    resolver.register(
        "nodes",
        _refusal_as_value(lambda name, host: _depkeys().files_found(s.path for s in session.tree().sources(name))),
        per_host=False,
    )
    resolver.register(
        "include",
        _refusal_as_value(lambda name, host: _depkeys().include_signature(session.tree().find_include(name))),
        per_host=False,
    )

    def walk(_, name):
        if name not in cluster.hosts:
            return None
        appliance = cluster.appliance_of(cluster.hosts[name])
        return _depkeys().walk_start(appliance.graph, appliance.node)

    resolver.register("walk", walk, per_host=True)
    resolver.register(
        "env",
        lambda _, host: _depkeys().environment_signature(attrs_of(host)) if host in cluster.hosts else None,
        per_host=True,
    )
    resolver.register(
        "model",
        lambda name, host: (
            hosts_digest(cluster.root) if name == "hosts" else file_digest(cluster.root / name, manifest)
        ),
        per_host=False,
    )
    resolver.groups = manifest.groups
    resolver.context = lambda host: attr_context(cluster, host)
    resolver.host_specific = lambda key: (
        key.startswith(("hw:", "env:")) or (key.startswith("attr:") and is_intrinsic(key[5:]))
    )


def _depkeys():
    """xmlgraph.depkeys, imported when a key is first evaluated: a build whose hosts are all
    settled evaluates none, and does not load lxml."""
    from rockscc.xmlgraph import depkeys

    return depkeys


def _graph_files(overlays, name: str):
    from rockscc.xmlgraph.graph import graph_files

    return graph_files(overlays, name)


def _refusal_as_value(handler):
    """A lookup that now refuses (a file or folder that has become a link out of its tree) gives
    a value no record holds: the job is rebuilt, and its compile reports the refusal as a build
    from scratch would, as that job's error."""

    def value(name, host):
        try:
            return handler(name, host)
        except RocksccError as exc:
            return f"refused: {exc}"

    return value


def attr_context(cluster: Cluster, host_name: str | None):
    """Hosts with equal (appliance, os, host-level attributes) have equal non-intrinsic attributes."""
    host = cluster.hosts.get(host_name) if host_name else None
    if host is None:
        return None
    return (host.membership, host.os, tuple(sorted(host.attrs.items())))


def file_digest(path: Path, manifest: Manifest) -> str | None:
    """sha256 of a file, re-hashed only when its stat identity changed since the last build (or
    was racily recent then: model/overlay.py). None when there is no file there: what the
    compiler records of a path it did not find (a folder in its place is no file to it either).
    A file that cannot be read has a value no record holds: its job is rebuilt, and its compile
    reports the error as a build from scratch would (not this whole build's failure)."""
    key = str(path)
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        st = None
    if st is None or not S_ISREG(st.st_mode):
        if manifest.files.pop(key, None) is not None:
            manifest.file_changed()
        return None
    sig = [st.st_size, _token(st)]
    known = manifest.files.get(key)
    if known and known[:2] == sig:
        return known[2]
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    value = hashlib.sha256(data).hexdigest()
    manifest.files[key] = [st.st_size, -1 if racy(st) else sig[1], value]
    manifest.file_changed()
    return value


def _token(st) -> int:
    """The stat identity beyond the size (mtime, ctime, inode) as one integer for the build log."""
    _size, mtime, ctime, inode = stat_identity(st)
    return (mtime * 1_000_003 ^ ctime * 7_919 ^ inode) & ((1 << 63) - 1)


def hardware_digest(cluster: Cluster, host: Host) -> str:
    """What a host's partition plan depends on besides its programs: its disks (own or its
    profile's, or that it has none) and Rocks' recorded partitions."""
    return _hardware_digest(cluster.hardware_of(host), host.hwprofile, host.partitions)


def profile_hardware_digest(cluster: Cluster, profile: str | None) -> str:
    """hardware_digest of any host without disks or partitions of its own, from its profile alone."""
    return _hardware_digest(cluster.hwprofiles.get(profile) if profile else None, profile, [])


def _hardware_digest(hardware, profile: str | None, partitions: list) -> str:
    from rockscc.model.codec import encode

    recorded = [encode(p) for p in partitions]  # Rocks' partitions table: do_partition reads it
    return digest([encode(hardware) if hardware else None, profile, recorded])
