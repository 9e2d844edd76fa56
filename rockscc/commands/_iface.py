"""Shared checks for interface commands."""

from __future__ import annotations

from rockscc.errors import RocksccError
from rockscc.model.names import check_ip, check_path_safe, normalize_mac


def find_interface(host, device: str):
    for iface in host.interfaces:
        if iface.device == device:
            return iface
    raise RocksccError(f'host "{host.name}" has no interface "{device}"')


def apply_fields(cluster, host, iface, opts) -> None:
    """Set the given interface fields; `ip=auto` allocates the next free address on the subnet."""
    if opts.subnet is not None:
        if opts.subnet and opts.subnet not in cluster.networks:
            raise RocksccError(f'network "{opts.subnet}" is not defined')
        iface.subnet = opts.subnet or None
    if opts.ip is not None:
        if opts.ip == "auto":
            if not iface.subnet:
                raise RocksccError("ip=auto needs subnet=")
            iface.ip = cluster.next_ip(iface.subnet)
        else:
            iface.ip = check_ip(opts.ip) if opts.ip else None
    if opts.mac is not None:
        iface.mac = normalize_mac(opts.mac) if opts.mac else None
    if opts.name is not None:
        iface.name = check_path_safe("interface host", opts.name) if opts.name else None
    if opts.module is not None:
        iface.module = opts.module or None
    if opts.vlan is not None:
        iface.vlan = opts.vlan
