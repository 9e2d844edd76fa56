"""`rockscc dump host vm`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.model.dump import vm_line


class DumpHostVm(Command):
    """Print the `rockscc set host vm` lines that recreate VMs' records (part of `rockscc dump`)."""

    name = "dump host vm"
    args = [Arg("host", kind="host", repeat=True, optional=True)]
    examples = ["rockscc dump host vm"]

    def run(self, ctx, opts) -> None:
        for host in opts.host:
            if host.vm is not None:
                ctx.out(vm_line(host))
