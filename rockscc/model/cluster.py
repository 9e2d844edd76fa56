"""The cluster description as one object: records, lookups, attribute resolution, validation."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

from rockscc.errors import RocksccError
from rockscc.model import alloc, names, values
from rockscc.model.codec import SchemaError, decode, encode
from rockscc.model.hardware import Hardware
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
INTRINSIC_ATTRS = frozenset("hostname rack rank cpus appliance membership os arch hostaddr graph root bootflags ksmac".split())


def is_intrinsic(name: str) -> bool:
    return name in INTRINSIC_ATTRS or name.startswith("Node_")
_HOST_NAME = re.compile(r"^(?P<appliance>.+)-(?P<rack>\d+)-(?P<rank>\d+)$")


@dataclass
class Cluster:
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

    def to_data(self) -> dict:
        return encode(self)

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
            raise RocksccError(f'appliance "{appliance.membership}" comes from roll "{appliance.roll}", which is disabled '
                               f'(rockscc enable roll {appliance.roll})')

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
                layers.append(Overlay(name, self.roll_path(roll)))
        layers.append(Overlay("site", self.root))
        return layers

    def roll_path(self, roll: Roll) -> Path:
        if roll.path.startswith("builtin:"):  # rolls shipped with rockscc (rolls/<name>/)
            return BUILTIN_BASE / "rolls" / roll.path[len("builtin:"):]
        if roll.path.startswith("pkg:"):
            import importlib

            module = importlib.import_module(roll.path[4:])
            return Path(module.__file__).parent
        path = Path(roll.path)
        return path if path.is_absolute() else self.root / path

    # --- attributes ----------------------------------------------------------------------------
    def attr_levels(self, host: Host) -> list[tuple[str, dict[str, str]]]:
        """The attribute tables a host sees, least specific first: global, os, appliance, host."""
        return [("global", self.attrs), ("os", self.os.get(host.os, {})),
                ("appliance", self.appliance_of(host).attrs), ("host", host.attrs)]

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
        """A digest of each host's record (the build's input stamps). The store computes them
        when it saves or first parses a description and keeps them with its parse cache, so a
        build of the description as loaded does not repr ten thousand hosts. A description
        opened for editing (store.transaction) has none attached: it computes them afresh."""
        attached = getattr(self, "_host_digests", None)
        if attached is not None:
            return attached
        return {name: host_digest(host) for name, host in self.hosts.items()}

    def attach_host_digests(self, digests: dict[str, str] | None) -> None:
        self._host_digests = digests

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
        return {i.ip for h in self.hosts.values() for i in h.interfaces if i.ip}

    def used_macs(self) -> set[str]:
        return {i.mac for h in self.hosts.values() for i in h.interfaces if i.mac}

    def next_ip(self, network: str, reserved: set[str] | frozenset = frozenset()) -> str:
        """The next free address, as Rocks counted (down from broadcast-1); `reserved` addresses
        (the DHCP discovery range) are skipped too."""
        if network not in self.networks:
            raise RocksccError(f'network "{network}" is not defined')
        return alloc.next_free_ip(network, self.networks[network], self.used_ips() | reserved)

    # --- host selection ------------------------------------------------------------------------
    def select_hosts(self, tokens: list[str], *, default_all: bool = True) -> list[Host]:
        """Expand host names, appliance names, `rackN` and shell globs; sorted, no duplicates."""
        if not tokens:
            return sorted(self.hosts.values(), key=host_sort_key) if default_all else []
        chosen: dict[str, Host] = {}
        for token in tokens:
            matched = self._match_token(token)
            if not matched:
                raise RocksccError(f'cannot resolve host "{token}"')
            for host in matched:
                chosen[host.name] = host
        return sorted(chosen.values(), key=host_sort_key)

    def _match_token(self, token: str) -> list[Host]:
        if token in self.hosts:
            return [self.hosts[token]]
        if token in self.appliances:
            membership = self.appliances[token].membership
            return [h for h in self.hosts.values() if h.membership == membership]
        rack = re.fullmatch(r"rack(\d+)", token)
        if rack:
            return [h for h in self.hosts.values() if h.rack == int(rack[1]) and not self.is_frontend(h)]
        if any(c in token for c in "*?["):
            return [h for h in self.hosts.values() if fnmatch.fnmatchcase(h.name, token)]
        for host in self.hosts.values():  # an interface name or address
            if any(token in (i.ip, i.name) for i in host.interfaces):
                return [host]
        return []

    # --- validation ----------------------------------------------------------------------------
    def validate(self) -> None:
        """Check values and cross-references; raises SchemaError naming the offending key path."""
        memberships = {a.membership for a in self.appliances.values()}
        for name, host in self.hosts.items():
            self._validate_host(name, host, memberships)
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
            except ValueError as exc:
                raise SchemaError(("networks", name, "subnet"), str(exc)) from None
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

    def _validate_host(self, name: str, host: Host, memberships: set[str]) -> None:
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
        if host.vm:
            container = self.hosts.get(host.vm.container)
            if container is None:
                raise SchemaError(path + ("vm", "container"), f'VM container "{host.vm.container}" is not a host')
        values.check_host(path, host)

    def validate_new_host(self, name: str) -> None:
        """What validate() checks of one host just added (its fields, references, and that its
        addresses are no other host's), without checking the rest again."""
        host = self.hosts[name]
        self._validate_host(name, host, {a.membership for a in self.appliances.values()})
        mine = {getattr(iface, key) for iface in host.interfaces for key in ("ip", "mac")} - {None, ""}
        if not mine:
            return
        others = {getattr(iface, key): other for other, h in self.hosts.items() if other != name
                  for iface in h.interfaces for key in ("ip", "mac")}
        for i, iface in enumerate(host.interfaces):
            for key in ("ip", "mac"):
                value = getattr(iface, key)
                if value and value in others:
                    raise SchemaError(("hosts", name, "interfaces", i, key),
                                      f"{key.upper()} {value} is already used by host {others[value]}")

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
    import hashlib

    return hashlib.blake2b(repr(host).encode(), digest_size=16).hexdigest()


def host_sort_key(host: Host) -> tuple:
    """Rocks listed hosts by appliance, rack, rank; the name breaks ties."""
    match = _HOST_NAME.match(host.name)
    return (host.membership != "Frontend", match["appliance"] if match else host.name, host.rack, host.rank, host.name)


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
