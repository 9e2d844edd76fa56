"""`rockscc console host vm`."""

from __future__ import annotations

import os
import shutil

from rockscc.cli.command import Arg, Command
from rockscc.commands._vm import settled_vm_hosts
from rockscc.errors import RocksccError


class ConsoleHostVm(Command):
    """Attach this terminal to a VM's serial console through libvirt (virsh console; leave
    with Ctrl-]) — the seed's "double-click for a console", on a terminal."""

    name = "console host vm"
    args = [Arg("host", kind="host")]
    examples = ["rockscc console host vm compute-0-0-0"]

    def run(self, ctx, opts) -> None:
        from rockscc.runtime.connection import uri_for

        (host,) = settled_vm_hosts(ctx, [opts.host])
        virsh = shutil.which("virsh")
        if virsh is None:
            raise RocksccError("console needs virsh (apt install libvirt-clients; scripts/setup does)")
        uri = uri_for(ctx.cluster, ctx.cluster.hosts[host.vm.container])
        os.execv(virsh, [virsh, "-c", uri, "console", host.name])
