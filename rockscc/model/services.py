"""What the description says about the provisioning services, checked where it is read: the
kickstart server's address, the kickstart URL path, the private DNS domain, the DHCP discovery
range, per-host yes/no attributes. Values that end up inside a config file or a kernel command
line are checked here, once, with a message naming the attribute; the renderers then only quote."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from rockscc.errors import RocksccError, shown
from rockscc.lazyre import LazyPattern
from rockscc.model.alloc import network_of
from rockscc.model.cluster import Cluster, truthy

_LABEL = LazyPattern(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")


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
        raise RocksccError(
            f"attribute Kickstart_PrivateDNSDomain: {shown(value)} is not a domain name "
            '(labels of letters, digits, "-" and "_", separated by dots)'
        )
    return value.rstrip(".")


_URL_PATH = LazyPattern(r"^[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$")


def basedir(value: str | None) -> str:
    """Kickstart_PrivateKickstartBasedir (default install): the URL path under which kickstarts,
    the install-done callback and the install tree are served."""
    path = (value or "install").strip("/")
    if not _URL_PATH.match(path) or any(part in (".", "..") for part in path.split("/")):
        raise RocksccError(
            f"attribute Kickstart_PrivateKickstartBasedir: {shown(value)} is not a URL path "
            '(letters, digits, ".", "_", "~", "-", separated by "/")'
        )
    return path


def kickstart_server(value: str | None) -> str:
    """Kickstart_PrivateKickstartHost, the address every URL names (checked: it reaches boot
    files' kernel command lines and the DHCP configs)."""
    return _ipv4(value or "", "attribute Kickstart_PrivateKickstartHost")


def dns_servers(value: str | None) -> list[str]:
    """Kickstart_PrivateDNSServers, the resolvers DHCP hands out (an installer that gets none
    asks for them: Debian's stops there)."""
    return [_ipv4(v, "attribute Kickstart_PrivateDNSServers") for v in (value or "").replace(",", " ").split()]


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
            str(network.network_address),
            str(network.broadcast_address),
        ):
            raise RocksccError(f"{what}: {address} is not a host address of the private network {network}")
    if ipaddress.IPv4Address(first) > ipaddress.IPv4Address(last):
        raise RocksccError(f"{what}: {first} comes after {last}")
    return [first, last]


def discovery_addresses(cluster: Cluster) -> frozenset[str]:
    """The discovery range's addresses: never allocated to a host (insert-ethers, add host)."""
    try:
        chosen = discovery_range(cluster)
    except RocksccError:
        return frozenset()  # the build reports the bad value; allocation goes on without it
    if chosen is None:
        return frozenset()
    return _range_addresses(*chosen)


@lru_cache(maxsize=8)
def _range_addresses(first_ip: str, last_ip: str) -> frozenset[str]:
    """One object per range: alloc.as_ints keys on it (each add host of a load asks again)."""
    first, last = (int(ipaddress.IPv4Address(a)) for a in (first_ip, last_ip))
    return frozenset(str(ipaddress.IPv4Address(value)) for value in range(first, last + 1))


def _ipv4(value: str, what: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise RocksccError(f"{what}: {shown(value)} is not an IPv4 address") from None
