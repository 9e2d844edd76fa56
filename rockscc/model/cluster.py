"""The cluster description as one object: records, lookups, attribute resolution, validation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from rockscc.errors import RocksccError
from rockscc.model import alloc, names, values
from rockscc.model.codec import SchemaError, decode, encode
from rockscc.model.hardware import Hardware
from rockscc.model.hosttable import HostTable
from rockscc.model.overlay import BUILTIN_BASE, Overlay
from rockscc.model.records import (
    Appliance,
    Host,
    Interface,
    Network,
    PxeAction,
    Roll,
    Settings,
)
from rockscc.model.rocksversion import DERIVED as ROCKS_DERIVED
from rockscc.model.rocksversion import rocks_intrinsics, rocks_version_of

ATTR_LEVELS = ("host", "appliance", "os", "global")
# attributes every host has from its record (intrinsic_attrs); Node_* are Rocks 5.0's spellings
INTRINSIC_ATTRS = frozenset(
    "hostname rack rank cpus appliance membership os arch hostaddr graph root bootflags ksmac".split()
)


def is_intrinsic(name: str) -> bool:
    return name in INTRINSIC_ATTRS or name.startswith("Node_")


_HOST_NAME = re.compile(r"^(?P<appliance>.+)-(?P<rack>\d+)-(?P<rank>\d+)$")


@dataclass
class Cluster:
    """The whole description: cluster.toml's records and the hosts (a lazy HostTable)."""

    cluster: Settings = field(default_factory=Settings)
    bootflags: str | None = None  # global boot flags
    attrs: dict[str, str] = field(default_factory=dict)  # global level
    os: dict[str, dict[str, str]] = field(default_factory=dict)  # os level: os -> attrs
    appliances: dict[str, Appliance] = field(default_factory=dict)
    networks: dict[str, Network] = field(default_factory=dict)
    pxeactions: dict[str, PxeAction] = field(default_factory=dict)
    hwprofiles: dict[str, Hardware] = field(default_factory=dict)
    rolls: dict[str, Roll] = field(default_factory=dict)
    hosts: dict[str, Host] = field(default_factory=dict)
    root: Path = field(default=Path("."), metadata={"key": True})

    # --- TOML ----------------------------------------------------------------------------------
    @classmethod
    def from_data(cls, data: dict, root: Path, *, strings_checked: bool = False) -> Cluster:
        """Decode a parsed cluster.toml; raises SchemaError naming the key path."""
        cluster = decode(cls, data, strings_checked=strings_checked)
        cluster.root = root
        return cluster

    def to_data(self, *, hosts: bool = True) -> dict:
        """The description as TOML data; `hosts=False`: what cluster.toml holds (no hosts)."""
        if hosts:
            return encode(self)
        table, self.hosts = self.hosts, {}
        try:
            return encode(self)
        finally:
            self.hosts = table

    def host_table(self) -> HostTable:
        """`hosts` as a HostTable (the store makes one; a description made in code has a dict)."""
        if not isinstance(self.hosts, HostTable):
            self.hosts = HostTable.of(self.hosts)
        return self.hosts

    # --- lookups -------------------------------------------------------------------------------
    def host(self, name: str) -> Host:
        try:
            return self.hosts[name]
        except KeyError:
            raise RocksccError(f'cannot resolve host "{name}"') from None

    def appliance_by_membership(self, membership: str) -> tuple[str, Appliance]:
        for name, appliance in self.appliances.items():
            if appliance.membership == membership or name == membership:
                return name, appliance
        known = ", ".join(f'"{a.membership}"' for a in self.appliances.values())
        raise RocksccError(f'membership "{membership}" is not defined (known: {known})')

    def check_appliance_enabled(self, appliance: Appliance) -> None:
        roll = self.rolls.get(appliance.roll) if appliance.roll else None
        if appliance.roll and (roll is None or not roll.enabled):
            raise RocksccError(
                f'appliance "{appliance.membership}" comes from roll "{appliance.roll}", which is disabled '
                f"(rockscc enable roll {appliance.roll})"
            )

    def appliance_name(self, host: Host) -> str:
        return self.appliance_by_membership(host.membership)[0]

    def appliance_of(self, host: Host) -> Appliance:
        return self.appliance_by_membership(host.membership)[1]

    def is_frontend(self, host: Host) -> bool:
        return self.appliance_name(host) == "frontend"

    def frontends(self) -> list[Host]:
        return [h for h in self.hosts.values() if self.is_frontend(h)]

    def is_vm_container(self, host: Host) -> bool:
        appliance = self.appliance_of(host)
        return appliance.node == "vm-container" or truthy(appliance.attrs.get("vm_container"))

    def hardware_of(self, host: Host) -> Hardware | None:
        if host.hardware is not None:
            return host.hardware
        if host.hwprofile:
            return self.hwprofiles.get(host.hwprofile)
        return None

    def private_interface(self, host: Host) -> Interface | None:
        for iface in host.interfaces:
            if iface.subnet == "private":
                return iface
        return host.interfaces[0] if host.interfaces else None

    def private_ip(self, host: Host) -> str | None:
        iface = self.private_interface(host)
        return iface.ip if iface else None

    def overlays(self) -> list[Overlay]:
        """Where node and graph files come from, in merge order: base, enabled rolls, site."""
        layers = [] if self.cluster.bare else [Overlay("base", BUILTIN_BASE)]
        for name, roll in self.rolls.items():
            if roll.enabled:
                path = self.roll_path(roll)
                if not path.is_dir():  # moved or unmounted: building without it would drop its nodes unsaid
                    raise RocksccError(
                        f'roll "{name}" is enabled but {path} is not a directory '
                        f"(put it back, or 'rockscc disable roll {name}' to build without it)"
                    )
                layers.append(Overlay(name, path))
        layers.append(Overlay("site", self.root))
        return layers

    def roll_path(self, roll: Roll) -> Path:
        if roll.path.startswith("builtin:"):  # rolls shipped with rockscc (rolls/<name>/)
            return BUILTIN_BASE / "rolls" / roll.path[len("builtin:") :]
        if roll.path.startswith("pkg:"):
            return package_dir(roll.path[4:])
        path = Path(roll.path)
        return path if path.is_absolute() else self.root / path

    # --- attributes ----------------------------------------------------------------------------
    def attr_levels(self, host: Host) -> list[tuple[str, dict[str, str]]]:
        """The attribute tables a host sees, least specific first: global, os, appliance, host."""
        return [
            ("global", self.attrs),
            ("os", self.os.get(host.os, {})),
            ("appliance", self.appliance_of(host).attrs),
            ("host", host.attrs),
        ]

    def attr_sources(self, host: Host) -> dict[str, tuple[str, str]]:
        """Every attribute of `host` with the level it comes from (host > appliance > os > global)."""
        resolved: dict[str, tuple[str, str]] = {}
        for level, table in self.attr_levels(host):
            for key, value in table.items():
                resolved[key] = (value, level)
        for key, value in self.intrinsic_attrs(host).items():
            resolved[key] = (value, "intrinsic")
        plain = {key: value for key, (value, _level) in resolved.items()}
        for key, value in rocks_intrinsics(plain).items():
            resolved.setdefault(key, (value, "rocks"))
        return resolved

    def attr(self, host: Host, name: str) -> str | None:
        """One attribute of a host, by the same precedence as resolve_attrs, without building the
        whole dictionary (hot in builds of thousands of hosts)."""
        if is_intrinsic(name):
            intrinsic = self.intrinsic_attrs(host)
            if name in intrinsic:
                return intrinsic[name]
        for _level, table in reversed(self.attr_levels(host)):
            if name in table:
                return table[name]
        if name in ROCKS_DERIVED:
            return self.resolve_attrs(host).get(name)
        return None

    def host_digests(self) -> dict[str, str]:
        """A digest of each host's record (the build's input stamps): kept in the host index for
        records as saved, so a build does not repr ten thousand hosts; computed for records
        changed since."""
        return self.host_table().digests()

    def resolve_attrs(self, host: Host) -> dict[str, str]:
        resolved: dict[str, str] = {}
        for _level, table in self.attr_levels(host):
            resolved.update(table)
        resolved.update(self.intrinsic_attrs(host))
        for key, value in rocks_intrinsics(resolved).items():  # defaults: a set attribute wins
            resolved.setdefault(key, value)
        return resolved

    def intrinsic_attrs(self, host: Host) -> dict[str, str]:
        """Values every host has from its record; Rocks 5.0 spelled them Node_*, 5.2+ in lower case."""
        appliance_name, appliance = self.appliance_by_membership(host.membership)
        address = self.private_ip(host) or ""
        return {
            "hostname": host.name,
            "rack": str(host.rack),
            "rank": str(host.rank),
            "cpus": str(host.cpus),
            "appliance": appliance_name,
            "membership": host.membership,
            "os": host.os,
            "arch": host.arch,
            "hostaddr": address,
            "graph": appliance.graph,
            "root": appliance.node,
            "bootflags": self.bootflags_of(host),
            "ksmac": self._install_mac(host),
            "Node_Hostname": host.name,
            "Node_Membership": host.membership,
            "Node_Address": address,
            "Node_Root": appliance.node,
            "Node_Architecture": host.arch,
            "Node_OS": host.os,
            "Node_Distribution": f"rocks-dist/lan/{host.arch}",
            "Node_DistName": "rocks-dist",
        }

    def _install_mac(self, host: Host) -> str:
        """Rocks 7's `ksmac`: the MAC the host kickstarts from (its private interface's)."""
        iface = self.private_interface(host)
        return (iface.mac or "") if iface else ""

    def bootflags_of(self, host: Host) -> str:
        """The host's kernel boot flags: its own, else the global ones (Rocks 5.0 boot table)."""
        if host.bootflags is not None:
            return host.bootflags
        return self.bootflags or ""

    # --- naming and allocation -----------------------------------------------------------------
    def infer_from_name(self, name: str) -> tuple[str, int, int] | None:
        """`compute-0-3` → (membership of appliance `compute`, rack 0, rank 3), as insert-ethers named hosts."""
        match = _HOST_NAME.match(name)
        if not match:
            return None
        prefix = match["appliance"]
        for app_name, appliance in self.appliances.items():
            if prefix in (app_name, appliance.short_name):
                return appliance.membership, int(match["rack"]), int(match["rank"])
        return None

    def used_ips(self) -> set[str]:
        return self.host_table().used("ip")  # from the rows: no record decoded for it

    def used_macs(self) -> set[str]:
        return self.host_table().used("mac")

    def next_ip(self, network: str, reserved: set[str] | frozenset = frozenset()) -> str:
        """The next free address, as Rocks counted (down from broadcast-1); `reserved` addresses
        (the DHCP discovery range) are skipped too."""
        if network not in self.networks:
            raise RocksccError(f'network "{network}" is not defined')
        return self.host_table().next_ip(
            network, alloc.network_of(self.networks[network]), alloc.as_ints(frozenset(reserved))
        )

    # --- host selection ------------------------------------------------------------------------
    def select_hosts(self, tokens: list[str], *, default_all: bool = True) -> list[Host]:
        """Hosts named by `tokens` (selection.py: names, ranges, appliances, racks, globs,
        addresses), sorted as Rocks lists them, no duplicates; no tokens: every host or none."""
        from rockscc.model.selection import select

        return [self.hosts[name] for name in select(self, tokens, default_all=default_all)]

    # --- validation ----------------------------------------------------------------------------
    def validate(self) -> None:
        """Check values and cross-references; raises SchemaError naming the offending key path."""
        memberships = {a.membership for a in self.appliances.values()}
        for name, host in self.hosts.items():
            self._validate_host(name, host, memberships)
        if self.hosts:
            self._validate_vm_slots(self.host_table().vm_slots())
        for name, appliance in self.appliances.items():
            _path_safe(("appliances", name), "appliance", name)
            values.check_appliance(("appliances", name), appliance)
            for key in appliance.attrs:
                _attr_name(("appliances", name, "attrs", key), key)
            _attr_values(("appliances", name, "attrs"), appliance.attrs)
        for name, net in self.networks.items():
            _path_safe(("networks", name), "network", name)
            try:
                alloc.network_of(net)
            except ValueError as exc:  # the key at fault: the subnet when it is no address, else the netmask
                key = "netmask" if names.is_ipv4(net.subnet) else "subnet"
                raise SchemaError(("networks", name, key), str(exc)) from None
            values.check_network(("networks", name), net)
        for scope, table in [(("attrs",), self.attrs)] + [(("os", o), t) for o, t in self.os.items()]:
            for key in table:
                _attr_name(scope + (key,), key)
            _attr_values(scope, table)
        for label, action in self.pxeactions.items():
            values.check_pxe_action(("pxeactions", label), action)
        for name, hardware in self.hwprofiles.items():
            _path_safe(("hwprofiles", name), "hardware profile", name)
            values.check_hardware(("hwprofiles", name), hardware)
        for name in self.rolls:
            _path_safe(("rolls", name), "roll", name)
        _path_safe(("cluster", "graph"), "graph", self.cluster.graph)
        self._validate_unique_addresses()
        self._validate_one_frontend()

    def _validate_host(self, name: str, host: Host, memberships: set[str] | None = None) -> None:
        self.validate_host_record(name, host, memberships)
        if host.vm and host.vm.container not in self.hosts:
            raise SchemaError(("hosts", name, "vm", "container"), f'VM container "{host.vm.container}" is not a host')

    def validate_host_record(self, name: str, host: Host, memberships: set[str] | None = None) -> None:
        """What one host's record must be, on its own (no other host looked at)."""
        if memberships is None:
            memberships = {a.membership for a in self.appliances.values()}
        path = ("hosts", name)
        try:
            names.check_host_name(name)
        except RocksccError as exc:
            raise SchemaError(path, exc.message) from None
        if host.membership not in memberships:
            raise SchemaError(path + ("membership",), f'membership "{host.membership}" is not defined')
        for i, iface in enumerate(host.interfaces):
            ipath = path + ("interfaces", i)
            if iface.subnet and iface.subnet not in self.networks:
                raise SchemaError(ipath + ("subnet",), f'network "{iface.subnet}" is not defined')
            for key, check in (("ip", names.check_ip), ("mac", names.normalize_mac)):
                value = getattr(iface, key)
                if value:
                    try:
                        check(value)
                    except RocksccError as exc:
                        raise SchemaError(ipath + (key,), exc.message) from None
        for key in host.attrs:
            _attr_name(path + ("attrs", key), key)
        _attr_values(path + ("attrs",), host.attrs)
        if host.pxeboot and host.pxeboot not in host.pxeactions and host.pxeboot not in self.pxeactions:
            raise SchemaError(path + ("pxeboot",), f'PXE action "{host.pxeboot}" is not defined')
        if host.hwprofile and host.hwprofile not in self.hwprofiles:
            raise SchemaError(path + ("hwprofile",), f'hardware profile "{host.hwprofile}" is not defined')
        values.check_host(path, host)

    def validate_changes(self, changed: dict[str, tuple[Host, dict]], removed: set[str]) -> None:
        """What validate() checks, for an edit that changed only these hosts: their records,
        and through the host index that no other host holds their addresses or VM slots and
        no VM is left on a removed container. Costs what the edit touched, not the cluster."""
        for name, (host, _data) in changed.items():
            self._validate_host(name, host)
        if changed:  # removing hosts makes no second frontend
            self._validate_one_frontend(blame=changed)
        self._validate_addresses_of({name: host for name, (host, _data) in changed.items()})
        if removed or any(host.vm for host, _ in changed.values()):
            self._validate_vm_slots(self.host_table().vm_slots())

    def end_command(self) -> None:
        """A command of a transaction ended (one line of a load): the hosts it looked at are
        checked now, so an error names the line that caused it, and settled in the address
        book. Raises SchemaError."""
        table = self.host_table()
        recent = {name: table[name] for name in table.recent() if name in table}
        for name, host in recent.items():
            self._validate_host(name, host)
        self._validate_one_frontend(blame=recent)
        table.end_command()
        table.book()  # a load's lines each ask: one book, made once, answers in O(1)
        self._validate_addresses_of(recent)

    def _validate_addresses_of(self, hosts: dict[str, Host]) -> None:
        """No other host holds these hosts' addresses or MACs (asked of the host table)."""
        table = self.host_table()
        for name, host in hosts.items():
            for i, iface in enumerate(host.interfaces):
                for key in ("ip", "mac"):
                    value = getattr(iface, key)
                    others = sorted(table.holders(key, value) - {name}) if value else []
                    if others:
                        raise SchemaError(
                            ("hosts", name, "interfaces", i, key),
                            f"{key.upper()} {value} is already used by host {others[0]}",
                        )

    def _validate_vm_slots(self, slots: dict[tuple[str, int], list[str]]) -> None:
        """Each VM's container is a host, and no two VMs share a slice of one container."""
        for (container, slot), vms in slots.items():
            if container not in self.hosts:
                raise SchemaError(("hosts", vms[0], "vm", "container"), f'VM container "{container}" is not a host')
            if len(vms) > 1:
                raise SchemaError(
                    ("hosts", vms[1], "vm", "slice"), f"slice {slot} of {container} is already VM {vms[0]}'s"
                )

    def _validate_one_frontend(self, blame=()) -> None:
        """At most one host is the frontend: its boot file is the TFTP tree's pxelinux.cfg/default,
        which a second one would claim too (Rocks has one frontend per cluster). The error names
        a host of `blame` (the hosts an edit changed) if one of them is a frontend, else the later
        one in the description. Memberships come from the host table's rows: no record decoded."""
        memberships = {a.membership for name, a in self.appliances.items() if name == "frontend"}
        table = self.host_table()
        if blame and not any(table.summary(name)[0] in memberships for name in blame if name in table):
            return  # only a host that is a frontend can make a second one: no scan per load line
        frontends = table.with_membership(memberships)
        if len(frontends) > 1:
            culprit = next((name for name in frontends if name in blame), frontends[-1])
            first = next(name for name in frontends if name != culprit)
            raise SchemaError(
                ("hosts", culprit, "membership"),
                f"{first} and {culprit} would both be the frontend (a cluster has one)",
            )

    def _validate_unique_addresses(self) -> None:
        seen_ip: dict[str, str] = {}
        seen_mac: dict[str, str] = {}
        for name, host in self.hosts.items():
            for i, iface in enumerate(host.interfaces):
                for key, seen in (("ip", seen_ip), ("mac", seen_mac)):
                    value = getattr(iface, key)
                    if not value:
                        continue
                    if value in seen and seen[value] != name:
                        raise SchemaError(
                            ("hosts", name, "interfaces", i, key),
                            f"{key.upper()} {value} is already used by host {seen[value]}",
                        )
                    seen[value] = name


def host_digest(host: Host) -> str:
    """A digest of a host's record (the build's input stamps)."""
    # hashlib's own blake2b (hashlib.blake2b is _blake2.blake2b): importing hashlib loads OpenSSL
    # (~5 ms), which an edit has no other use for
    from _blake2 import blake2b

    return blake2b(repr(host).encode(), digest_size=16).hexdigest()


def host_sort_key(host: Host) -> tuple:
    """Rocks listed hosts by appliance, rack, rank; the name breaks ties."""
    return sort_key(host.name, host.membership, host.rack, host.rank)


def sort_key(name: str, membership: str, rack: int, rank: int) -> tuple:
    match = _HOST_NAME.match(name)
    return (membership != "Frontend", match["appliance"] if match else name, rack, rank, name)


def truthy(value: str | None) -> bool:
    """An attribute value meaning yes (unset means no)."""
    return (value or "").strip().lower() in ("1", "on", "yes", "y", "true")


def _path_safe(path: tuple, kind: str, value: str) -> None:
    try:
        names.check_path_safe(kind, value)
    except RocksccError as exc:
        raise SchemaError(path, exc.message) from None


def _attr_values(path: tuple, table: dict[str, str]) -> None:
    """Attribute values rockscc itself reads in a syntax of its own (rocks_version: a number)."""
    if "rocks_version" in table:
        try:
            rocks_version_of({"rocks_version": table["rocks_version"]})
        except RocksccError as exc:
            raise SchemaError(path + ("rocks_version",), exc.message) from None


def _attr_name(path: tuple, key: str) -> None:
    try:
        names.check_attr_name(key)
    except RocksccError as exc:
        raise SchemaError(path, exc.message) from None


def package_dir(name: str) -> Path:
    """The directory of an installed package, found without running any of its code: `pkg:` is
    read from cluster.toml, and importing what a description names (`pkg:antigravity` opens a
    browser, a module in the directory the command runs from is anyone's code) would run it on
    the build host at every command. A dotted name is walked package by package, none imported."""
    import importlib.machinery
    import importlib.util

    parts = name.split(".")
    if not all(part.isidentifier() for part in parts):
        raise RocksccError(f'roll path "pkg:{name}": not a Python package name')
    spec = importlib.util.find_spec(parts[0])  # a top-level name: found, not imported
    for part in parts[1:]:
        locations = spec.submodule_search_locations if spec is not None else None
        spec = importlib.machinery.PathFinder.find_spec(part, list(locations)) if locations else None
    if spec is None or not spec.submodule_search_locations:
        raise RocksccError(f'roll path "pkg:{name}": no installed Python package of that name')
    return Path(list(spec.submodule_search_locations)[0])
