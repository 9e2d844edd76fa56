"""`rockscc remove network`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.errors import RocksccError


class RemoveNetwork(Command):
    """Remove a network no interface uses."""

    name = "remove network"
    args = [Arg("network", repeat=True)]
    examples = ["rockscc remove network ib"]
    mutates = True

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        for name in opts.network:
            if name not in cluster.networks:
                raise RocksccError(f'network "{name}" is not defined')
            users = sorted({h.name for h in cluster.hosts.values() for i in h.interfaces if i.subnet == name})
            if users:
                raise RocksccError(
                    f'network "{name}" is used by {", ".join(users[:5])}{" …" if len(users) > 5 else ""}'
                )
            del cluster.networks[name]
