"""`rockscc reboot host vm`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.commands._vm import settled_vm_hosts


class RebootHostVm(Command):
    """Reboot VMs cleanly: the guest is asked through its ACPI power button (Xen paravirtual
    guests: the paravirtual request) and libvirt starts it again once it has powered off. The
    request returns at once; a guest that ignores it keeps running (stop host vm, then start
    host vm)."""

    name = "reboot host vm"
    args = [Arg("host", kind="host", repeat=True)]
    examples = ["rockscc reboot host vm compute-0-0-0"]

    def run(self, ctx, opts) -> None:
        from rockscc.runtime.vms import VMRuntime

        for host in settled_vm_hosts(ctx, opts.host):
            VMRuntime(ctx.cluster, host).reboot()
