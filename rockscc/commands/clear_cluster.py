"""`rockscc clear cluster`."""

from __future__ import annotations

from rockscc.cli.command import Command, Param
from rockscc.errors import RocksccError
from rockscc.model import Cluster


class ClearCluster(Command):
    """Empty the description: no hosts, appliances, networks, attributes, PXE actions, hardware
    profiles or rolls. A dump starts with it, so that loading the dump recreates the dumped
    description exactly. Outside `load`, it asks for confirm=yes."""

    name = "clear cluster"
    params = [Param("confirm", kind="bool", default=False)]
    examples = ["rockscc clear cluster confirm=yes"]
    mutates = True

    def run(self, ctx, opts) -> None:
        if not opts.confirm and not getattr(ctx, "loading", False):
            raise RocksccError("clear cluster removes everything; give confirm=yes")
        cluster = ctx.cluster
        fresh = Cluster(root=cluster.root)
        for field in (
            "cluster",
            "bootflags",
            "attrs",
            "os",
            "appliances",
            "networks",
            "pxeactions",
            "hwprofiles",
            "rolls",
            "hosts",
        ):
            setattr(cluster, field, getattr(fresh, field))
