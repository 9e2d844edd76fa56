"""`rockscc list host`: the hosts, as Rocks listed them."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.model.selection import select


class ListHost(Command):
    """List hosts: membership, CPUs, rack, rank, OS, architecture and comment.

    Host arguments may be names, appliance names (all its hosts), rackN or shell globs;
    without arguments every host is listed."""

    name = "list host"
    # names, resolved here as `kind="host"` would resolve them: the columns come from the host
    # table's rows, so listing every host decodes no record
    args = [Arg("host", repeat=True, optional=True)]
    examples = ["rockscc list host", "rockscc list host compute", "rockscc list host 'compute-0-*'"]

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        rows = cluster.host_table().listed(select(cluster, list(opts.host or ()), default_all=True))
        header = ["host", "membership", "cpus", "rack", "rank", "os", "arch", "comment"]
        ctx.table(header, rows)
