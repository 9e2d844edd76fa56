"""`rockscc move host vm`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._vm import vm_hosts
from rockscc.errors import RocksccError


class MoveHostVm(Command):
    """Move a VM to another container. As in Rocks, the VM is saved, its state and disk files are
    copied to the new container and it is restored there; the copies keep their holes (through
    libvirt storage streams when a container is remote) and are read back and compared with the
    originals first, the restored domain uses the new container's disk paths, bridges and console
    log, and the description records the new container only once libvirt runs the VM there on the
    copies (restored paused, resumed after). live=yes migrates the running VM instead (libvirt live
    migration with its disks). A VM that is not running has its disks moved.
    If anything fails the VM runs on its old container again, what was made on the new one is
    removed and the description is unchanged. A move cut short (the process killed) is settled by
    running the same move again: finished if the VM already runs on the new container, undone
    otherwise; until then other VM commands refuse that VM. The old disk files are kept, as in
    Rocks; the saved states are deleted."""

    name = "move host vm"
    args = [Arg("host", kind="host"), Arg("container", kind="host")]
    params = [
        Param("live", kind="bool", default=False, help="migrate the running VM instead of saving and restoring it")
    ]
    examples = [
        "rockscc move host vm compute-0-0-0 vm-container-1-0",
        "rockscc move host vm compute-0-0-0 vm-container-1-0 live=yes",
    ]

    def run(self, ctx, opts) -> None:
        from rockscc.model.store import load, locked, save
        from rockscc.model.vms import check_container
        from rockscc.runtime.move import move_vm, settle

        vm_hosts([opts.host])
        with locked(ctx.root):  # the whole move: nobody edits the description meanwhile
            cluster = load(ctx.root)
            host, target = cluster.hosts[opts.host.name], check_container(cluster, cluster.hosts[opts.container.name])
            commit = lambda: save(cluster)  # noqa: E731
            settled = settle(cluster, host, ctx.out, ctx.warn, commit)
            if target.name == host.vm.container:
                if settled:  # the interrupted move went through: what was asked is done
                    return
                raise RocksccError(f"VM {host.name} is already on {target.name}")
            if any(
                g.vm.slice == host.vm.slice for g in cluster.hosts.values() if g.vm and g.vm.container == target.name
            ):
                raise RocksccError(
                    f"slice {host.vm.slice} of {target.name} is taken: set host vm {host.name} slice= first"
                )
            move_vm(cluster, host, target, live=opts.live, say=ctx.out, warn=ctx.warn, save=commit)
