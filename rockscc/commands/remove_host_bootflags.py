"""`rockscc remove host bootflags`."""

from __future__ import annotations

from rockscc.cli.command import Command
from rockscc.commands._pxe import HOSTS_OR_GLOBAL, hosts_or_none


class RemoveHostBootflags(Command):
    """Remove the named hosts' boot flags (they fall back to the global ones), or the global
    flags with no host."""

    name = "remove host bootflags"
    args = [HOSTS_OR_GLOBAL]
    examples = ["rockscc remove host bootflags compute-0-0"]
    mutates = True

    def run(self, ctx, opts) -> None:
        hosts = hosts_or_none(ctx, opts.host)
        if hosts is None:
            ctx.cluster.bootflags = None
        else:
            for host in hosts:
                host.bootflags = None
