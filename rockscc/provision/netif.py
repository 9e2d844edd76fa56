"""Which local interface holds an address: read from `ip -j -4 addr` (iproute2), never changed.
serve and insert-ethers bind only to what exists; configuring interfaces is the site's job."""

from __future__ import annotations

import json
import subprocess

from rockscc.errors import RocksccError


def addresses() -> dict[str, str]:
    """IPv4 address -> interface name, for every address of this network namespace."""
    try:
        result = subprocess.run(["ip", "-j", "-4", "addr", "show"], capture_output=True, text=True, timeout=10)
    except FileNotFoundError:
        raise RocksccError("ip (iproute2) is not installed (apt-get install iproute2)") from None
    if result.returncode != 0:
        raise RocksccError(f"ip addr: {result.stderr.strip()}")
    found = {}
    for link in json.loads(result.stdout or "[]"):
        for info in link.get("addr_info", []):
            if info.get("family") == "inet" and "local" in info:
                found[info["local"]] = link["ifname"]
    return found


def interface_for(address: str, interface: str | None) -> str:
    """The interface to serve `address` on: the one that holds it (checked against `interface`
    when given)."""
    holders = addresses()
    holder = holders.get(address)
    if holder is None:
        raise RocksccError(
            f"address {address} is on no interface here: rockscc binds only to addresses that "
            "exist and never changes the network configuration (configure the private interface, "
            "or give address=)"
        )
    if interface and interface != holder:
        raise RocksccError(f"address {address} is on interface {holder}, not {interface}")
    return holder
