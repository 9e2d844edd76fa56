"""`rockscc remove host disk`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.errors import RocksccError


class RemoveHostDisk(Command):
    """Remove a host's own disk declaration; with no disks left the host falls back to its profile."""

    name = "remove host disk"
    args = [Arg("host", kind="host", repeat=True), Arg("disk")]
    examples = ["rockscc remove host disk nas-0-0 sde"]
    mutates = True

    def run(self, ctx, opts) -> None:
        for host in opts.host:
            hw = host.hardware
            if hw is None or not any(d.name == opts.disk for d in hw.disks):
                raise RocksccError(f'host "{host.name}" has no own disk "{opts.disk}"')
            hw.disks = [d for d in hw.disks if d.name != opts.disk]
            if not hw.disks and not hw.raids:
                host.hardware = None
