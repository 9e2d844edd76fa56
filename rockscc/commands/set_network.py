"""`rockscc set network`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._network import checked
from rockscc.errors import RocksccError


class SetNetwork(Command):
    """Change a network's subnet, netmask, MTU or DNS zone."""

    name = "set network"
    args = [Arg("network")]
    params = [Param("subnet"), Param("netmask"), Param("mtu", kind="int"), Param("dnszone")]
    examples = ["rockscc set network private mtu=9000"]
    mutates = True

    def run(self, ctx, opts) -> None:
        network = ctx.cluster.networks.get(opts.network)
        if network is None:
            raise RocksccError(f'network "{opts.network}" is not defined')
        for field in ("subnet", "netmask", "mtu"):
            if getattr(opts, field) is not None:
                setattr(network, field, getattr(opts, field))
        if opts.dnszone is not None:
            network.dnszone = opts.dnszone or None
        checked(network)
