"""`rockscc shutdown host vm`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._vm import settled_vm_hosts
from rockscc.errors import RocksccError


class ShutdownHostVm(Command):
    """Shut VMs down cleanly: press their ACPI power button (Xen paravirtual guests get the
    paravirtual shutdown request) and wait until they have powered off. A VM still running after
    timeout= seconds is an error naming it (its OS may ignore the button: stop host vm pulls the
    cord)."""

    name = "shutdown host vm"
    args = [Arg("host", kind="host", repeat=True)]
    params = [Param("timeout", kind="int", default=120, help="seconds to wait for the VMs to power off")]
    examples = ["rockscc shutdown host vm compute-0-0-0", "rockscc shutdown host vm compute-0-0-0 timeout=30"]

    def run(self, ctx, opts) -> None:
        from rockscc.runtime.vms import VMRuntime, shutdown

        if opts.timeout < 0:
            raise RocksccError(f"timeout={opts.timeout}: seconds cannot be negative")
        running = shutdown([VMRuntime(ctx.cluster, h) for h in settled_vm_hosts(ctx, opts.host)], opts.timeout)
        if running:
            raise RocksccError(
                f"{', '.join(running)} did not power off within {opts.timeout} s of pressing the power button "
                f"(the guest may ignore ACPI; stop host vm {' '.join(running)} pulls the cord)"
            )
