"""`rockscc list membership`."""

from __future__ import annotations

from rockscc.cli.command import Command


class ListMembership(Command):
    """List memberships as Rocks 5.0 did: membership, appliance, distribution, public."""

    name = "list membership"
    examples = ["rockscc list membership"]

    def run(self, ctx, opts) -> None:
        rows = [[a.membership, n, "rocks-dist", "yes" if a.public else "no"] for n, a in ctx.cluster.appliances.items()]
        ctx.table(["membership", "appliance", "distribution", "public"], rows, owner=False)
