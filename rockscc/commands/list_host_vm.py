"""`rockscc list host vm`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.errors import RocksccError


class ListHostVm(Command):
    """List VMs: slice, memory, CPUs, MACs, container and STATUS from the container's libvirt
    (active, paused, shutdown, crashed; dashes when not running there). Containers are asked at
    the same time, each once for all its VMs; one that does not answer within timeout= seconds
    is named in a warning and its VMs show dashes. Extra MACs and disks get continuation rows."""

    name = "list host vm"
    args = [Arg("host", kind="host", repeat=True, optional=True)]
    params = [
        Param("showdisks", kind="bool", default=False),
        Param("status", kind="bool", default=True, help="ask libvirt for each VM's state"),
        Param("timeout", kind="int", default=5, help="seconds to wait for the containers' answers"),
    ]
    examples = ["rockscc list host vm", "rockscc list host vm compute-0-0-0 showdisks=yes"]

    def run(self, ctx, opts) -> None:
        from rockscc.runtime.journal import pending_moves

        vms = [h for h in opts.host if h.vm is not None]
        states = self._states(ctx, vms, opts) if opts.status else {}
        moving = pending_moves(ctx.root)
        rows = []
        for host in vms:
            vm = host.vm
            status = states.get(vm.container, {}).get(host.name)
            journal = moving.get(host.name)
            if journal is not None:
                ctx.warn(
                    f"the move of {host.name} to {journal.target} was interrupted "
                    f"(rockscc move host vm {host.name} {journal.target} settles it)"
                )
            macs = [i.mac for i in host.interfaces if i.mac] or [None]
            disks = vm.disks if opts.showdisks else []
            for i in range(max(len(macs), len(disks) or 1)):
                first = i == 0
                row = [
                    host.name,
                    vm.slice if first else None,
                    vm.mem if first else None,
                    host.cpus if first else None,
                    macs[i] if i < len(macs) else None,
                    vm.container if first else None,
                    status if first else None,
                ]
                if opts.showdisks:
                    row += [disks[i].spec() if i < len(disks) else None, disks[i].size if i < len(disks) else None]
                rows.append(row)
        header = ["vm-host", "slice", "mem", "cpus", "mac", "host", "status"] + (
            ["disk", "disksize"] if opts.showdisks else []
        )
        ctx.table(header, rows)

    @staticmethod
    def _states(ctx, vms, opts) -> dict:
        from rockscc.runtime.status import vm_states

        if opts.timeout < 1:
            raise RocksccError(f"timeout={opts.timeout}: give at least 1 second")
        if opts.timeout > 86400:  # a day: more overflows the clock's deadline arithmetic
            raise RocksccError(f"timeout={opts.timeout}: give at most 86400 seconds")
        names = sorted({h.vm.container for h in vms})
        states, errors = vm_states(ctx.cluster, [ctx.cluster.hosts[n] for n in names], opts.timeout)
        for container in sorted(errors):
            ctx.warn(errors[container])
        return states
