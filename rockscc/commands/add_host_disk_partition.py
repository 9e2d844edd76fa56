"""`rockscc add host disk partition`: what is already on a host's disk."""

from __future__ import annotations

import copy

from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._hw import own_hardware
from rockscc.errors import RocksccError
from rockscc.model import ExistingPartition, parse_size


class AddHostDiskPartition(Command):
    """Declare a partition already on a host's disk, e.g. from a previous install. With
    rocks-release=yes it carries /.rocks-release, so do_partition reconnects the disk (keeping
    the data, reformatting / and /var) instead of repartitioning it."""

    name = "add host disk partition"
    args = [Arg("host", kind="host", repeat=True), Arg("device", help="e.g. sda1")]
    params = [
        Param("start", kind="int", default=2048, help="start sector"),
        Param("size", required=True),
        Param("fstype", default="ext3"),
        Param("mountpoint", default=""),
        Param("rocks-release", kind="bool", default=False),
    ]
    examples = ["rockscc add host disk partition compute-0-3 sda1 size=8000M mountpoint=/ rocks-release=yes"]
    mutates = True

    def run(self, ctx, opts) -> None:
        part = ExistingPartition(
            opts.device, opts.start, parse_size(opts.size), opts.fstype, opts.mountpoint, opts.rocks_release
        )
        for host in opts.host:
            hardware = own_hardware(ctx.cluster, host)
            if hardware is None:
                raise RocksccError(f'host "{host.name}" has no disks: add host disk first')
            disk = next(
                (
                    d
                    for d in sorted(hardware.disks, key=lambda d: -len(d.name))
                    if opts.device.startswith(d.name) and opts.device[len(d.name) :].lstrip("p").isdigit()
                ),
                None,
            )
            if disk is None:
                raise RocksccError(f'host "{host.name}": no disk holds partition "{opts.device}"')
            if any(p.device == opts.device for p in disk.partitions):
                raise RocksccError(f'host "{host.name}": partition "{opts.device}" already exists')
            end = part.start + part.size // disk.sector_size
            if end > disk.size // disk.sector_size:
                raise RocksccError(f'partition "{opts.device}" ends beyond the end of {disk.name}')
            disk.partitions.append(copy.deepcopy(part))
