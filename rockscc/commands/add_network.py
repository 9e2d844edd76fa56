"""`rockscc add network`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._network import checked
from rockscc.errors import RocksccError
from rockscc.model import Network
from rockscc.model.names import check_path_safe


class AddNetwork(Command):
    """Add a network: its subnet and netmask; interfaces name it with subnet=."""

    name = "add network"
    args = [Arg("network", help="the network's name")]
    params = [
        Param("subnet", required=True),
        Param("netmask", required=True),
        Param("mtu", kind="int", default=1500),
        Param("dnszone"),
    ]
    examples = ["rockscc add network ib subnet=10.2.0.0 netmask=255.255.0.0"]
    mutates = True

    def run(self, ctx, opts) -> None:
        name = check_path_safe("network", opts.network)
        if name in ctx.cluster.networks:
            raise RocksccError(f'network "{name}" already exists')
        network = Network(subnet=opts.subnet, netmask=opts.netmask, mtu=opts.mtu, dnszone=opts.dnszone)
        checked(network)
        ctx.cluster.networks[name] = network
