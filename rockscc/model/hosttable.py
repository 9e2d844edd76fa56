"""`cluster.hosts`: every host of the description, each record made only when it is used.

The store hands the table one index row per host (hostindex.Row); a record is decoded from its
row the first time a command looks at it. Names, memberships, racks, ranks, VM slots and the
addresses of every host are answered from the rows, so selecting, allocating and checking one
host against the others reads none of the others' records. What a transaction changed is what
it looked at and now encodes differently (`changes`): only those hosts are validated and written.

Addresses (`AddressBook`) are kept up to date as commands edit records in place: a record a
command took out may change at any time until the command ends, so queries re-read the records
taken since the last command boundary (`end_command`, which the command line calls after each
command, `load` after each line) — a handful each, which keeps a load of ten thousand lines
linear.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, MutableMapping

from rockscc.errors import RocksccError
from rockscc.model.alloc import ip_int
from rockscc.model.codec import decode_trusted, encode
from rockscc.model.hostindex import Row, addresses
from rockscc.model.records import Host


class HostTable(MutableMapping):
    def __init__(self, rows: dict[str, Row] | None = None, fetch=None) -> None:
        self.rows = rows or {}  # as loaded (what `changes` compares with)
        self._fetch = fetch  # names → {name: record JSON} for rows read without it (data None)
        self._decoded = 0
        self._names: dict[str, None] = dict.fromkeys(self.rows)
        self._records: dict[str, Host] = {}
        self._original: dict[str, str] = {}  # the JSON each record was decoded from (the record shares its
        # lists and tables with what it was decoded from: only the text stays as loaded)
        self._recent: set[str] = set()  # records taken out since the last command boundary
        self._book: AddressBook | None = None

    @classmethod
    def of(cls, hosts: dict[str, Host]) -> HostTable:
        """A table of records made in code (no rows): all of them new."""
        table = cls()
        for name, host in hosts.items():
            table[name] = host
        return table

    # --- the mapping ---------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Host:
        host = self._records.get(name)
        if host is None:
            if name not in self._names:
                raise KeyError(name)
            host = self._records[name] = self._decode(name)
        self._recent.add(name)
        return host

    def _decode(self, name: str) -> Host:
        text = self.rows[name].data
        if text is None:
            self._decoded += 1
            if self._decoded == 64:  # reading many: fetch every record at once
                every = self._fetch(None)
                self.rows = {
                    n: r._replace(data=every[n]) if r.data is None and n in every else r for n, r in self.rows.items()
                }
                text = self.rows[name].data
            else:
                text = self._fetch([name])[name]
        data = json.loads(text)
        host = decode_trusted(Host, data)  # checked when its file was read (the row is that file's)
        host.name = name
        self._original[name] = text
        return host

    def __setitem__(self, name: str, host: Host) -> None:
        self._names[name] = None
        self._records[name] = host
        self._recent.add(name)
        if self._book is not None:
            self._book.update(name, host)

    def __delitem__(self, name: str) -> None:
        if name not in self._names:
            raise KeyError(name)
        del self._names[name]
        self._records.pop(name, None)
        self._recent.discard(name)
        if self._book is not None:
            self._book.update(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __reversed__(self) -> Iterator[str]:
        return reversed(list(self._names))

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"<HostTable of {len(self)} hosts, {len(self._records)} read>"

    # --- what rows answer without records ------------------------------------------------------
    def summary(self, name: str) -> tuple[str, int, int]:
        """(membership, rack, rank) of a host, from its record if taken out, else from its row."""
        host = self._records.get(name)
        if host is not None:
            return host.membership, host.rack, host.rank
        row = self.rows[name]
        return row.membership, row.rack, row.rank

    def vm_container(self, name: str) -> str | None:
        """The container of a VM (None: not a VM), from its record if taken out, else from its row."""
        host = self._records.get(name)
        if host is not None or name not in self.rows:
            host = self[name]
            return host.vm.container if host.vm else None
        return self.rows[name].container

    def containers(self) -> dict[str, str]:
        """VM name → its container, every VM of the table (from the rows where no record was taken out)."""
        out = {}
        rows, taken = self.rows, self._records
        for name in self._names:
            if name in taken or name not in rows:
                vm = self[name].vm
                container = vm.container if vm else None
            else:
                container = rows[name].container
            if container is not None:
                out[name] = container
        return out

    def vm_slots(self) -> dict[tuple[str, int], list[str]]:
        """(container, slice) → the VMs there, every host of the table."""
        slots: dict[tuple[str, int], list[str]] = {}
        for name in self._names:
            host = self._records.get(name)
            if host is not None:
                key = (host.vm.container, host.vm.slice) if host.vm else None
            else:
                row = self.rows[name]
                key = (row.container, row.slot) if row.container is not None else None
            if key is not None:
                slots.setdefault(key, []).append(name)
        return slots

    def book(self) -> AddressBook:
        """Every host's addresses, up to date with the records commands took out (made on first
        use: allocation, selection by address, a load)."""
        if self._book is None:
            self._book = AddressBook.of(
                {
                    name: addresses(self._records[name])
                    if name in self._records
                    else tuple(self.rows[name].addrs.split())
                    for name in self._names
                }
            )
        for name in self._recent:
            self._book.update(name, self._records.get(name))
        return self._book

    def holders(self, kind: str, value: str) -> set[str]:
        """The hosts holding an address, MAC or interface name: from the book if one is made,
        else by one pass over the rows (~1 ms at 10 000 hosts, where making the book costs 50)."""
        if self._book is not None:
            return set(self.book().holders(kind, value))
        key = f"{kind}={value}"
        token = f" {key} "
        found = set()
        for name in self._names:
            host = self._records.get(name)
            if host is not None:
                if key in addresses(host):
                    found.add(name)
            elif token in self.rows[name].addrs:
                found.add(name)
        return found

    def recent(self) -> set[str]:
        """Hosts whose records were taken out since the last command boundary."""
        return set(self._recent)

    def end_command(self) -> None:
        """A command ended: the records it took out are settled in the address book."""
        if self._book is not None:
            self.book()
        self._recent.clear()

    # --- what a transaction changed ------------------------------------------------------------
    def changes(self) -> tuple[dict[str, tuple[Host, dict]], set[str]]:
        """({name: (record, encoded data)} of hosts added or changed, names removed)."""
        changed = {}
        for name, host in self._records.items():
            data = encode(host)
            if name not in self._original or data != json.loads(self._original[name]):
                changed[name] = (host, data)
        removed = {name for name in self.rows if name not in self._names}
        return changed, removed

    def original(self, name: str) -> dict | None:
        """The record of a host as loaded (encoded), None for a host new in this transaction."""
        if name in self._original:
            return json.loads(self._original[name])
        row = self.rows.get(name)
        if row is None:
            return None
        return json.loads(row.data if row.data is not None else self._fetch([name])[name])

    def rebase(self, rows: dict[str, Row], removed: set[str]) -> None:
        """The table as just saved: `rows` are the new rows of the hosts written."""
        self.rows = {n: r for n, r in self.rows.items() if n not in removed}
        self.rows.update(rows)
        for name in rows:
            self._original[name] = rows[name].data
        for name in removed:
            self._original.pop(name, None)

    def digest(self, name: str) -> str:
        """The record's digest: its row's while the record is unchanged, else computed."""
        from rockscc.model.cluster import host_digest

        host = self._records.get(name)
        if host is None:
            return self.rows[name].digest
        if name in self._original and encode(host) == json.loads(self._original[name]):
            return self.rows[name].digest
        return host_digest(host)

    def digests(self) -> dict[str, str]:
        rows, taken = self.rows, self._records  # most hosts of a build: a record never taken out
        return {name: rows[name].digest if name not in taken else self.digest(name) for name in self._names}


class AddressBook:
    """Which hosts hold each address, MAC and interface name; the allocator's taken set."""

    def __init__(self) -> None:
        self.owners: dict[str, set[str]] = {}  # "ip=10.1.255.254" → hosts
        self.held: dict[str, tuple[str, ...]] = {}  # host → its values
        self.taken_ips: set[int] = set()
        self._cursor: dict[tuple, int] = {}  # allocation: every address above is taken

    @classmethod
    def of(cls, held: dict[str, tuple[str, ...]]) -> AddressBook:
        """A book of every host's values at once (a tight loop: ten thousand hosts)."""
        book = cls()
        owners = book.owners
        for name, values in held.items():
            if values:
                book.held[name] = values
                for value in values:
                    holders = owners.get(value)
                    if holders is None:
                        owners[value] = {name}
                    else:
                        holders.add(name)
        for value in owners:
            if value.startswith("ip="):
                try:
                    book.taken_ips.add(ip_int(value[3:]))
                except OSError:
                    pass
        return book

    def set(self, name: str, values: tuple[str, ...]) -> None:
        old = self.held.pop(name, ())
        if values:
            self.held[name] = values
        if old == values:
            return
        for value in set(old).difference(values):  # a value kept is never freed (the allocator's cursor stays)
            holders = self.owners.get(value)
            if holders is not None:
                holders.discard(name)
                if not holders:
                    del self.owners[value]
                    if value.startswith("ip="):
                        self._free(value[3:])
        for value in set(values).difference(old):
            self.owners.setdefault(value, set()).add(name)
            if value.startswith("ip="):
                try:
                    self.taken_ips.add(ip_int(value[3:]))
                except OSError:
                    pass  # not an address (validation names it)

    def update(self, name: str, host: Host | None) -> None:
        self.set(name, addresses(host) if host is not None else ())

    def _free(self, ip: str) -> None:
        try:
            self.taken_ips.discard(ip_int(ip))
        except OSError:
            return
        self._cursor.clear()  # a freed address may be above a cursor

    def used(self, kind: str) -> set[str]:
        prefix = f"{kind}="
        return {value[len(prefix) :] for value in self.owners if value.startswith(prefix)}

    def holders(self, kind: str, value: str) -> set[str]:
        return self.owners.get(f"{kind}={value}", set())

    def next_ip(self, net_name: str, network, reserved: frozenset[int]) -> str:
        """The highest address of `network` (an IPv4Network) neither taken nor reserved, as Rocks
        counted (down from broadcast - 1); resumes where the previous call stopped while nothing
        was freed, so allocating ten thousand addresses is linear."""
        import ipaddress

        first, last = int(network.network_address) + 1, int(network.broadcast_address) - 1
        key = (first, last, reserved)
        value = min(self._cursor.get(key, last), last)
        while value >= first and (value in self.taken_ips or value in reserved):
            value -= 1
        if value < first:
            raise RocksccError(f'network "{net_name}" ({network}) has no free address left')
        self._cursor[key] = value
        return str(ipaddress.IPv4Address(value))
