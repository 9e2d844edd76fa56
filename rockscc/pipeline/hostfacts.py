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

The entry is text, a line per host (`_encode`): at ten thousand hosts, JSON's list of lists cost
~0.05 s to load and ~0.03 s to write on every build where a host changed; splitting lines costs a
tenth of that. A field holding a separator is never written (nothing is kept: facts are
computed); a line of the wrong shape, as in a damaged or planted memo, discards the entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from rockscc.engine.stamps import Stamps, description_digest
from rockscc.errors import RocksccError
from rockscc.model.services import host_flag
from rockscc.pipeline.specs import action_files, host_entry

if TYPE_CHECKING:
    from rockscc.memo import Memo
    from rockscc.model import Cluster, Host

NAMESPACE = "host-facts-2"
BOOTS_NAMESPACE = "host-boots-1"
BASE_NAMESPACE, BASE_FORMAT = "host-facts-base", "facts-base-1"
KEY = "all"  # one entry, replaced: old descriptions' facts do not pile up in the memo
# Up to this many hosts whose recorded digest is not their record's are computed again on every
# build instead of the entry being rewritten (10 000 lines encoded and stored: 0.01-0.04 s) after each
# edit of a host or two; a host's facts are only ever taken from the entry by its current digest.
RECOMPUTED_KEPT = 32


class Facts(NamedTuple):
    """A host's facts, as the memo keeps them: [name, digest, ip, mac, hexip, ipxe, boots] (ip
    None: the host has no private address, and no entry in the network files)."""

    name: str
    digest: str
    ip: str | None
    mac: str | None
    hexip: str | None
    ipxe: bool | None
    boots: list[str]  # the kernels and initrds its own PXE actions load (specs.needed_files)

    def entry(self) -> dict[str, Any] | None:
        """The host's line of the network files (specs.host_entry), None without an address."""
        if self.ip is None:
            return None
        return {"name": self.name, "ip": self.ip, "mac": self.mac, "hexip": self.hexip, "ipxe": self.ipxe}


def host_facts(cluster: Cluster, memo: Memo, digests: dict[str, str]) -> dict[str, Facts]:
    """Every host's facts, by name in the host table's order (`digests`: each host record's, in
    that order); those of records whose digest is as recorded in the memo are taken from it, the
    others computed (and the memo updated)."""
    table = cluster.host_table()
    scope = description_digest(cluster).hex()
    known = _load(memo, scope)
    ipxe = host_flag(cluster, "pxe_ipxe", default=True)
    facts: dict[str, Facts] = {}
    computed = 0
    for name, digest in digests.items():
        found = known.get(name)
        if found is None or found.digest != digest:
            found = _computed(cluster, name, digest, table[name], ipxe)
            computed += 1
        facts[name] = found
    if computed > RECOMPUTED_KEPT or (computed and not known) or len(known) - len(facts) > RECOMPUTED_KEPT:
        text = _encode(scope, facts.values())
        if text is not None:
            memo.remember(NAMESPACE, KEY, text.encode())
    return facts


def _computed(cluster: Cluster, name: str, digest: str, host: Host, ipxe) -> Facts:
    """A host's facts, made from its record."""
    entry = host_entry(cluster, name, host, ipxe) or dict.fromkeys(("ip", "mac", "hexip", "ipxe"))
    boots = action_files(host.pxeactions.values())
    return Facts(name, digest, entry["ip"], entry["mac"], entry["hexip"], entry["ipxe"], boots)


def host_boots(
    memo: Memo, stamps: Stamps, facts: Callable[[], dict[str, Facts]], base: Callable[[], Base | None]
) -> list[str]:
    """The files the hosts' own PXE actions boot (the TFTP tree's spec, made on every build):
    kept in the memo by the digest of every host record and of the description minus its hosts
    (a pure function of that key), so a build where no host changed reads no host's facts; else
    those of the facts base (`base`, see settled_base) when every host's facts are as it holds."""
    key = stamps.hosts_digest
    blob = memo.get(BOOTS_NAMESPACE, key)
    if blob is not None:
        try:
            names = json.loads(blob)
            if type(names) is list and all(type(name) is str for name in names):
                return names
        except ValueError:
            pass
    same = base()
    if same is not None:
        names = same.boots
    else:
        names = sorted({name for host in facts().values() for name in host.boots})
    memo.remember(BOOTS_NAMESPACE, key, json.dumps(names).encode())
    return names


def _load(memo: Memo, scope: str) -> dict[str, Facts]:
    """{name: facts} as recorded under this description scope; {} when none is (or what is there
    is not what this module writes: a damaged cache is recomputed)."""
    blob = memo.get(NAMESPACE, KEY)
    if blob is None:
        return {}
    try:
        head, *lines = blob.decode().split("\n")
        if head != f"{FORMAT}{SEP}{scope}":
            return {}
        return _decode(lines)
    except (ValueError, KeyError):  # not UTF-8, a line of another shape
        return {}


FORMAT = "facts-text-1"
SEP, LIST, NONE = "\t", "\x1f", "\x00"  # none of them is in a description's strings (codec.py: printable)
_FLAGS = {"1": True, "0": False, NONE: None}


def _encode(scope: str, facts) -> str | None:
    """The memo's entry: a head line, then per host name, digest, ip, mac, hexip, ipxe, boots
    (NONE for None, LIST between boot files); None when a value is empty or holds a separator
    (checked on all values at once: ten thousand hosts)."""
    facts = list(facts)
    values = [v for f in facts for v in (f.name, f.digest, f.ip, f.mac, f.hexip, *f.boots) if v is not None]
    joined = "".join(values)
    if "" in values or any(mark in joined for mark in (SEP, LIST, NONE, "\n")):
        return None
    if any(f.ipxe is not None and type(f.ipxe) is not bool for f in facts):
        return None
    none, flags = NONE, {True: "1", False: "0", None: NONE}
    lines = [
        SEP.join(
            (
                f.name,
                f.digest,
                none if f.ip is None else f.ip,
                none if f.mac is None else f.mac,
                none if f.hexip is None else f.hexip,
                flags[f.ipxe],
                LIST.join(f.boots),
            )
        )
        for f in facts
    ]
    return "\n".join([f"{FORMAT}{SEP}{scope}", *lines])


def _decode(lines: list[str]) -> dict[str, Facts]:
    """{name: facts} of _encode's lines; ValueError unless each is of that shape (and of the types
    host_entry makes: an address comes with its hex form and iPXE flag). One loop of plain
    operations: ten thousand lines on every build where a host changed."""
    flags, none, found = _FLAGS, NONE, {}
    for line in lines:
        name, digest, ip, mac, hexip, flag, boots = line.split(SEP)
        if not name or not digest or none in name or none in digest:
            raise ValueError(line)
        ipxe = flags[flag]  # KeyError (a LookupError): not a flag
        if ip == none:
            ip = None
        elif hexip == none or ipxe is None:
            raise ValueError(line)
        found[name] = Facts(
            name,
            digest,
            ip,
            None if mac == none else mac,
            None if hexip == none else hexip,
            ipxe,
            boots.split(LIST) if boots else [],
        )
    return found


# --- the facts base: a one-host edit that changes no host's facts makes no network spec --------
#
# The network files' spec (`net:cluster`) is a pure function of the description minus its hosts,
# the build directory, the job's salt and every host's facts; the TFTP tree's host boots, of the
# hosts' facts. When the network spec is made in full, the facts it was made from are recorded as
# the base, with the spec's fingerprint and the boots' union. A later build whose description
# minus its hosts is the base's, and whose hosts differ from the base's (by record digest: added,
# removed, edited) in at most BASE_CHANGED hosts whose facts — computed from their records now —
# are all the base's, has the base's network spec and boots: the network job is up to date when
# its recorded fingerprint is the base's, without loading ten thousand hosts' facts or making and
# digesting the spec (~25-40 ms at ten thousand hosts, measured). Anything else: made in full.

BASE_CHANGED = RECOMPUTED_KEPT  # more hosts changed since the base: made in full, and the base rewritten


class Base(NamedTuple):
    """A facts base that holds for the current hosts: the network spec's fingerprint, the salt
    and build directory it was made with, and the hosts' boot files."""

    fingerprint: str
    salt: str
    outdir: str
    boots: list[str]


def _compared(facts: Facts | None) -> str:
    """What the base compares of a host's facts (None: no such host): every field the specs read."""
    if facts is None:
        return "-"
    return repr(facts[2:])  # every field but name and digest: a field added to Facts is compared too


def settled_base(cluster: Cluster, memo: Memo, digests: dict[str, str]) -> Base | None:
    """The recorded base, if it holds for the current description and hosts (see above)."""
    loaded = _load_base(memo, description_digest(cluster).hex())
    if loaded is None:
        return None
    base, keys, compared = loaded
    current = set(map("\0".join, digests.items()))  # "name\0digest", as the base's keys
    recorded = set(keys)
    gone, new = recorded - current, current - recorded
    if len(gone) + len(new) > BASE_CHANGED:
        return None
    before = {key.partition("\0")[0]: compared[keys.index(key)] for key in gone}
    table = cluster.host_table()
    ipxe = host_flag(cluster, "pxe_ipxe", default=True)
    for key in new:
        name, _, digest = key.partition("\0")
        try:
            now = _computed(cluster, name, digest, table[name], ipxe)
        except RocksccError:  # the full spec reports it
            return None
        if before.pop(name, "-") != _compared(now):  # a host added: "-" never matches
            return None
    return None if before else base  # left: a host removed (or renamed)


def record_base(
    cluster: Cluster, memo: Memo, facts: dict[str, Facts], fingerprint: str, salt: str, outdir: str
) -> None:
    """Record the facts the network spec of `fingerprint` was made from (all hosts')."""
    keys = [f"{f.name}\0{f.digest}" for f in facts.values()]
    if any("\n" in key or key.count("\0") != 1 for key in keys):
        return  # never: names are checked words, digests hex
    boots = sorted({name for f in facts.values() for name in f.boots})
    head = {"format": BASE_FORMAT, "scope": description_digest(cluster).hex(), "fp": fingerprint}
    head.update(salt=salt, outdir=outdir, boots=boots, hosts=len(keys))
    lines = [json.dumps(head), *keys, *map(_compared, facts.values())]  # repr: no newline
    memo.remember(BASE_NAMESPACE, KEY, "\n".join(lines).encode())


def _load_base(memo: Memo, scope: str) -> tuple[Base, list[str], list[str]] | None:
    """The recorded base, its hosts' "name\0digest" and their compared facts (in that order), if
    it is of this scope. Split in C, not parsed line by line: ten thousand hosts on every build
    where a host changed."""
    blob = memo.get(BASE_NAMESPACE, KEY)
    if blob is None:
        return None
    try:
        head_text, *lines = blob.decode().split("\n")
        head = json.loads(head_text)
        if type(head) is not dict or head.get("format") != BASE_FORMAT or head.get("scope") != scope:
            return None
        base, count = Base(head["fp"], head["salt"], head["outdir"], head["boots"]), head["hosts"]
        if not all(type(v) is str for v in base[:3]) or not all(type(v) is str for v in base.boots):
            return None
        if type(count) is not int or len(lines) != 2 * count:
            return None
        return base, lines[:count], lines[count:]
    except (ValueError, KeyError, TypeError):  # not UTF-8 or JSON, a head of another shape
        return None
