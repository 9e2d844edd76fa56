"""`rockscc dump`."""

from __future__ import annotations

from rockscc.cli.command import Command
from rockscc.model.dump import dump


class Dump(Command):
    """Print the rockscc commands that recreate this cluster description exactly.

    `rockscc dump > backup.sh` and later `rockscc load backup.sh` (in this or a fresh
    description) restores it; the file is also a readable, diffable record of the cluster."""

    name = "dump"
    examples = ["rockscc dump > cluster-backup.sh", "rockscc -C /tmp/new load cluster-backup.sh"]

    def run(self, ctx, opts) -> None:
        lines = list(dump(ctx.cluster))  # all or nothing: an undumpable field prints no partial dump
        ctx.out(f"# rockscc dump of cluster {ctx.cluster.cluster.name!r}: load with 'rockscc load FILE'")
        ctx.out("\n".join(lines))
