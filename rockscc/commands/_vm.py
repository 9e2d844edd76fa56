"""What the VM commands share: picking VM hosts, and the compiled domain XML they start from."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.errors import RocksccError


def vm_hosts(hosts) -> list:
    for host in hosts:
        if host.vm is None:
            raise RocksccError(f'host "{host.name}" is not a VM (see rockscc list host vm)')
    return list(hosts)


def compiled_xml(session, name: str, mode: str) -> str:
    """build/libvirt/<vm>[.install].xml, the VM's artifacts (its kickstart too) rebuilt first if
    anything they depend on changed, with the options of `rockscc build` (the session's)."""
    from rockscc.engine.make import BuildOptions, output_dir

    report = session.build(BuildOptions(hosts=[name]))
    if report.errors:
        raise RocksccError(f"building the configs of {name} failed: " + "; ".join(report.errors))
    path = output_dir(session.root, None) / "libvirt" / (f"{name}.install.xml" if mode == "install" else f"{name}.xml")
    try:
        return path.read_text()
    except OSError as exc:
        raise RocksccError(f"{path}: {exc}") from None


class StateFileCommand(Command):
    """Base of `save host vm` and `restore host vm`: the VM runtime method `action` with a state
    file on the container (default <vm_disk_dir>/<vm>.saved; file= only with one VM)."""

    action = ""
    args = [Arg("host", kind="host", repeat=True)]
    params = [Param("file", help="state file on the container")]

    def run(self, ctx, opts) -> None:
        from rockscc.runtime.vms import VMRuntime, default_state_file

        hosts = vm_hosts(opts.host)
        if opts.file and len(hosts) > 1:
            raise RocksccError("file= applies to one VM")
        for host in hosts:
            container = ctx.cluster.hosts[host.vm.container]
            getattr(VMRuntime(ctx.cluster, host), self.action)(opts.file or default_state_file(ctx.cluster, host, container))
