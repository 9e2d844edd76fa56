"""`rockscc list host partition`: Rocks' recorded partitions."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.model import format_size


class ListHostPartition(Command):
    """List the partitions recorded for hosts at their last install (Rocks' partitions table),
    ordered by device. A disk whose layout still matches its record is reconnected on reinstall."""

    name = "list host partition"
    args = [Arg("host", kind="host", repeat=True, optional=True)]
    examples = ["rockscc list host partition compute-0-0"]

    def run(self, ctx, opts) -> None:
        rows = []
        for host in opts.host:
            for p in sorted(host.partitions, key=lambda p: p.device):
                rows.append(
                    [host.name, p.device, p.mountpoint, p.start, format_size(p.size), "", p.fstype, p.flags, ""]
                )
        ctx.table(["host", "device", "mountpoint", "start", "size", "id", "type", "flags", "formatflags"], rows)
