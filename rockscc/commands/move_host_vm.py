"""`rockscc move host vm`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.commands._vm import vm_hosts
from rockscc.errors import RocksccError
from rockscc.model.vms import check_container


class MoveHostVm(Command):
    """Move a running VM to another container: save it, copy its state and disk files, restore it
    there and record the new container. If any step fails the VM is restored on its old
    container, copies are removed and the description is left unchanged. Containers that
    support libvirt migration are migrated live instead."""

    name = "move host vm"
    args = [Arg("host", kind="host"), Arg("container", kind="host")]
    examples = ["rockscc move host vm compute-0-0-0 vm-container-1-0"]
    mutates = True

    def run(self, ctx, opts) -> None:
        from rockscc.runtime.move import move_vm

        (host,) = vm_hosts([opts.host])
        target = check_container(ctx.cluster, opts.container)
        if target.name == host.vm.container:
            raise RocksccError(f"VM {host.name} is already on {target.name}")
        if any(g.vm.slice == host.vm.slice for g in ctx.cluster.hosts.values() if g.vm and g.vm.container == target.name):
            raise RocksccError(f"slice {host.vm.slice} of {target.name} is taken: set host vm {host.name} slice= first")
        move_vm(ctx.cluster, host, target, ctx.out)
