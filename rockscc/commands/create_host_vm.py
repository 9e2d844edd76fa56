"""`rockscc create host vm`: install a VM."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.commands._compile import COMPILE_PARAMS, compile_options
from rockscc.commands._vm import compiled_xml, startable_vm_hosts
from rockscc.pipeline import CompileOptions


class CreateHostVm(Command):
    """Install VMs: set their action to install, create missing disk images (sparse, through
    libvirt's storage API), define the install-mode domain compiled by rockscc build (building it
    first if stale) and start it. The installer's reboot ends the domain; then start host vm.
    A VM running, or saved (restore host vm resumes it), is refused before anything changes."""

    name = "create host vm"
    args = [Arg("host", kind="host", repeat=True)]
    params = COMPILE_PARAMS  # the VM's artifacts are built as `rockscc build` builds them
    examples = ["rockscc create host vm compute-0-0-0"]
    mutates = True

    def run(self, ctx, opts) -> None:
        hosts = startable_vm_hosts(ctx, opts.host)
        for host in hosts:
            if host.pxeboot in (None, "os"):
                host.pxeboot = "install"
        ctx.after_commit.append(lambda: _start(ctx, compile_options(opts), [h.name for h in hosts], "install"))


def _start(ctx, options: CompileOptions, names: list[str], mode: str) -> None:
    from rockscc.model import load
    from rockscc.pipeline import Session
    from rockscc.runtime.vms import VMRuntime

    cluster = load(ctx.root)  # as just saved
    session = Session(cluster, options)
    for name in names:
        xml = compiled_xml(session, name, mode)
        runtime = VMRuntime(cluster, cluster.hosts[name])
        runtime.ensure_disks()
        runtime.run(xml, "installing" if mode == "install" else "starting")
