"""Parsing the compact hardware notations of the hardware commands."""

from __future__ import annotations

import copy

from rockscc.errors import RocksccError
from rockscc.model import Disk, Hardware, Raid, parse_size
from rockscc.model.names import check_path_safe
from rockscc.model.values import MAX_DISK


def parse_disks(text: str) -> list[Disk]:
    """`sda:80G,sdb:1T` or `sda:4T:4096` (name:size[:sector size])."""
    disks = []
    for item in filter(None, (t.strip() for t in text.split(","))):
        fields = item.split(":")
        if len(fields) not in (2, 3):
            raise RocksccError(f'disks: "{item}" is not NAME:SIZE[:SECTOR] (e.g. sda:80G)')
        name = check_path_safe("disk", fields[0]) if "/" not in fields[0] else _cciss(fields[0])
        sector = int(fields[2]) if len(fields) == 3 else 512
        if sector not in (512, 4096):
            raise RocksccError(f"disks: sector size {sector} must be 512 or 4096")
        size = parse_size(fields[1])
        if size < 16 * 1024**2:
            raise RocksccError(f'disks: "{item}" is smaller than 16 MiB')
        if size > MAX_DISK:
            raise RocksccError(f'disks: "{item}" is larger than 1 EiB')
        disks.append(Disk(name, size, sector))
    if len({d.name for d in disks}) != len(disks):
        raise RocksccError("disks: a disk is named twice")
    return disks


def parse_raids(text: str) -> list[Raid]:
    """`md0:1:sda1+sdb1:/export` (name:level:members joined by +[:mountpoint])."""
    raids = []
    for item in filter(None, (t.strip() for t in text.split(","))):
        fields = item.split(":")
        if len(fields) not in (3, 4):
            raise RocksccError(f'raids: "{item}" is not NAME:LEVEL:MEMBER+MEMBER[:MOUNTPOINT]')
        try:
            level = int(fields[1])
        except ValueError:
            raise RocksccError(f'raids: level "{fields[1]}" is not a number') from None
        raids.append(
            Raid(check_path_safe("raid", fields[0]), level, fields[2].split("+"), fields[3] if len(fields) == 4 else "")
        )
    return raids


def own_hardware(cluster, host) -> Hardware | None:
    """The host's own hardware record, made on first use from a deep copy of its profile (so
    editing the host never edits the profile many hosts share); None without either."""
    if host.hardware is None:
        profile = cluster.hardware_of(host)
        if profile is None:
            return None
        host.hardware = copy.deepcopy(profile)
    return host.hardware


def _cciss(name: str) -> str:
    if name.count("/") != 1 or ".." in name:
        raise RocksccError(f'disk name "{name}" may hold one "/" (cciss/c0d0) and no ".."')
    return name
