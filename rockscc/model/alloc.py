"""Address allocation as Rocks did it: MACs count up (IPs count down from broadcast-1: hosttable.AddressBook.next_ip)."""

from __future__ import annotations

import _socket as socket  # socket.py's C half (inet_aton): socket.py builds its enums at import, ~5 ms of start-up
import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from rockscc.errors import RocksccError
from rockscc.model.records import Network

XEN_MAC_PREFIX = 0x00163E000000  # 00:16:3e, Xen's OUI


def network_of(net: Network) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(f"{net.subnet}/{net.netmask}", strict=False)


def next_xen_mac(used: Iterable[str]) -> str:
    """One past the highest 00:16:3e MAC in use (the first is 00:16:3e:00:00:01)."""
    highest = XEN_MAC_PREFIX
    for mac in used:
        if mac and mac.lower().startswith("00:16:3e:"):
            highest = max(highest, int(mac.replace(":", ""), 16))
    value = highest + 1
    if value >> 24 != XEN_MAC_PREFIX >> 24:
        raise RocksccError("no free MAC address left under 00:16:3e")
    return ":".join(f"{(value >> s) & 0xFF:02x}" for s in range(40, -8, -8))


@lru_cache(maxsize=8)
def as_ints(addresses: frozenset[str]) -> frozenset[int]:
    """A set of addresses (the discovery range, the same at every allocation) as integers."""
    return frozenset(ip_int(ip) for ip in addresses)


def ip_int(ip: str) -> int:
    """A validated dotted-quad address as an integer (inet_aton: ten times ipaddress's speed,
    which counts over ten thousand hosts; the description holds only canonical addresses)."""
    return int.from_bytes(socket.inet_aton(ip), "big")


def hex_ip(ip: str) -> str:
    """10.1.255.254 → 0A01FFFE, the name pxelinux looks for."""
    return socket.inet_aton(ip).hex().upper()
