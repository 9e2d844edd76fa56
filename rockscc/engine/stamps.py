"""Input stamps: the fast path of the up-to-date check.

A job's exact check evaluates every dependency it recorded (attributes, files, hardware): tens of
microseconds a host, most of a no-op build at 10 000 hosts. A stamp is a digest of *everything*
a job could have read: the description minus its hosts, the node/graph/include files (by stat),
the build options, and the records of the hosts the job reads (`job.reads`). If a job's stamp
equals the one recorded when its outputs were last made or verified, nothing it could read has
changed and the exact check is skipped. A host edit therefore costs an exact check of that host's
jobs only. When a stamp differs (a global attribute, a touched node file), the exact check runs
and decides; the new stamp is then recorded so the next build takes the fast path again.

The network files read every host: their stamp covers every host's record. A kickstart whose
<eval> calls rocks reads the whole description: it has no stamp and is always checked exactly.
"""

from __future__ import annotations

import hashlib
from dataclasses import fields
from functools import cached_property

from rockscc import __version__
from rockscc.model import Cluster

UNSTAMPABLE_DEPS = ("model:",)  # dependencies on the whole description: no per-host stamp covers them


def _hash(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def description_digest(cluster: Cluster) -> bytes:
    """A digest of the description minus its hosts (every field of the Cluster but `hosts`: a
    field added later is covered) and of rockscc's version."""
    description = [getattr(cluster, f.name) for f in fields(cluster) if f.name != "hosts"]
    return _hash(repr([__version__, description]).encode())


class Stamps:
    """The stamps of one build. `options`: every option that changes what a compile produces (a
    dataclass: its repr names each field, so an option added later is covered); `tree_signature`:
    a callable giving the (path, stat identity) of every node, graph and include file; `stamped`:
    the folders it lists (absolute path prefixes), so that a job that read a file elsewhere is
    known to be uncovered."""

    def __init__(self, cluster: Cluster, options, tree_signature, stamped: tuple[str, ...]) -> None:
        self.cluster = cluster
        self.options = options
        self.tree_signature = tree_signature
        self.stamped = stamped
        self._group_verdicts: dict[str, bool] = {}

    @cached_property
    def _global(self) -> bytes:
        everything_but_hosts = [description_digest(self.cluster), self.options, self.tree_signature()]
        return _hash(repr(everything_but_hosts).encode())

    @cached_property
    def digests(self) -> dict[str, str]:
        """Each host record's digest (hex), by name in the host table's order."""
        return self.cluster.host_digests()

    @cached_property
    def _hosts(self) -> dict[str, str]:
        """Per host: the global digest and the host record's digest (hex)."""
        prefix = self._global.hex()
        return {name: f"{prefix}{digest}" for name, digest in self.digests.items()}

    @cached_property
    def hosts_digest(self) -> str:
        """A digest of every host record and of the description minus its hosts (hex). Names and
        digests hold neither NUL nor newline (host names are checked words, digests hex): joined
        in C, not repr'd (ten thousand pairs on every build)."""
        pairs = "\n".join(map("\0".join, self.digests.items()))
        return _hash(self._global + b"\n" + pairs.encode()).hex()

    def of_hosts(self, salt: str, containers: dict[str, str], names) -> dict[str, str]:
        """Each host's stamp: everything any job of the host could read, when its jobs (each made
        with a salt that `salt` names) read the host's record and, for a VM, its container's
        (`containers`: VM → container). Equal host stamps, and every job of the host fresh under
        its own stamp when the host stamp was recorded, mean each of its jobs would find its stamp
        equal now (engine/make.py). Ten thousand of them on every build: string joins, no hashing."""
        prefix = _hash(self._global + salt.encode()).hex()
        digests = self.digests
        out = {name: f"{prefix}{digests[name]}" for name in names}
        for name, container in containers.items():  # VMs: a few of the hosts
            if name in out:
                out[name] = f"{out[name]}|{digests.get(container, '-')}"
        return out

    def of(self, job) -> str | None:
        """The job's stamp, or None when it reads more than a few hosts' records."""
        reads = getattr(job, "reads", None)
        if reads is None:
            return None
        hosts = self._hosts
        if len(reads) == 1:  # most jobs: no hashing beyond the host's own digest
            return f"{job.salt}|{hosts.get(reads[0], '-')}"
        return f"{job.salt}|" + _hash("|".join(hosts.get(name, "-") for name in reads).encode()).hex()

    def stampable(self, record: dict, groups: dict) -> bool:
        """Whether a job's recorded dependencies are all covered by its stamp."""
        if not self._covered(record.get("deps", {})):
            return False
        group = record.get("group")
        return group is None or self._group_stampable(group, groups)

    def _group_stampable(self, group: str, groups: dict) -> bool:
        """A group's verdict, once per build (a group id is the digest of its content)."""
        if group not in self._group_verdicts:
            if group not in groups:
                return True  # not recorded (yet): nothing known to be unstampable
            self._group_verdicts[group] = self._covered(groups[group])
        return self._group_verdicts[group]

    def _covered(self, keys) -> bool:
        """No key on the whole description, and every file read in a folder the stamps list (a
        `<file include>` may name a file of any folder of an overlay: its edit, or its creation,
        changes no stamp; such a job is checked exactly on every build)."""
        stamped = self.stamped
        return not any(
            key.startswith(UNSTAMPABLE_DEPS) or (key.startswith("file:") and not key.startswith(stamped, 5))
            for key in keys
        )
