"""`cluster.hosts`: every host of the description, each record made only when it is used.

The store hands the table its view of the host files (store.HostFiles: the names listed, each
host's index row checked against its file when first asked for); a record is decoded from its
row the first time a command looks at it. Names, memberships, racks, ranks, VM slots and the
addresses of every host are answered from the rows, and a single edit's questions (who holds
this address, which hosts are VMs or frontends, the highest free address) through the index's
lookups, so selecting, allocating and checking one host against the others reads none of the
others' records. What a transaction changed is what it looked at and now encodes differently
(`changes`): only those hosts are validated and written.

Addresses (`AddressBook`) are kept up to date as commands edit records in place: a record a
command took out may change at any time until the command ends, so queries re-read the records
taken since the last command boundary (`end_command`, which the command line calls after each
command, `load` after each line) — a handful each, which keeps a load of ten thousand lines
linear.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING

from rockscc.errors import RocksccError
from rockscc.model.alloc import ip_int
from rockscc.model.codec import decode_trusted, encode
from rockscc.model.hostindex import Row, addresses
from rockscc.model.records import Host

if TYPE_CHECKING:
    from rockscc.model.store import HostFiles


class HostTable(MutableMapping):
    def __init__(self, files: HostFiles | None = None) -> None:
        self.view = files  # the host files as loaded (store.HostFiles): rows checked before use
        self._listing: dict[str, None] | None = None if files is not None else {}  # every name, made on demand
        self._added: dict[str, None] = {}  # names set here while the listing is not made (in order)
        self._records: dict[str, Host] = {}
        self._original: dict[str, str] = {}  # the JSON each record was decoded from (the record shares its
        # lists and tables with what it was decoded from: only the text stays as loaded)
        self._deleted: set[str] = set()  # names deleted in this transaction (some may be back)
        self._recent: set[str] = set()  # records taken out since the last command boundary
        self._book: AddressBook | None = None
        self.renamed: dict[str, str] = {}  # new name → the loaded host it was (its file's text is kept)

    @classmethod
    def of(cls, hosts: dict[str, Host]) -> HostTable:
        """A table of records made in code (no rows): all of them new."""
        table = cls()
        for name, host in hosts.items():
            table[name] = host
        return table

    # --- the mapping ---------------------------------------------------------------------------
    @property
    def _names(self) -> dict[str, None]:
        """Every host name, in order (the loaded ones by name, then those added): made the first
        time a command asks for all hosts — one edit of ten thousand never does."""
        if self._listing is None:
            names = dict.fromkeys(self.view.names)
            for name in self._deleted:
                names.pop(name, None)
            names.update(self._added)
            self._listing = names
        return self._listing

    def __getitem__(self, name: str) -> Host:
        host = self._records.get(name)
        if host is None:
            if name not in self:
                raise KeyError(name)
            host = self._records[name] = self._decode(name)
        self._recent.add(name)
        return host

    def _decode(self, name: str) -> Host:
        text = self.view.data(name)
        data = json.loads(text)
        host = decode_trusted(Host, data)  # checked when its file was read (the row is that file's)
        host.name = name
        self._original[name] = text
        return host

    def is_new(self, name: str) -> bool:
        """Whether a changed host is new in this transaction (added, or a rename's new name): a
        host that was loaded was decoded from its original before it could change."""
        return name not in self._original

    def loaded_row(self, name: str) -> Row | None:
        """The row of a host as loaded (checked against its file), None for a host new here."""
        if self.view is None or not self.view.has(name):
            return None
        return self.view.row(name)

    def check_files(self) -> None:
        """Check every host file against the index now (read and check what changed), as a
        command using all hosts does; raises RocksccError naming a file and line."""
        if self.view is not None:
            self.view.verify_all()

    def _all_rows(self) -> dict[str, Row]:
        """Every loaded host's row (every file checked once: a command using all hosts)."""
        if self.view is None:
            return {}
        self.view.verify_all()
        return self.view.rows

    def __setitem__(self, name: str, host: Host) -> None:
        if self._listing is not None:
            self._listing[name] = None
        elif name in self._deleted or not self.view.has(name):
            self._added[name] = None
        self._records[name] = host
        self._recent.add(name)
        if self._book is not None:
            self._book.update(name, host)

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        if self._listing is not None:
            del self._listing[name]
        self._added.pop(name, None)
        self._deleted.add(name)
        self._records.pop(name, None)
        self._recent.discard(name)
        if self._book is not None:
            self._book.update(name, None)

    def __contains__(self, name: object) -> bool:
        if self._listing is not None:
            return name in self._listing
        if name in self._added:
            return True
        return isinstance(name, str) and name not in self._deleted and self.view.has(name)

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
        row = self.view.row(name)
        return row.membership, row.rack, row.rank

    def listed(self, names: list[str]) -> list[list]:
        """[name, membership, cpus, rack, rank, os, arch, comment] of each host (what `list host`
        prints): from its record if taken out, else from its row, checked against its file (all
        files at once past a few hosts) — listing ten thousand hosts decodes no record."""
        out = []
        for name in names:
            h = self._records.get(name)  # a Host, or else its Row: the same names for these fields
            if h is None:
                h = self.view.row(name)
            out.append([name, h.membership, h.cpus, h.rack, h.rank, h.os, h.arch, h.comment])
        return out

    def ranks(self, membership: str, rack: int) -> set[int]:
        """The ranks hosts of `membership` hold in `rack` (every file checked; no record decoded)."""
        rows, taken, gone = self._all_rows(), self._records, self._deleted
        found = {
            row.rank
            for name, row in rows.items()
            if row.rack == rack and row.membership == membership and name not in taken and name not in gone
        }
        return found | {h.rank for h in taken.values() if h.membership == membership and h.rack == rack}

    def vm_container(self, name: str) -> str | None:
        """The container of a VM (None: not a VM), from its record if taken out, else from its row."""
        row = self.loaded_row(name) if name not in self._records else None
        if row is None:
            vm = self[name].vm
            return vm.container if vm else None
        return row.container

    def containers(self) -> dict[str, str]:
        """VM name → its container, every VM of the table (from the rows where no record was taken
        out: every file checked, as a build does; no row fetched)."""
        taken = self._records
        found = self.view.containers() if self.view is not None else {}
        out = {name: container for name, container in found.items() if name not in taken and name in self}
        for name in [name for name in taken if name in self]:
            vm = self[name].vm
            if vm is not None:
                out[name] = vm.container
        return out

    def vm_slots(self) -> dict[tuple[str, int], list[str]]:
        """(container, slice) → the VMs there, every host of the table."""
        maybe = set(self._records) | (self.view.vms() if self.view is not None else set())
        slots: dict[tuple[str, int], list[str]] = {}
        for name in sorted(maybe) if self._listing is None else self._names:
            if name not in maybe or name not in self:
                continue
            host = self._records.get(name)
            if host is not None:
                key = (host.vm.container, host.vm.slice) if host.vm else None
            else:
                row = self.view.row(name)
                key = (row.container, row.slot) if row.container is not None else None
            if key is not None:
                slots.setdefault(key, []).append(name)
        return slots

    def with_membership(self, memberships: set[str]) -> list[str]:
        """The hosts of these memberships, in table order (an indexed lookup; rows checked)."""
        maybe = {name for name, host in self._records.items() if host.membership in memberships}
        if self.view is not None:
            maybe.update(n for m in memberships for n in self.view.members(m))
        order = sorted(maybe) if self._listing is None else self._names
        return [name for name in order if name in maybe and name in self and self.summary(name)[0] in memberships]

    def next_ip(self, net_name: str, network, reserved: frozenset[int]) -> str:
        """The highest address of `network` (an IPv4Network) neither held nor reserved, as Rocks
        counted (down from broadcast - 1): from the address book in a load, else through the
        index (a run of held addresses skipped in one lookup), each candidate checked against
        the records taken out and its holders' files."""
        if self._book is not None or self.view is None:
            return self.book().next_ip(net_name, network, reserved)
        import ipaddress

        first, top = int(network.network_address) + 1, int(network.broadcast_address) - 1
        value = top
        while True:
            found = self.view.index.highest_free(value, first, top)
            if found is None:
                raise RocksccError(f'network "{net_name}" ({network}) has no free address left')
            ip = str(ipaddress.IPv4Address(found))
            if found not in reserved and not self.holders("ip", ip):
                return ip
            value = found - 1

    def book(self) -> AddressBook:
        """Every host's addresses, up to date with the records commands took out (made on first
        use: allocation, selection by address, a load)."""
        if self._book is None:
            rows = self._all_rows()
            self._book = AddressBook.of(
                {
                    name: addresses(self._records[name]) if name in self._records else tuple(rows[name].addrs.split())
                    for name in self._names
                }
            )
        for name in self._recent:
            self._book.update(name, self._records.get(name))
        return self._book

    def holders(self, kind: str, value: str) -> set[str]:
        """The hosts holding an address, MAC or interface name: from the book if one is made,
        else the records taken out and the rows the index names as holders (each checked
        against its file): an indexed lookup, whatever the number of hosts."""
        if self._book is not None:
            return set(self.book().holders(kind, value))
        key = f"{kind}={value}"
        found = {name for name, host in self._records.items() if name in self and key in addresses(host)}
        if self.view is not None:
            token = f" {key} "
            for name in self.view.holders(key):
                if name not in self._records and name in self and token in self.view.row(name).addrs:
                    found.add(name)
        return found

    def used(self, kind: str) -> set[str]:
        """Every value of `kind` ("ip", "mac", "name") some host holds: from the address book if
        one is made, else from the rows (every file checked) and the records taken out."""
        if self._book is not None or self.view is None:
            return self.book().used(kind)
        rows, taken, prefix = self._all_rows(), self._records, f"{kind}="
        values = " ".join(rows[name].addrs for name in self._names if name not in taken).split()  # one split
        values += [value for name in self._names if name in taken for value in addresses(taken[name])]
        return {value[len(prefix) :] for value in values if value.startswith(prefix)}

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
        removed = {name for name in self._deleted if name not in self and self.view is not None and self.view.has(name)}
        return changed, removed

    def original(self, name: str) -> dict | None:
        """The record of a host as loaded (encoded), None for a host new in this transaction."""
        if name in self._original:
            return json.loads(self._original[name])
        if self.loaded_row(name) is None:
            return None
        return json.loads(self.view.data(name))

    def rebase(self, rows: dict[str, Row], removed: set[str]) -> None:
        """The table as just saved: `rows` are the new rows of the hosts written."""
        if self.view is not None:
            self.view.rebase(rows, removed)
        self._deleted.clear()
        self._added.clear()  # the view has them now
        self.renamed.clear()
        for name in rows:
            self._original[name] = rows[name].data
        for name in removed:
            self._original.pop(name, None)

    def digest(self, name: str) -> str:
        """The record's digest: its row's while the record is unchanged, else computed."""
        from rockscc.model.cluster import host_digest

        host = self._records.get(name)
        if host is None:
            return self.view.digest(name)
        if name in self._original and encode(host) == json.loads(self._original[name]):
            return self.view.digest(name)
        return host_digest(host)

    def digests(self) -> dict[str, str]:
        if self.view is None:
            return {name: self.digest(name) for name in self._names}
        found = self.view.digests()  # every file checked
        if not self._records:  # nothing taken out (a build): every digest is its row's
            return {name: found[name] for name in self._names}
        return {name: self.digest(name) for name in self._names}


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
