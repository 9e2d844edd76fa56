"""`rockscc enable roll`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.model.rolls import roll_named


class EnableRoll(Command):
    """Enable rolls: their nodes, graph edges, appliances and commands are used again."""

    name = "enable roll"
    args = [Arg("roll", repeat=True)]
    examples = ["rockscc enable roll xen"]
    mutates = True

    def run(self, ctx, opts) -> None:
        for name in opts.roll:
            roll_named(ctx.cluster, name).enabled = True
