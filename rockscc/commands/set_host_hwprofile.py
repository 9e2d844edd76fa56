"""`rockscc set host hwprofile`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.errors import RocksccError


class SetHostHwprofile(Command):
    """Give hosts a hardware profile (hwprofile="" removes it). A host's own disks (add host
    disk) take precedence over its profile."""

    name = "set host hwprofile"
    args = [Arg("host", kind="host", repeat=True), Arg("hwprofile")]
    examples = ["rockscc set host hwprofile compute one-disk"]
    mutates = True

    def run(self, ctx, opts) -> None:
        if opts.hwprofile and opts.hwprofile not in ctx.cluster.hwprofiles:
            raise RocksccError(f'hardware profile "{opts.hwprofile}" is not defined')
        for host in opts.host:
            host.hwprofile = opts.hwprofile or None
