"""`rockscc list host`: the hosts, as Rocks listed them."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command


class ListHost(Command):
    """List hosts: membership, CPUs, rack, rank, OS, architecture and comment.

    Host arguments may be names, appliance names (all its hosts), rackN or shell globs;
    without arguments every host is listed."""

    name = "list host"
    args = [Arg("host", kind="host", repeat=True, optional=True)]
    examples = ["rockscc list host", "rockscc list host compute", "rockscc list host 'compute-0-*'"]

    def run(self, ctx, opts) -> None:
        rows = [[h.name, h.membership, h.cpus, h.rack, h.rank, h.os, h.arch, h.comment] for h in opts.host]
        header = ["host", "membership", "cpus", "rack", "rank", "os", "arch", "comment"]
        ctx.table(header, rows)
