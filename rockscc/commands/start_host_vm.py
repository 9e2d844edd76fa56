"""`rockscc start host vm`: boot an installed VM."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._compile import COMPILE_PARAMS, compile_options
from rockscc.commands._vm import startable_vm_hosts
from rockscc.commands.create_host_vm import _start


class StartHostVm(Command):
    """Boot VMs from their disks: their action becomes "os" and the boot-mode domain compiled by
    rockscc build is defined and started. create=yes installs instead (as create host vm). A VM
    running, or saved (restore host vm resumes it), is refused before anything changes."""

    name = "start host vm"
    args = [Arg("host", kind="host", repeat=True)]
    params = [Param("create", kind="bool", default=False), *COMPILE_PARAMS]
    examples = ["rockscc start host vm compute-0-0-0"]
    mutates = True

    def run(self, ctx, opts) -> None:
        hosts = startable_vm_hosts(ctx, opts.host)
        mode = "install" if opts.create else "boot"
        for host in hosts:
            host.pxeboot = "install" if opts.create else "os"
        ctx.after_commit.append(lambda: _start(ctx, compile_options(opts), [h.name for h in hosts], mode))
