"""`rockscc add host disk`."""

from __future__ import annotations

import copy

from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._hw import own_hardware, parse_disks
from rockscc.errors import RocksccError
from rockscc.model import Hardware


class AddHostDisk(Command):
    """Declare a disk of a host itself (not through a profile). The first disk added copies
    the host's profile, if any, so the host keeps the profile's disks and adds this one."""

    name = "add host disk"
    args = [Arg("host", kind="host", repeat=True), Arg("disk", help="device name, e.g. sdb")]
    params = [Param("size", required=True, help="e.g. 80G, 2T"), Param("sector", kind="int", default=512)]
    examples = ["rockscc add host disk nas-0-0 sde size=4T"]
    mutates = True

    def run(self, ctx, opts) -> None:
        (disk,) = parse_disks(f"{opts.disk}:{opts.size}:{opts.sector}")
        for host in opts.host:
            hardware = own_hardware(ctx.cluster, host)
            if hardware is None:
                hardware = host.hardware = Hardware()
            if any(d.name == disk.name for d in hardware.disks):
                raise RocksccError(f'host "{host.name}" already has disk "{disk.name}"')
            hardware.disks.append(copy.deepcopy(disk))
