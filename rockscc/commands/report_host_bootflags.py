"""`rockscc report host bootflags`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command


class ReportHostBootflags(Command):
    """Print hosts' kernel boot flags (the host's own, else the global ones) as `host: flags`;
    for one host just the flags, which is how the grub-client node reads them."""

    name = "report host bootflags"
    args = [Arg("host", kind="host", repeat=True, optional=True)]
    examples = ["rockscc report host bootflags", "rockscc report host bootflags compute-0-0"]

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        if len(opts.host) == 1:
            ctx.out(cluster.bootflags_of(opts.host[0]))
            return
        for host in opts.host:
            ctx.out(f"{host.name}: {cluster.bootflags_of(host)}".rstrip())
