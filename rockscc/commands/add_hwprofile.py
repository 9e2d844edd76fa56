"""`rockscc add hwprofile`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._hw import parse_disks, parse_raids
from rockscc.errors import RocksccError
from rockscc.model import Hardware
from rockscc.model.names import check_path_safe


class AddHwprofile(Command):
    """Declare a hardware profile many hosts share: disks (name:size[:sector]) and md raids.
    Partition programs and the partition planner see a host's disks through its profile."""

    name = "add hwprofile"
    args = [Arg("profile")]
    params = [
        Param("disks", required=True, help="e.g. sda:250G or hda:80G,hdb:80G"),
        Param("raids", default="", help="e.g. md0:1:sda1+sdb1:/export"),
        Param("frontend", kind="bool", default=False, help="the installer runs in frontend mode"),
    ]
    examples = ["rockscc add hwprofile one-disk disks=sda:250G", "rockscc add hwprofile two-ide disks=hda:80G,hdb:80G"]
    mutates = True

    def run(self, ctx, opts) -> None:
        name = check_path_safe("hardware profile", opts.profile)
        if name in ctx.cluster.hwprofiles:
            raise RocksccError(f'hardware profile "{name}" already exists')
        ctx.cluster.hwprofiles[name] = Hardware(parse_disks(opts.disks), parse_raids(opts.raids), opts.frontend)
