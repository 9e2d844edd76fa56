"""`rockscc remove host partition`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command


class RemoveHostPartition(Command):
    """Forget hosts' recorded partitions (Rocks' `remove host partition`): with the disks'
    /.rocks-release stamps gone too, the next install lays the disks out afresh."""

    name = "remove host partition"
    args = [Arg("host", kind="host", repeat=True)]
    examples = ["rockscc remove host partition compute-0-0"]
    mutates = True

    def run(self, ctx, opts) -> None:
        for host in opts.host:
            host.partitions = []
