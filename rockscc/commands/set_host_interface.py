"""`rockscc set host interface`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._iface import apply_fields, find_interface


class SetHostInterface(Command):
    """Change fields of a host's interface; an empty value (mac=) clears a field, ip=auto
    allocates the next free address."""

    name = "set host interface"
    args = [Arg("host", kind="host"), Arg("iface")]
    params = [Param("ip"), Param("mac"), Param("subnet"), Param("name"), Param("module"), Param("vlan", kind="int")]
    examples = ["rockscc set host interface compute-0-0 eth0 mac=00:11:22:33:44:55"]
    mutates = True

    def run(self, ctx, opts) -> None:
        for host in opts.host if isinstance(opts.host, list) else [opts.host]:
            apply_fields(ctx.cluster, host, find_interface(host, opts.iface), opts)
