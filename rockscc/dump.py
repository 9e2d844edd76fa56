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
from rockscc.model import Cluster, Host
from rockscc.model.cluster import host_sort_key


def line(*words: str, **params) -> str:
    parts = ["rockscc", *words]
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


def _appliances(c: Cluster) -> Iterator[str]:
    for name, a in c.appliances.items():
        if a.roll:
            raise RocksccError(f"dump: appliance {name} comes from roll {a.roll}; rolls cannot be dumped yet")
        yield line("add", "appliance", name, membership=a.membership, node=a.node, graph=a.graph,
                   short_name=a.short_name, schedulable=a.schedulable, public=a.public, os=a.os)
        for key, value in a.attrs.items():
            yield line("set", "appliance", "attr", name, key, value)


def _attrs(c: Cluster) -> Iterator[str]:
    for key, value in c.attrs.items():
        yield line("set", "attr", key, value)
    for os_name, table in c.os.items():
        for key, value in table.items():
            yield line("set", "os", "attr", os_name, key, value)


def _pxeactions(c: Cluster) -> Iterator[str]:
    for label, a in c.pxeactions.items():
        yield line("add", "host", "pxeaction", action=label, command=a.command, args=a.args)


def _unsupported(c: Cluster) -> None:
    if c.hwprofiles:
        raise RocksccError("dump: hardware profiles cannot be dumped yet")
    if c.rolls:
        raise RocksccError("dump: rolls cannot be dumped yet")


def _hosts(c: Cluster) -> Iterator[str]:
    _unsupported(c)
    hosts = sorted(c.hosts.values(), key=lambda h: (h.vm is not None, host_sort_key(h)))  # containers before VMs
    for h in hosts:
        yield from _host(h)


def _host(h: Host) -> Iterator[str]:
    if h.hardware or h.hwprofile or h.partitions:
        raise RocksccError(f"dump: host {h.name} has hardware or partitions, which cannot be dumped yet")
    yield line("add", "host", h.name, membership=h.membership, rack=h.rack, rank=h.rank, cpus=h.cpus,
               os=h.os, arch=h.arch, ip="none", comment=h.comment)
    for i in h.interfaces:
        yield line("add", "host", "interface", h.name, i.device, ip=i.ip, mac=i.mac, subnet=i.subnet,
                   name=i.name, module=i.module, vlan=i.vlan)
    for key, value in h.attrs.items():
        yield line("set", "host", "attr", h.name, key, value)
    for label, a in h.pxeactions.items():
        yield line("add", "host", "pxeaction", h.name, action=label, command=a.command, args=a.args)
    yield line("set", "host", "pxeboot", h.name, action=h.pxeboot) if h.pxeboot else line("remove", "host", "pxeboot", h.name)
    if h.bootflags is not None:
        yield line("set", "host", "bootflags", h.name, flags=h.bootflags)
    if h.vm is not None:
        yield vm_line(h)


def vm_line(h: Host) -> str:
    vm = h.vm
    return line("set", "host", "vm", h.name, physnode=vm.container, disk=" ".join(d.spec() for d in vm.disks),
                disksize=" ".join(str(d.size) for d in vm.disks), mem=vm.mem, slice=vm.slice, virt_type=vm.virt_type)


SECTIONS = [_settings, _networks, _appliances, _attrs, _pxeactions, _hosts]


def dump(cluster: Cluster) -> Iterator[str]:
    for section in SECTIONS:
        yield from section(cluster)
