"""`rockscc resume host vm`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.commands._vm import settled_vm_hosts


class ResumeHostVm(Command):
    """Resume paused VMs."""

    name = "resume host vm"
    args = [Arg("host", kind="host", repeat=True)]
    examples = ["rockscc resume host vm compute-0-0-0"]

    def run(self, ctx, opts) -> None:
        from rockscc.runtime.vms import VMRuntime

        for host in settled_vm_hosts(ctx, opts.host):
            VMRuntime(ctx.cluster, host).resume()
