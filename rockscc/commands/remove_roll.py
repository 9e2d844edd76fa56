"""`rockscc remove roll`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.model.rolls import appliances_of, check_unused, roll_named


class RemoveRoll(Command):
    """Remove rolls and the appliances they added (refused while hosts belong to them)."""

    name = "remove roll"
    args = [Arg("roll", repeat=True)]
    examples = ["rockscc remove roll viz"]
    mutates = True

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        for name in opts.roll:
            roll_named(cluster, name)
            check_unused(cluster, name, "remove")
            for appliance in appliances_of(cluster, name):
                del cluster.appliances[appliance]
            del cluster.rolls[name]
