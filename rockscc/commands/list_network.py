"""`rockscc list network`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.errors import RocksccError


class ListNetwork(Command):
    """List networks: subnet, netmask, MTU and DNS zone."""

    name = "list network"
    args = [Arg("network", repeat=True, optional=True)]
    examples = ["rockscc list network", "rockscc list network private"]

    def run(self, ctx, opts) -> None:
        networks = ctx.cluster.networks
        for name in opts.network:
            if name not in networks:
                raise RocksccError(f'network "{name}" is not defined')
        names = opts.network or list(networks)
        rows = [[n, networks[n].subnet, networks[n].netmask, networks[n].mtu, networks[n].dnszone] for n in names]
        ctx.table(["network", "subnet", "netmask", "mtu", "dnszone"], rows, owner=False)
