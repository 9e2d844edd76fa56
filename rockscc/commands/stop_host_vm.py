"""`rockscc stop host vm`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.commands._vm import settled_vm_hosts


class StopHostVm(Command):
    """Stop VMs at once, like pulling the power cord (libvirt destroy; the definition stays)."""

    name = "stop host vm"
    args = [Arg("host", kind="host", repeat=True)]
    examples = ["rockscc stop host vm compute-0-0-0"]

    def run(self, ctx, opts) -> None:
        from rockscc.runtime.vms import VMRuntime

        for host in settled_vm_hosts(ctx, opts.host):
            VMRuntime(ctx.cluster, host).stop()
