"""What gets built for a cluster: one profile job per host (kickstart + partition plan), one
boot job per host (pxelinux/UEFI/iPXE), the frontend's default boot file, one job per VM
(Xen and libvirt configs); and how their dependency keys are evaluated."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from rockscc.engine.jobs import DepResolver, DepsJob, SpecJob, digest
from rockscc.engine.manifest import Manifest
from rockscc.engine.output import Output
from rockscc.model import Cluster, Host
from rockscc.model.cluster import is_intrinsic

KICKSTART_MODE = 0o600  # kickstarts carry the root password hash


def plan(cluster: Cluster, options, resolver: DepResolver, manifest: Manifest) -> list:
    _register_resolvers(cluster, options, resolver, manifest)
    jobs: list = []
    for producer in _producers():
        jobs.extend(producer(cluster, options))
    return jobs


def warm_up(jobs: list, resolver: DepResolver) -> None:
    """Run one compile in the parent so forked workers inherit the parsed node tree."""
    for job in jobs:
        try:
            job.run(resolver)
        except Exception:
            pass  # the real run reports it


def _producers():
    from rockscc.pipeline import producers

    return producers.ALL


# --- dependency keys -----------------------------------------------------------------------------
def _register_resolvers(cluster: Cluster, options, resolver: DepResolver, manifest: Manifest) -> None:
    intrinsic_of = cache(lambda host: cluster.intrinsic_attrs(cluster.hosts[host]) if host in cluster.hosts else {})
    attrs_of = cache(lambda host: cluster.resolve_attrs(cluster.hosts[host]) if host in cluster.hosts else {})

    def attr(name, host):  # intrinsic values without resolving every attribute of every host
        intrinsic = intrinsic_of(host) if is_intrinsic(name) else {}
        return intrinsic[name] if name in intrinsic else attrs_of(host).get(name)

    resolver.register("attr", attr, per_host=True)
    resolver.register("file", lambda path, host: file_digest(Path(path), manifest), per_host=False)
    resolver.register("opt", lambda name, host: str(getattr(options, name, None)), per_host=False)
    profile_digest = cache(lambda profile: hardware_digest(cluster, None, profile=profile))

    def hw(_, name):
        host = cluster.hosts.get(name)
        if host is not None and host.hardware is None and not host.partitions:  # a shared profile: hash it once
            return profile_digest(host.hwprofile)
        return hardware_digest(cluster, host)

    resolver.register("hw", hw, per_host=True)
    tree = cache(lambda: _node_tree(cluster))
    resolver.register("nodes", lambda name, host: "|".join(str(s.path) for s in tree().sources(name)), per_host=False)
    resolver.register("model", lambda name, host: file_digest(cluster.root / name, manifest), per_host=False)
    resolver.groups = manifest.groups
    resolver.context = lambda host: attr_context(cluster, host)
    resolver.host_specific = lambda key: key.startswith("hw:") or (key.startswith("attr:") and is_intrinsic(key[5:]))


def _node_tree(cluster: Cluster):
    """The node tree, looked up once per build: which files make each node now (a new
    extend-/replace- file or a shadowing roll changes a node's `nodes:` dependency)."""
    from rockscc.pipeline.producers import node_tree

    return node_tree(cluster)


def tree_signature(cluster: Cluster) -> tuple:
    """(path, size, mtime) of every node, graph and include file of the description's overlays."""
    from rockscc.pipeline import producers

    return producers.tree_signature(cluster.overlays())


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


def text_output(path: str, text: str, mode: int = 0o644) -> Output:
    return Output(path, text.encode(), mode)
