"""The plain data the provisioning service configs are rendered from (a build job's spec):
the server's address, the private network and its domain, the optional discovery range, and
per host its name, address, MAC and whether iPXE clients get its iPXE script.

Values that end up inside a config file are checked here, once, with a message naming the
attribute: an address must be an address, a domain a domain. The renderers then only quote."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any

from rockscc.errors import RocksccError
from rockscc.model import Cluster
from rockscc.model.alloc import hex_ip, network_of
from rockscc.model.cluster import truthy

_LABEL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
IPXE_SCRIPT_URL = "http://{server}/ipxe/${{hostname}}.ipxe"  # iPXE expands ${hostname} (DHCP option 12)
UEFI_LOADER = "bootx64.efi"  # grub, built by provision/tftp.py
BIOS_LOADER = "pxelinux.0"


def network_spec(cluster: Cluster, outdir: Path) -> dict[str, Any]:
    """Everything the network files depend on (hosts, dhcpd.conf, dnsmasq, DNS zones, nginx).
    Without a private network or a kickstart host there is nothing to serve: hosts and
    dhcpd.conf only (next_server "", network None)."""
    private = cluster.networks.get("private")
    server = cluster.attrs.get("Kickstart_PrivateKickstartHost")
    return {
        "outdir": str(outdir),
        "next_server": kickstart_server(server) if server else "",
        "domain": dns_domain(cluster),
        "network": str(network_of(private)) if private else None,
        "discovery": discovery_range(cluster),
        "basedir": basedir(cluster.attrs.get("Kickstart_PrivateKickstartBasedir")),
        "tree": cluster.attrs.get("install_tree") or None,
        "frontend": cluster.attrs.get("Kickstart_PrivateHostname") or None,
        "hosts": host_entries(cluster),
    }


_entries: tuple = (None, None, None)  # (cluster, its host digests, entries): the last description's


def host_entries(cluster: Cluster) -> list[dict[str, Any]]:
    """Hosts with a private address, by name: name, ip, mac (or None), hexip, ipxe.

    A build asks twice (the network files, the service configs). A description as loaded or
    saved carries its host digests (model/store.py), which change whenever a host does: the
    entries are kept for those, so ten thousand hosts are gone through once per build. A
    description being edited has none attached and is always gone through."""
    global _entries
    digests = getattr(cluster, "_host_digests", None)
    if digests is not None and _entries[0] is cluster and _entries[1] is digests:
        return _entries[2]
    entries = _host_entries(cluster)
    if digests is not None:
        _entries = (cluster, digests, entries)
    return entries


def _host_entries(cluster: Cluster) -> list[dict[str, Any]]:
    ipxe = host_flag(cluster, "pxe_ipxe", default=True)
    entries = []
    for name in sorted(cluster.hosts):
        host = cluster.hosts[name]
        iface = cluster.private_interface(host)
        if iface is None or not iface.ip:
            continue
        entries.append({"name": name, "ip": iface.ip, "mac": iface.mac, "hexip": hex_ip(iface.ip),
                        "ipxe": ipxe(host)})
    return entries


def host_flag(cluster: Cluster, name: str, *, default: bool):
    """A yes/no attribute per host. When only hosts set it (the usual case), read their own
    tables: resolving every level for ten thousand hosts on every build costs more."""
    levels = [cluster.attrs, *cluster.os.values(), *(a.attrs for a in cluster.appliances.values())]
    if not any(name in table for table in levels):
        return lambda host: truthy(host.attrs[name]) if name in host.attrs else default

    def resolved(host) -> bool:
        value = cluster.attr(host, name)
        return default if value is None else truthy(value)

    return resolved


def dns_domain(cluster: Cluster) -> str:
    """The private DNS domain (Kickstart_PrivateDNSDomain), checked as a domain name."""
    value = cluster.attrs.get("Kickstart_PrivateDNSDomain") or "local"
    labels = value.rstrip(".").split(".")
    if len(value) > 253 or not all(_LABEL.match(label) for label in labels):
        raise RocksccError(f'attribute Kickstart_PrivateDNSDomain: {shown(value)} is not a domain name '
                           '(labels of letters, digits, "-" and "_", separated by dots)')
    return value.rstrip(".")


_URL_PATH = re.compile(r"^[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$")


def basedir(value: str | None) -> str:
    """Kickstart_PrivateKickstartBasedir (default install): the URL path under which kickstarts,
    the install-done callback and the install tree are served."""
    path = (value or "install").strip("/")
    if not _URL_PATH.match(path) or any(part in (".", "..") for part in path.split("/")):
        raise RocksccError(f"attribute Kickstart_PrivateKickstartBasedir: {shown(value)} is not a URL path "
                           '(letters, digits, ".", "_", "~", "-", separated by "/")')
    return path


def kickstart_server(value: str | None) -> str:
    """Kickstart_PrivateKickstartHost, the address every URL names (checked: it reaches boot
    files' kernel command lines and the DHCP configs)."""
    return _ipv4(value or "", "attribute Kickstart_PrivateKickstartHost")


def discovery_range(cluster: Cluster) -> list[str] | None:
    """dhcp_discovery_range = "FIRST-LAST": addresses of the private network handed to unknown
    clients (insert-ethers sees them either way); unset: unknown clients get no answer."""
    value = (cluster.attrs.get("dhcp_discovery_range") or "").strip()
    if not value:
        return None
    first, sep, last = value.replace(",", "-").partition("-")
    what = "attribute dhcp_discovery_range"
    if not sep:
        raise RocksccError(f"{what}: {shown(value)} is not FIRST-LAST (e.g. 10.1.200.1-10.1.200.254)")
    first, last = _ipv4(first.strip(), what), _ipv4(last.strip(), what)
    private = cluster.networks.get("private")
    if private is None:
        raise RocksccError(f"{what}: there is no private network to take it from")
    network = network_of(private)
    for address in (first, last):
        if ipaddress.IPv4Address(address) not in network or address in (
                str(network.network_address), str(network.broadcast_address)):
            raise RocksccError(f"{what}: {address} is not a host address of the private network {network}")
    if ipaddress.IPv4Address(first) > ipaddress.IPv4Address(last):
        raise RocksccError(f"{what}: {first} comes after {last}")
    return [first, last]


def discovery_addresses(cluster: Cluster) -> set[str]:
    """The discovery range's addresses: never allocated to a host (insert-ethers, add host)."""
    try:
        chosen = discovery_range(cluster)
    except RocksccError:
        return set()  # the build reports the bad value; allocation goes on without it
    if chosen is None:
        return set()
    first, last = (int(ipaddress.IPv4Address(a)) for a in chosen)
    return {str(ipaddress.IPv4Address(value)) for value in range(first, last + 1)}


def _ipv4(value: str, what: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise RocksccError(f"{what}: {shown(value)} is not an IPv4 address") from None


def shown(value: str) -> str:
    """A value in a message: quoted, control characters escaped (a message is one line)."""
    return json.dumps(value, ensure_ascii=False)


_UNSAFE_IN_CONFIGS = set('"\'\\#;{}$`')


def config_path(path: str, tool: str, *, forbidden: str = "") -> str:
    """A path the service configs name (the build directory): refused when it holds what one
    of their syntaxes cannot carry (quotes, comment and block characters, control characters;
    commas for dnsmasq, which splits values at them)."""
    bad = sorted({c for c in path if c in _UNSAFE_IN_CONFIGS or c in forbidden or ord(c) < 32 or ord(c) == 127})
    if bad:
        listed = " ".join(repr(c) for c in bad)
        raise RocksccError(f"{shown(path)}: the build directory's path holds {listed}, which {tool}'s configuration "
                           "cannot name: build elsewhere (out=DIR)")
    return path
