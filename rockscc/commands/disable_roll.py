"""`rockscc disable roll`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.errors import RocksccError
from rockscc.rolls import check_unused


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
            roll = ctx.cluster.rolls.get(name)
            if roll is None:
                raise RocksccError(f'roll "{name}" is not added (see rockscc list roll)')
            check_unused(ctx.cluster, name, "disable")
            roll.enabled = False
