"""What the cluster-wide specs read of each host, kept by the host's record digest.

The network files (`net:cluster`) and the TFTP tree (`tftp:loaders`) read every host: its
private address, MAC and iPXE flag, the files its own PXE actions boot. Decoding ten thousand
host records to learn that costs ~0.5 s, on every build whose network spec is made (any host
edit) and on every build for the TFTP tree's. A host's facts are a pure function of its record
and of the description minus its hosts, so they are kept in the build's memo
(build/.rockscc-cache/memo.sqlite) beside the digest of each: a build decodes only the records
whose digest changed, and none when the description minus its hosts is what it was (its digest
is part of the entry's key; any other value starts again). The memo is emptied when rockscc's
own code changes, so facts computed by older code are never used.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from rockscc.engine.stamps import Stamps, description_digest
from rockscc.model.services import host_flag
from rockscc.pipeline.specs import action_files, host_entry

if TYPE_CHECKING:
    from rockscc.memo import Memo
    from rockscc.model import Cluster, Host

NAMESPACE = "host-facts-1"
BOOTS_NAMESPACE = "host-boots-1"
KEY = "all"  # one entry, replaced: old descriptions' facts do not pile up in the memo


class Facts(NamedTuple):
    entry: dict[str, Any] | None  # the host's line of the network files (specs.host_entries), None: no address
    boots: tuple[str, ...]  # the kernels and initrds its own PXE actions load (specs.needed_files)


def host_facts(cluster: Cluster, memo: Memo, digests: dict[str, str]) -> dict[str, Facts]:
    """Every host's facts, by name in the host table's order (`digests`: each host record's, in
    that order); those of records whose digest is as recorded in the memo are taken from it, the
    others computed (and the memo updated)."""
    table = cluster.host_table()
    scope = description_digest(cluster).hex()
    known = _load(memo, scope)
    ipxe = host_flag(cluster, "pxe_ipxe", default=True)
    facts: dict[str, Facts] = {}
    rows = []
    computed = 0
    for name, digest in digests.items():
        row = known.get(name)
        if row is None or row[1] != digest:
            host: Host = table[name]
            entry = host_entry(cluster, name, host, ipxe)
            boots = action_files(host.pxeactions.values())
            fields = [entry[f] for f in _ENTRY_FIELDS] if entry is not None else [None] * len(_ENTRY_FIELDS)
            row = [name, digest, *fields, boots]
            computed += 1
        rows.append(row)
        facts[name] = _facts_of(row)
    if computed or len(rows) != len(known):
        memo.remember(NAMESPACE, KEY, json.dumps({"scope": scope, "hosts": rows}).encode())
    return facts


_ENTRY_FIELDS = ("ip", "mac", "hexip", "ipxe")  # a row: [name, digest, ip, mac, hexip, ipxe, boots]


def _facts_of(row: list) -> Facts:
    name, _digest, ip, mac, hexip, ipxe, boots = row
    entry = None if ip is None else {"name": name, "ip": ip, "mac": mac, "hexip": hexip, "ipxe": ipxe}
    return Facts(entry, tuple(boots))


def host_boots(cluster: Cluster, memo: Memo, stamps: Stamps, facts: Callable[[], dict[str, Facts]]) -> list[str]:
    """The files the hosts' own PXE actions boot (the TFTP tree's spec, made on every build):
    kept in the memo by the digest of every host record and of the description minus its hosts
    (a pure function of that key), so a build where no host changed reads no host's facts."""
    key = stamps.hosts_digest
    blob = memo.get(BOOTS_NAMESPACE, key)
    if blob is not None:
        try:
            names = json.loads(blob)
            if type(names) is list and all(type(name) is str for name in names):
                return names
        except ValueError:
            pass
    names = sorted({name for host in facts().values() for name in host.boots})
    memo.remember(BOOTS_NAMESPACE, key, json.dumps(names).encode())
    return names


def _load(memo: Memo, scope: str) -> dict[str, list]:
    """{name: row} as recorded under this description scope; {} when none is (or what is there
    is not what this module writes: a damaged cache is recomputed)."""
    blob = memo.get(NAMESPACE, KEY)
    if blob is None:
        return {}
    try:
        data = json.loads(blob)
        if data.get("scope") != scope:
            return {}
        rows = data["hosts"]
        if type(rows) is list and all(_well_formed(row) for row in rows):
            return {row[0]: row for row in rows}
    except (ValueError, TypeError, KeyError, AttributeError):
        pass
    return {}


def _well_formed(row) -> bool:
    return (
        type(row) is list
        and len(row) == 7
        and type(row[0]) is str
        and type(row[1]) is str
        and (row[2] is None or (type(row[2]) is str and type(row[4]) is str and type(row[5]) is bool))
        and (row[3] is None or type(row[3]) is str)
        and type(row[6]) is list
        and all(type(name) is str for name in row[6])
    )
