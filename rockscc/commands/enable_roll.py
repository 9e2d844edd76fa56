"""`rockscc enable roll`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.errors import RocksccError


class EnableRoll(Command):
    """Enable rolls: their nodes, graph edges, appliances and commands are used again."""

    name = "enable roll"
    args = [Arg("roll", repeat=True)]
    examples = ["rockscc enable roll xen"]
    mutates = True

    def run(self, ctx, opts) -> None:
        for name in opts.roll:
            roll = ctx.cluster.rolls.get(name)
            if roll is None:
                raise RocksccError(f'roll "{name}" is not added (see rockscc list roll)')
            roll.enabled = True
