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


class Stamps:
    """The stamps of one build. `options`: every option that changes what a compile produces (a
    dataclass: its repr names each field, so an option added later is covered); `tree_signature`:
    a callable giving the (path, stat identity) of every node, graph and include file."""

    def __init__(self, cluster: Cluster, options, tree_signature) -> None:
        self.cluster = cluster
        self.options = options
        self.tree_signature = tree_signature
        self._group_verdicts: dict[str, bool] = {}

    @cached_property
    def _global(self) -> bytes:
        c = self.cluster
        description = [getattr(c, f.name) for f in fields(c) if f.name != "hosts"]  # new fields included
        everything_but_hosts = [__version__, self.options, description, self.tree_signature()]
        return _hash(repr(everything_but_hosts).encode())

    @cached_property
    def _hosts(self) -> dict[str, str]:
        """Per host: the global digest and the host record's digest (hex)."""
        prefix = self._global.hex()
        return {name: f"{prefix}{digest}" for name, digest in self.cluster.host_digests().items()}

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
        if any(key.startswith(UNSTAMPABLE_DEPS) for key in record.get("deps", {})):
            return False
        group = record.get("group")
        return group is None or self._group_stampable(group, groups)

    def _group_stampable(self, group: str, groups: dict) -> bool:
        """A group's verdict, once per build (a group id is the digest of its content)."""
        if group not in self._group_verdicts:
            if group not in groups:
                return True  # not recorded (yet): nothing known to be unstampable
            self._group_verdicts[group] = not any(key.startswith(UNSTAMPABLE_DEPS) for key in groups[group])
        return self._group_verdicts[group]
