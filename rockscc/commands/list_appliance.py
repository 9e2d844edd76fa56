"""`rockscc list appliance`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.errors import RocksccError


class ListAppliance(Command):
    """List appliances: membership, graph root node, graph, short name, whether they are
    schedulable and public, and the roll that added them."""

    name = "list appliance"
    args = [Arg("appliance", repeat=True, optional=True)]
    examples = ["rockscc list appliance"]

    def run(self, ctx, opts) -> None:
        apps = ctx.cluster.appliances
        for name in opts.appliance:
            if name not in apps:
                raise RocksccError(f'appliance "{name}" is not defined')
        rows = [
            [n, a.membership, a.node, a.graph, a.short_name, _yn(a.schedulable), _yn(a.public), a.roll]
            for n, a in apps.items()
            if not opts.appliance or n in opts.appliance
        ]
        ctx.table(
            ["appliance", "membership", "node", "graph", "short-name", "schedulable", "public", "roll"],
            rows,
            owner=False,
        )


def _yn(value: bool) -> str:
    return "yes" if value else "no"
