"""`rockscc remove host interface`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.commands._iface import find_interface


class RemoveHostInterface(Command):
    """Remove a network interface from hosts."""

    name = "remove host interface"
    args = [Arg("host", kind="host", repeat=True), Arg("iface")]
    examples = ["rockscc remove host interface compute-0-0 eth1"]
    mutates = True

    def run(self, ctx, opts) -> None:
        for host in opts.host:
            host.interfaces.remove(find_interface(host, opts.iface))
