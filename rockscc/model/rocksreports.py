"""What Rocks' `report host network|interface|route|firewall` read from Rocks' database, taken
from the description: a host's interfaces on its networks, its default route, Rocks' standard
static routes and firewall rules. (backends/rocks_reports.py writes them out.)"""

from __future__ import annotations

from dataclasses import dataclass

from rockscc.model.cluster import Cluster
from rockscc.model.records import Host


@dataclass(frozen=True)
class Iface:
    device: str
    mac: str = ""
    ip: str = ""
    netmask: str = ""
    mtu: int | None = None
    module: str = ""
    vlan: int | None = None
    options: str = ""
    on_network: bool = False  # has a subnet (Rocks: an active interface)


@dataclass(frozen=True)
class FirewallRule:
    name: str  # A15-ALL-LOCAL: rules are written sorted by name
    category: str  # global | host
    chain: str
    action: str
    in_device: str | None = None  # None: any (network=all)
    out_device: str | None = None
    service: str = "all"
    protocol: str = "all"
    flags: str = ""
    comment: str = ""


# the routes Rocks 7's frontend install adds for every host (core nodes/database-data.xml:
# `rocks add route 224.0.0.0 private netmask=255.255.255.0`, `… 255.255.255.255 private …`)
STANDARD_ROUTES = (("224.0.0.0", "255.255.255.0", "private"), ("255.255.255.255", "255.255.255.255", "private"))

# the global rules Rocks 7's frontend install adds (base nodes/server-firewall.xml, `rocks add
# firewall global …`): (name, network, service, protocol, action, chain, flags)
GLOBAL_RULES = (
    ("A15-ALL-LOCAL", "all", "all", "all", "ACCEPT", "INPUT", "-i lo"),
    ("A20-ALL-PRIVATE", "private", "all", "all", "ACCEPT", "INPUT", ""),
    ("A20-SSH-PUBLIC", "public", "ssh", "tcp", "ACCEPT", "INPUT", "-m state --state NEW"),
    ("A30-RELATED-PUBLIC", "public", "all", "all", "ACCEPT", "INPUT", "-m state --state RELATED,ESTABLISHED"),
    ("R900-PRIVILEGED-TCP", "public", "all", "tcp", "REJECT", "INPUT", "--dport 0:1023"),
    ("R900-PRIVILEGED-UDP", "public", "all", "udp", "REJECT", "INPUT", "--dport 0:1023"),
)


def device_on(host: Host, network: str) -> str | None:
    """The host's device on a network (Rocks skips vlan and ipmi devices there)."""
    for iface in host.interfaces:
        if iface.subnet == network and not iface.device.startswith(("vlan", "ipmi")):
            return iface.device
    return None


def primary(cluster: Cluster, host: Host) -> tuple[str | None, str | None, str]:
    """(fully qualified name, device, network) on the host's primary network (attribute
    primary_net, default private), as report host network finds them."""
    network = cluster.attr(host, "primary_net") or "private"
    for iface in host.interfaces:
        if iface.subnet == network and iface.device != "ipmi":
            net = cluster.networks.get(network)
            name = iface.name or host.name
            if "." not in name and net is not None and net.dnszone:
                name = f"{name}.{net.dnszone}"
            return name, iface.device, network
    return None, None, network


def default_gateway(cluster: Cluster, host: Host, network: str) -> str | None:
    """Rocks' default route: the public gateway for a host whose primary network is public (the
    frontend), else the private one (core database-data.xml's global 0.0.0.0 route)."""
    name = "Kickstart_PublicGateway" if network == "public" else "Kickstart_PrivateGateway"
    return cluster.attr(host, name)


def interfaces(cluster: Cluster, host: Host) -> list[Iface]:
    found = []
    for iface in host.interfaces:
        net = cluster.networks.get(iface.subnet or "")
        found.append(
            Iface(
                iface.device,
                iface.mac or "",
                iface.ip or "",
                net.netmask if net else "",
                net.mtu if net else None,
                iface.module or "",
                iface.vlan,
                "",
                net is not None,
            )
        )
    return found


def routes(host: Host) -> list[tuple[str, str, str]]:
    """Rocks' standard routes with their network resolved to the host's device on it."""
    return [
        (network, netmask, device)
        for network, netmask, via in STANDARD_ROUTES
        if (device := device_on(host, via)) is not None
    ]


def firewall(host: Host) -> list[FirewallRule]:
    rules = []
    for name, network, service, protocol, action, chain, flags in GLOBAL_RULES:
        device = None if network == "all" else device_on(host, network)
        if network != "all" and device is None:
            continue  # Rocks: a rule for a network the host is not on is left out
        rules.append(FirewallRule(name, "global", chain, action, device, None, service, protocol, flags))
    return rules
