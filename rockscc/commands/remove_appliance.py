"""`rockscc remove appliance`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.errors import RocksccError


class RemoveAppliance(Command):
    """Remove appliances no host belongs to."""

    name = "remove appliance"
    args = [Arg("appliance", repeat=True)]
    examples = ["rockscc remove appliance tile"]
    mutates = True

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        for name in opts.appliance:
            appliance = cluster.appliances.get(name)
            if appliance is None:
                raise RocksccError(f'appliance "{name}" is not defined')
            users = sorted(h.name for h in cluster.hosts.values() if h.membership == appliance.membership)
            if users:
                raise RocksccError(
                    f'appliance "{name}" has hosts ({", ".join(users[:5])}{" …" if len(users) > 5 else ""})'
                )
            del cluster.appliances[name]
