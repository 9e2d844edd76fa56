"""Shared checks for network commands."""

from __future__ import annotations

import ipaddress

from rockscc.errors import RocksccError
from rockscc.model import alloc
from rockscc.model.names import check_ip


def checked(network) -> None:
    check_ip(network.subnet, "subnet")
    check_ip(network.netmask, "netmask")
    try:
        alloc.network_of(network)
        ipaddress.IPv4Network(f"{network.subnet}/{network.netmask}", strict=True)
    except ValueError as exc:
        raise RocksccError(f"subnet {network.subnet}/{network.netmask}: {exc}") from None
    if not 68 <= network.mtu <= 65535:
        raise RocksccError(f"mtu: {network.mtu} is not between 68 and 65535")
