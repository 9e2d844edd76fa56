"""`rockscc report host vm`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._compile import COMPILE_PARAMS, compile_options
from rockscc.commands._vm import vm_hosts
from rockscc.model.vms import mode_of


class ReportHostVm(Command):
    """Print the Xen domain config of VMs (xl/xm syntax): the install variant when create=yes or
    the VM's action is not "os", else the boot variant."""

    name = "report host vm"
    args = [Arg("host", kind="host", repeat=True)]
    params = [Param("create", kind="bool", default=False), *COMPILE_PARAMS]
    examples = ["rockscc report host vm compute-0-0-0", "rockscc report host vm compute-0-0-0 create=yes"]

    def run(self, ctx, opts) -> None:
        session = ctx.session(compile_options(opts))
        for host in vm_hosts(opts.host):
            mode = "install" if opts.create else mode_of(ctx.cluster, host)
            ctx.out(session.vm_config(host, "xen", mode).rstrip("\n"))
