"""`rockscc add host interface`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._iface import apply_fields
from rockscc.errors import RocksccError
from rockscc.model import Interface
from rockscc.model.names import check_path_safe


class AddHostInterface(Command):
    """Add a network interface to a host. ip=auto takes the next free address of subnet=,
    counting down from the broadcast address as Rocks did."""

    name = "add host interface"
    args = [Arg("host", kind="host"), Arg("iface", help="device name, e.g. eth1")]
    params = [
        Param("ip"),
        Param("mac"),
        Param("subnet", help="network name"),
        Param("name", help="host name on that network"),
        Param("module", help="kernel driver"),
        Param("vlan", kind="int"),
    ]
    examples = [
        "rockscc add host interface compute-0-0 eth1 subnet=public ip=auto",
        "rockscc add host interface compute-0-0 ib0 ip=10.2.0.5 subnet=ib module=ib_ipoib",
    ]
    mutates = True

    def run(self, ctx, opts) -> None:
        hosts = opts.host if isinstance(opts.host, list) else [opts.host]
        device = check_path_safe("interface", opts.iface)
        for host in hosts:
            if any(i.device == device for i in host.interfaces):
                raise RocksccError(f'host "{host.name}" already has interface "{device}"')
            iface = Interface(device=device)
            apply_fields(ctx.cluster, host, iface, opts)
            host.interfaces.append(iface)
