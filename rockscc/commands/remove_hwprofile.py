"""`rockscc remove hwprofile`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.errors import RocksccError


class RemoveHwprofile(Command):
    """Remove hardware profiles no host uses."""

    name = "remove hwprofile"
    args = [Arg("profile", repeat=True)]
    examples = ["rockscc remove hwprofile two-ide"]
    mutates = True

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        for name in opts.profile:
            if name not in cluster.hwprofiles:
                raise RocksccError(f'hardware profile "{name}" is not defined')
            users = sorted(h.name for h in cluster.hosts.values() if h.hwprofile == name)
            if users:
                raise RocksccError(f'hardware profile "{name}" is used by {", ".join(users[:5])}')
            del cluster.hwprofiles[name]
