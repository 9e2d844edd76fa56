"""`rockscc restore host vm`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._vm import vm_hosts
from rockscc.errors import RocksccError


class RestoreHostVm(Command):
    """Restore VMs from the state saved by save host vm.
    The file defaults to <vm_disk_dir>/<vm>.saved on the container; file= only with one VM."""

    name = "restore host vm"
    args = [Arg("host", kind="host", repeat=True)]
    params = [Param("file", help="state file on the container")]
    examples = ["rockscc restore host vm compute-0-0-0"]

    def run(self, ctx, opts) -> None:
        from rockscc.runtime.vms import VMRuntime, default_state_file

        hosts = vm_hosts(opts.host)
        if opts.file and len(hosts) > 1:
            raise RocksccError("file= applies to one VM")
        for host in hosts:
            container = ctx.cluster.hosts[host.vm.container]
            VMRuntime(ctx.cluster, host).restore(opts.file or default_state_file(ctx.cluster, host, container))
