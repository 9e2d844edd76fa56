"""How a job's dependency keys are evaluated now, to compare with what its record holds:
`attr:` (a host's attribute), `file:` (a file's sha256, re-hashed only when its size or mtime
changed), `opt:` (a compile option), `hw:` (a host's declared hardware), `nodes:` (which files make
a node), `model:` (a file of the description read as a whole)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from rockscc.engine.jobs import DepResolver, digest
from rockscc.engine.manifest import Manifest
from rockscc.model import Cluster, Host
from rockscc.model.cluster import is_intrinsic
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
    profile_digest = cache(lambda profile: hardware_digest(cluster, None, profile=profile))

    def hw(_, name):
        host = cluster.hosts.get(name)
        if host is not None and host.hardware is None and not host.partitions:  # a shared profile: hash it once
            return profile_digest(host.hwprofile)
        return hardware_digest(cluster, host)

    resolver.register("hw", hw, per_host=True)
    # which files make each node now (a new extend-/replace- file or a shadowing roll changes it)
    resolver.register("nodes", lambda name, host: "|".join(str(s.path) for s in session.tree().sources(name)),
                      per_host=False)
    resolver.register("model", lambda name, host: hosts_digest(cluster.root) if name == "hosts"
                      else file_digest(cluster.root / name, manifest), per_host=False)
    resolver.groups = manifest.groups
    resolver.context = lambda host: attr_context(cluster, host)
    resolver.host_specific = lambda key: key.startswith("hw:") or (key.startswith("attr:") and is_intrinsic(key[5:]))


def attr_context(cluster: Cluster, host_name: str | None):
    """Hosts with equal (appliance, os, host-level attributes) have equal non-intrinsic attributes."""
    host = cluster.hosts.get(host_name) if host_name else None
    if host is None:
        return None
    return (host.membership, host.os, tuple(sorted(host.attrs.items())))


def file_digest(path: Path, manifest: Manifest) -> str | None:
    """sha256 of a file, re-hashed only when its size or mtime changed since the last build."""
    key = str(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        if manifest.files.pop(key, None) is not None:
            manifest.file_changed()
        return None
    sig = [st.st_size, st.st_mtime_ns]
    known = manifest.files.get(key)
    if known and known[:2] == sig:
        return known[2]
    value = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest.files[key] = [*sig, value]
    manifest.file_changed()
    return value


def hardware_digest(cluster: Cluster, host: Host | None, *, profile: str | None = None) -> str | None:
    """What a host's partition plan depends on besides its programs: its disks (own or its
    profile's) and Rocks' recorded partitions. `profile=` digests a profile for hosts without either."""
    from rockscc.model.codec import encode

    if host is None:
        if profile is None:
            return None
        hardware = cluster.hwprofiles.get(profile)
        return digest([encode(hardware) if hardware else None, profile, []])
    hardware = cluster.hardware_of(host)
    recorded = [encode(p) for p in host.partitions]  # Rocks' partitions table: do_partition reads it
    return digest([encode(hardware) if hardware else None, host.hwprofile, recorded])
