"""The description as rockscc command lines (`rockscc dump`): loading them (`rockscc load`)
into any description recreates this one exactly.

Each section is a function from the cluster to command lines; SECTIONS lists them in an order
where every line only refers to what earlier lines created. A model field no command can set yet
is an error, never silently left out.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from rockscc.errors import RocksccError
from rockscc.model import Cluster, Host, format_size
from rockscc.model.cluster import host_sort_key


class Arg:
    """A positional argument of a dumped line with its name: written as a word where the command
    line reads it as that argument, else as name=value (a value holding "=", starting with "-",
    or the word "help" would be read as a parameter, an option or a request for help)."""

    def __init__(self, name: str, value) -> None:
        self.name, self.value = name, str(value)

    @property
    def positional(self) -> bool:
        return "=" not in self.value and not self.value.startswith("-") and self.value != "help"


def line(*words, **params) -> str:
    parts = ["rockscc"]
    for word in words:
        if isinstance(word, Arg) and not word.positional:
            params[word.name] = word.value
        else:
            parts.append(word.value if isinstance(word, Arg) else word)
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "yes" if value else "no"
        parts.append(f"{key.replace('_', '-')}={value}")
    return " ".join(shlex.quote(str(p)) for p in parts)


def _settings(c: Cluster) -> Iterator[str]:
    yield line("clear", "cluster")
    yield line("set", "cluster", name=c.cluster.name, graph=c.cluster.graph, bare=c.cluster.bare)
    if c.bootflags is not None:
        yield line("set", "host", "bootflags", flags=c.bootflags)


def _networks(c: Cluster) -> Iterator[str]:
    for name, n in c.networks.items():
        yield line("add", "network", name, subnet=n.subnet, netmask=n.netmask, mtu=n.mtu, dnszone=n.dnszone)


def _roll_line(c: Cluster, name: str) -> str:
    roll = c.rolls[name]
    return line("add", "roll", Arg("path", roll.path), name=name, enabled=roll.enabled)


def _appliances(c: Cluster) -> Iterator[str]:
    """Appliances in their order; a roll is added where its first appliance stands, so the
    loaded description lists everything in the same order."""
    from rockscc.model.rolls import read_meta

    added: set[str] = set()
    for name, a in c.appliances.items():
        if a.roll and a.roll not in added:
            added.add(a.roll)
            yield _roll_line(c, a.roll)
        if a.roll:  # added by its roll's line; only its attributes may differ
            meta = read_meta(c.roll_path(c.rolls[a.roll]), a.roll).appliances.get(name)
            for key in sorted(set(meta.attrs if meta else {}) - set(a.attrs)):
                yield line("remove", "appliance", "attr", name, Arg("attr", key))
        else:
            yield line(
                "add",
                "appliance",
                name,
                membership=a.membership,
                node=a.node,
                graph=a.graph,
                short_name=a.short_name,
                schedulable=a.schedulable,
                public=a.public,
                os=a.os,
            )
        for key, value in a.attrs.items():
            yield line("set", "appliance", "attr", name, Arg("attr", key), Arg("value", value))
    for name in c.rolls:
        if name not in added:
            yield _roll_line(c, name)


def _attrs(c: Cluster) -> Iterator[str]:
    for key, value in c.attrs.items():
        yield line("set", "attr", Arg("attr", key), Arg("value", value))
    for os_name, table in c.os.items():
        for key, value in table.items():
            yield line("set", "os", "attr", os_name, Arg("attr", key), Arg("value", value))


def _pxeactions(c: Cluster) -> Iterator[str]:
    for label, a in c.pxeactions.items():
        yield line("add", "host", "pxeaction", action=label, command=a.command, args=a.args)


def _hwprofiles(c: Cluster) -> Iterator[str]:
    for name, hw in c.hwprofiles.items():
        if any(d.partitions for d in hw.disks):
            raise RocksccError(
                f"dump: hardware profile {name} declares existing partitions, which cannot be dumped yet"
            )
        yield line(
            "add",
            "hwprofile",
            name,
            disks=_disks(hw.disks),
            raids=_raids(hw.raids) or None,
            frontend=hw.frontend or None,
        )


def _disks(disks) -> str:
    return ",".join(
        f"{d.name}:{format_size(d.size)}" + (f":{d.sector_size}" if d.sector_size != 512 else "") for d in disks
    )


def _raids(raids) -> str:
    return ",".join(
        f"{r.name}:{r.level}:{'+'.join(r.members)}" + (f":{r.mountpoint}" if r.mountpoint else "") for r in raids
    )


def _hosts(c: Cluster) -> Iterator[str]:
    hosts = sorted(c.hosts.values(), key=lambda h: (h.vm is not None, host_sort_key(h)))  # containers before VMs
    for h in hosts:
        yield from _host(h)


def _host(h: Host) -> Iterator[str]:
    if h.partitions or (h.hardware and (h.hardware.raids or h.hardware.frontend)):
        raise RocksccError(f"dump: host {h.name} has recorded partitions or its own raids, which cannot be dumped yet")
    yield line(
        "add",
        "host",
        Arg("host", h.name),
        membership=h.membership,
        rack=h.rack,
        rank=h.rank,
        cpus=h.cpus,
        os=h.os,
        arch=h.arch,
        ip="none",
        comment=h.comment,
    )
    for i in h.interfaces:
        yield line(
            "add",
            "host",
            "interface",
            Arg("host", h.name),
            i.device,
            ip=i.ip,
            mac=i.mac,
            subnet=i.subnet,
            name=i.name,
            module=i.module,
            vlan=i.vlan,
        )
    for key, value in h.attrs.items():
        yield line("set", "host", "attr", Arg("host", h.name), Arg("attr", key), Arg("value", value))
    for label, a in h.pxeactions.items():
        yield line("add", "host", "pxeaction", Arg("host", h.name), action=label, command=a.command, args=a.args)
    yield (
        line("set", "host", "pxeboot", Arg("host", h.name), action=h.pxeboot)
        if h.pxeboot
        else line("remove", "host", "pxeboot", Arg("host", h.name))
    )
    if h.bootflags is not None:
        yield line("set", "host", "bootflags", Arg("host", h.name), flags=h.bootflags)
    if h.vm is not None:
        yield vm_line(h)
    for disk in h.hardware.disks if h.hardware else []:  # before the profile: own disks replace its
        yield line(
            "add", "host", "disk", Arg("host", h.name), disk.name, size=format_size(disk.size), sector=disk.sector_size
        )
        for p in disk.partitions:
            yield line(
                "add",
                "host",
                "disk",
                "partition",
                Arg("host", h.name),
                p.device,
                start=p.start,
                size=format_size(p.size),
                fstype=p.fstype,
                mountpoint=p.mountpoint or None,
                rocks_release=p.rocks_release,
            )
    if h.hwprofile:
        yield line("set", "host", "hwprofile", Arg("host", h.name), Arg("hwprofile", h.hwprofile))


def vm_line(h: Host) -> str:
    vm = h.vm
    return line(
        "set",
        "host",
        "vm",
        Arg("host", h.name),
        physnode=vm.container,
        disk=" ".join(d.spec() for d in vm.disks),
        disksize=" ".join(str(d.size) for d in vm.disks),
        mem=vm.mem,
        slice=vm.slice,
        virt_type=vm.virt_type,
    )


SECTIONS = [_settings, _networks, _appliances, _attrs, _pxeactions, _hwprofiles, _hosts]


def dump(cluster: Cluster) -> Iterator[str]:
    for section in SECTIONS:
        yield from section(cluster)
