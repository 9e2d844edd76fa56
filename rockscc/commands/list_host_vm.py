"""`rockscc list host vm`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.errors import RocksccError


class ListHostVm(Command):
    """List VMs: slice, memory, CPUs, MACs, container and STATUS from the container's libvirt
    (active, paused, shutdown, crashed; dashes when not defined there or unreachable).
    Extra MACs and disks get continuation rows."""

    name = "list host vm"
    args = [Arg("host", kind="host", repeat=True, optional=True)]
    params = [Param("showdisks", kind="bool", default=False), Param("status", kind="bool", default=True,
                                                                     help="ask libvirt for each VM's state")]
    examples = ["rockscc list host vm", "rockscc list host vm compute-0-0-0 showdisks=yes"]

    def run(self, ctx, opts) -> None:
        from rockscc.runtime.vms import VMRuntime

        rows, unreachable = [], set()
        for host in (h for h in opts.host if h.vm is not None):
            vm, status = host.vm, None
            if opts.status and vm.container not in unreachable:
                try:
                    status = VMRuntime(ctx.cluster, host).status()
                except RocksccError as exc:
                    unreachable.add(vm.container)
                    ctx.warn(str(exc))
            macs = [i.mac for i in host.interfaces if i.mac] or [None]
            disks = vm.disks if opts.showdisks else []
            extra = max(len(macs), len(disks) or 1)
            for i in range(extra):
                first = i == 0
                row = [host.name, vm.slice if first else None, vm.mem if first else None,
                       host.cpus if first else None, macs[i] if i < len(macs) else None,
                       vm.container if first else None, status if first else None]
                if opts.showdisks:
                    row += [disks[i].spec() if i < len(disks) else None, disks[i].size if i < len(disks) else None]
                rows.append(row)
        header = ["vm-host", "slice", "mem", "cpus", "mac", "host", "status"] + (["disk", "disksize"] if opts.showdisks else [])
        ctx.table(header, rows)
