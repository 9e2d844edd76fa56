"""`rockscc list host disk`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.model import format_size


class ListHostDisk(Command):
    """List hosts' declared disks (their own or their profile's) and what is already on them."""

    name = "list host disk"
    args = [Arg("host", kind="host", repeat=True, optional=True)]
    examples = ["rockscc list host disk compute-0-0"]

    def run(self, ctx, opts) -> None:
        rows = []
        for host in opts.host:
            hw = ctx.cluster.hardware_of(host)
            source = "host" if host.hardware is not None else (host.hwprofile or "")
            for d in hw.disks if hw else []:
                rows.append([host.name, d.name, format_size(d.size), d.sector_size, "", "", "", source])
                for p in d.partitions:
                    rows.append(
                        [
                            host.name,
                            p.device,
                            format_size(p.size),
                            p.start,
                            p.fstype,
                            p.mountpoint,
                            "yes" if p.rocks_release else "no",
                            source,
                        ]
                    )
        ctx.table(["host", "device", "size", "sector", "fstype", "mountpoint", "rocks-release", "source"], rows)
