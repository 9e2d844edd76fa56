"""`rockscc disable roll`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.model.rolls import check_unused, roll_named


class DisableRoll(Command):
    """Disable rolls but keep their record: their node files and graph edges leave every
    profile, their commands and appliances are no longer available. Refused while hosts belong
    to the roll's appliances."""

    name = "disable roll"
    args = [Arg("roll", repeat=True)]
    examples = ["rockscc disable roll viz"]
    mutates = True

    def run(self, ctx, opts) -> None:
        for name in opts.roll:
            roll = roll_named(ctx.cluster, name)
            check_unused(ctx.cluster, name, "disable")
            roll.enabled = False
