"""`rockscc list host interface`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command


class ListHostInterface(Command):
    """List hosts' interfaces: network, device, MAC, IP, netmask, driver module and name."""

    name = "list host interface"
    args = [Arg("host", kind="host", repeat=True, optional=True)]
    examples = ["rockscc list host interface compute-0-0"]

    def run(self, ctx, opts) -> None:
        networks = ctx.cluster.networks
        rows = []
        for host in opts.host:
            for i in host.interfaces:
                netmask = networks[i.subnet].netmask if i.subnet in networks else None
                rows.append([host.name, i.subnet, i.device, i.mac, i.ip, netmask, i.module, i.name, i.vlan])
        ctx.table(["host", "subnet", "iface", "mac", "ip", "netmask", "module", "name", "vlanid"], rows)
