"""Secrets in the description: which attributes are secret, and the description without them.

An attribute whose name says it holds a secret (a password, a passphrase, a key, a token, a
secret) — Rocks' `Kickstart_PrivateRootPassword` first of all — is filled into kickstarts (mode
0600) but never shown to sandboxed code: not in an `<eval>`'s environment, not in the view of the
description the `rocks` command reads inside the sandbox.
"""

from __future__ import annotations

import copy
import re

from rockscc.model.cluster import Cluster

_SECRET = re.compile(r"passw(or)?d|passphrase|secret|token|private_?key|credential", re.IGNORECASE)


def is_secret(name: str) -> bool:
    return bool(_SECRET.search(name))


def public_attrs(attrs: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in attrs.items() if not is_secret(k)}


def public_copy(cluster: Cluster) -> Cluster:
    """A deep copy of the description with every secret attribute removed, at every level."""
    public = copy.deepcopy(cluster)
    public.attrs = public_attrs(public.attrs)
    public.os = {name: public_attrs(table) for name, table in public.os.items()}
    for appliance in public.appliances.values():
        appliance.attrs = public_attrs(appliance.attrs)
    for host in public.hosts.values():
        host.attrs = public_attrs(host.attrs)
    return public
