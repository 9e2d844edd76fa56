"""`rockscc set host membership`."""

from __future__ import annotations

from rockscc.commands._host import SetHostField


class SetHostMembership(SetHostField):
    """Move hosts to another appliance, named by membership ("Compute") or appliance (compute)."""

    field = "membership"
    example = "Compute"

    def convert(self, ctx, raw):
        return ctx.cluster.appliance_by_membership(raw)[1].membership
