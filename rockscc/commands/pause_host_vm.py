"""`rockscc pause host vm`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.commands._vm import settled_vm_hosts


class PauseHostVm(Command):
    """Pause running VMs: they stay in memory, stopped (libvirt suspend; Xen's xm pause)."""

    name = "pause host vm"
    args = [Arg("host", kind="host", repeat=True)]
    examples = ["rockscc pause host vm compute-0-0-0"]

    def run(self, ctx, opts) -> None:
        from rockscc.runtime.vms import VMRuntime

        for host in settled_vm_hosts(ctx, opts.host):
            VMRuntime(ctx.cluster, host).pause()
