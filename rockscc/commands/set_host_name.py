"""`rockscc set host name`: rename a host everywhere it is referenced."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.errors import RocksccError
from rockscc.model.names import check_host_name


class SetHostName(Command):
    """Rename a host. Its interface names that equal the old name follow, and VMs it contains
    keep pointing at it."""

    name = "set host name"
    args = [Arg("host", kind="host"), Arg("name", help="the new name")]
    examples = ["rockscc set host name compute-0-0 compute-1-0"]
    mutates = True

    def run(self, ctx, opts) -> None:
        hosts = opts.host if isinstance(opts.host, list) else [opts.host]
        if len(hosts) != 1:
            raise RocksccError("set host name renames exactly one host")
        host, new = hosts[0], check_host_name(opts.name)
        cluster = ctx.cluster
        if new in cluster.hosts:
            raise RocksccError(f'host "{new}" already exists')
        old = host.name
        del cluster.hosts[old]
        host.name = new
        cluster.hosts[new] = host
        table = cluster.host_table()
        table.renamed[new] = table.renamed.pop(old, old)  # what the user wrote in its file moves along
        for iface in host.interfaces:
            if iface.name == old:
                iface.name = new
        for other in cluster.hosts.values():
            if other.vm and other.vm.container == old:
                other.vm.container = new
