"""`rockscc report host vm config`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._compile import COMPILE_PARAMS, compile_options
from rockscc.commands._vm import vm_hosts
from rockscc.model.vms import mode_of


class ReportHostVmConfig(Command):
    """Print the libvirt domain XML of VMs (install variant with create=yes or while the VM's
    action is not "os")."""

    name = "report host vm config"
    args = [Arg("host", kind="host", repeat=True)]
    params = [Param("create", kind="bool", default=False), *COMPILE_PARAMS]
    examples = ["rockscc report host vm config compute-0-0-0"]

    def run(self, ctx, opts) -> None:
        session = ctx.session(compile_options(opts))
        for host in vm_hosts(opts.host):
            mode = "install" if opts.create else mode_of(ctx.cluster, host)
            ctx.out(session.vm_config(host, "libvirt", mode).rstrip("\n"))
