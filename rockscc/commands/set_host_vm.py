"""`rockscc set host vm`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.errors import RocksccError
from rockscc.model import VM
from rockscc.model.vms import check_container, next_slice, parse_disk
from rockscc.runtime.journal import refuse_if_moving


class SetHostVm(Command):
    """Change one VM: disk="spec spec…" replaces its disks (disksize="n n…" pairs with them by
    index, 36 GB when missing), mem, cpus, physnode (its container: refused while the old one
    still has the VM defined, which move host vm moves), slice (free on the container), virt-type.
    A host without a VM record gets one (how dump restores VMs); it then needs physnode=."""

    name = "set host vm"
    args = [Arg("host", kind="host")]
    params = [
        Param("disk"),
        Param("disksize"),
        Param("mem", kind="int"),
        Param("cpus", kind="int"),
        Param("physnode"),
        Param("slice", kind="int"),
        Param("virt-type", choices=("para", "hvm")),
    ]
    examples = ["rockscc set host vm compute-0-0-0 mem=4096"]
    mutates = True

    def run(self, ctx, opts) -> None:
        cluster, host = ctx.cluster, opts.host
        refuse_if_moving(ctx.root, host.name)  # its container and disks are the move's to settle
        if host.vm is None:
            if not opts.physnode:
                raise RocksccError(f'host "{host.name}" is not a VM: give physnode= to make it one')
            check_container(cluster, cluster.host(opts.physnode))
            host.vm = VM(container=opts.physnode, slice=next_slice(cluster, opts.physnode))
        vm = host.vm
        if opts.physnode and opts.physnode != vm.container:
            check_container(cluster, cluster.host(opts.physnode))
            _refuse_if_defined(cluster, host)
            vm.container = opts.physnode
        if opts.mem is not None:
            if opts.mem < 64:
                raise RocksccError(f"mem={opts.mem}: a VM needs at least 64 MB")
            vm.mem = opts.mem
        if opts.cpus is not None:
            if opts.cpus < 1:
                raise RocksccError("cpus must be at least 1")
            host.cpus = opts.cpus
        if opts.slice is not None:
            vm.slice = opts.slice
        if opts.slice is not None or opts.physnode:  # a new container or slice must be free there
            taken = [
                g.name
                for g in cluster.hosts.values()
                if g.vm and g is not host and g.vm.container == vm.container and g.vm.slice == vm.slice
            ]
            if taken:
                raise RocksccError(f"slice {vm.slice} of {vm.container} is used by {taken[0]}")
        if opts.virt_type:
            vm.virt_type = opts.virt_type
        if opts.disk is not None or opts.disksize is not None:
            self._disks(vm, opts)

    @staticmethod
    def _disks(vm, opts) -> None:
        specs = opts.disk.split() if opts.disk is not None else [d.spec() for d in vm.disks]
        sizes = (opts.disksize or "").split()
        try:
            numbers = [int(s) for s in sizes]
        except ValueError:
            raise RocksccError(f'disksize="{opts.disksize}" must be whole numbers of GB') from None
        if opts.disksize is None:
            numbers = [d.size for d in vm.disks]
        vm.disks = [parse_disk(spec, numbers[i] if i < len(numbers) else 36) for i, spec in enumerate(specs)]


def _refuse_if_defined(cluster, host) -> None:
    """A VM its container still knows keeps running (or stays defined) there: changing physnode
    alone would point the description at another container and orphan the domain."""
    from rockscc.runtime.vms import VMRuntime

    runtime = VMRuntime(cluster, host)
    if runtime.domain() is not None:
        raise RocksccError(
            f"VM {host.name} is defined on {runtime.container.name}: move host vm {host.name} <container> moves it"
            " (or remove host vm first)"
        )
