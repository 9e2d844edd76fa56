"""`rockscc remove host vm`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._vm import settled_vm_hosts
from rockscc.errors import RocksccError


class RemoveHostVm(Command):
    """Remove VMs: their domains are undefined on their containers (disk images are kept, as in
    Rocks) and the hosts leave the description. An unreachable container is an error unless
    force=yes."""

    name = "remove host vm"
    args = [Arg("host", kind="host", repeat=True)]
    params = [Param("force", kind="bool", default=False, help="remove even if the container cannot be reached")]
    examples = ["rockscc remove host vm compute-0-0-0"]
    mutates = True

    def run(self, ctx, opts) -> None:
        from rockscc.runtime.vms import VMRuntime

        for host in settled_vm_hosts(ctx, opts.host):
            try:
                VMRuntime(ctx.cluster, host).remove()
            except RocksccError as exc:
                if not opts.force:
                    raise RocksccError(f"{exc} (force=yes removes the VM from the description anyway)") from None
                ctx.warn(str(exc))
            del ctx.cluster.hosts[host.name]
