"""`rockscc list hwprofile`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.errors import RocksccError
from rockscc.model import format_size


class ListHwprofile(Command):
    """List hardware profiles: one row per disk and raid, and how many hosts use each profile."""

    name = "list hwprofile"
    args = [Arg("profile", repeat=True, optional=True)]
    examples = ["rockscc list hwprofile"]

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        for name in opts.profile:
            if name not in cluster.hwprofiles:
                raise RocksccError(f'hardware profile "{name}" is not defined')
        rows = []
        for name, hw in cluster.hwprofiles.items():
            if opts.profile and name not in opts.profile:
                continue
            users = sum(h.hwprofile == name for h in cluster.hosts.values())
            for d in hw.disks:
                rows.append([name, d.name, format_size(d.size), d.sector_size, "", users])
            for r in hw.raids:
                rows.append(
                    [
                        name,
                        r.name,
                        f"raid{r.level}",
                        "",
                        "+".join(r.members) + (f" {r.mountpoint}" if r.mountpoint else ""),
                        users,
                    ]
                )
        ctx.table(["profile", "device", "size", "sector", "members", "hosts"], rows)
