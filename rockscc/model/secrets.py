"""Secrets in the description: which attributes are secret, and the description without them.

An attribute whose name says it holds a secret (a password, a passphrase, a key, a token, a
secret) — Rocks' `Kickstart_PrivateRootPassword` first of all — is filled into kickstarts (mode
0600) but never shown to sandboxed code: not in an `<eval>`'s environment, not in the view of the
description the `rocks` command reads inside the sandbox.
"""

from __future__ import annotations

import re

from rockscc.model.cluster import Cluster

_SECRET = re.compile(r"passw(or)?d|passphrase|secret|token|private_?key|credential", re.IGNORECASE)


def is_secret(name: str) -> bool:
    return bool(_SECRET.search(name))


def public_attrs(attrs: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in attrs.items() if not is_secret(k)}


def public_data(cluster: Cluster) -> dict:
    """The description as TOML data with every secret attribute removed, at every level."""
    data = cluster.to_data()
    if "attrs" in data:
        data["attrs"] = public_attrs(data["attrs"])
    if "os" in data:
        data["os"] = {name: public_attrs(table) for name, table in data["os"].items()}
    for record in [*data.get("appliances", {}).values(), *data.get("hosts", {}).values()]:
        if "attrs" in record:
            record["attrs"] = public_attrs(record["attrs"])
    return data
