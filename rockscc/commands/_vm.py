"""What the VM commands share: picking VM hosts, and the compiled domain XML they start from."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.errors import RocksccError


def vm_hosts(hosts) -> list:
    for host in hosts:
        if host.vm is None:
            raise RocksccError(f'host "{host.name}" is not a VM (see rockscc list host vm)')
    return list(hosts)


def settled_vm_hosts(ctx, hosts) -> list:
    """vm_hosts, refusing VMs whose last move was interrupted (the move must be settled first)."""
    from rockscc.runtime.journal import refuse_if_moving

    hosts = vm_hosts(hosts)
    for host in hosts:
        refuse_if_moving(ctx.root, host.name)
    return hosts


def startable_vm_hosts(ctx, hosts) -> list:
    """settled_vm_hosts that may be started afresh (not running, not saved), checked before the
    command changes their action: a refused start leaves the description as it was."""
    from rockscc.runtime.vms import VMRuntime

    hosts = settled_vm_hosts(ctx, hosts)
    for host in hosts:
        VMRuntime(ctx.cluster, host).check_startable()
    return hosts


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


class VmActionCommand(Command):
    """Base of the commands that call one VM runtime method (`action`) on each VM named."""

    action = ""
    args = [Arg("host", kind="host", repeat=True)]

    def run(self, ctx, opts) -> None:
        from rockscc.runtime.vms import VMRuntime

        for host in settled_vm_hosts(ctx, opts.host):
            getattr(VMRuntime(ctx.cluster, host), self.action)()


class StateFileCommand(Command):
    """Base of `save host vm` and `restore host vm`: the VM runtime method `action` with a state
    file on the container (default <vm_disk_dir>/<vm>.saved; file= only with one VM)."""

    action = ""
    args = [Arg("host", kind="host", repeat=True)]
    params = [Param("file", help="state file on the container")]

    def run(self, ctx, opts) -> None:
        from rockscc.runtime.vms import VMRuntime, default_state_file

        hosts = settled_vm_hosts(ctx, opts.host)
        if opts.file and len(hosts) > 1:
            raise RocksccError("file= applies to one VM")
        for host in hosts:
            container = ctx.cluster.hosts[host.vm.container]
            warning = getattr(VMRuntime(ctx.cluster, host), self.action)(
                opts.file or default_state_file(ctx.cluster, host, container)
            )
            if warning:
                ctx.warn(warning)
