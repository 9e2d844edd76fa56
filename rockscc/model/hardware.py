"""Declared hardware: disks, existing partitions and md raids of a host or a shared profile."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rockscc.errors import RocksccError
from rockscc.lazyre import LazyPattern

_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}
_SIZE = LazyPattern(r"^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:i?B)?\s*$", re.IGNORECASE)


def parse_size(text: str | int) -> int:
    """Bytes from `80G`, `1T`, `500M`, `4096` (binary units: G = 1024**3)."""
    if isinstance(text, int):
        return text
    match = _SIZE.match(str(text))
    shown = str(text) if len(str(text)) <= 40 else str(text)[:40] + "…"
    if not match:
        raise RocksccError(f"bad size {shown!r}: expected a number with an optional K, M, G, T or P suffix")
    number, unit = match.groups()
    try:
        return int(float(number) * _UNITS[unit.upper()])
    except OverflowError:  # more digits than a float holds
        raise RocksccError(f"bad size {shown!r}: far too large") from None


def format_size(size: int) -> str:
    """The shortest exact spelling of a byte count (`80G`, `1536M`, `4097`)."""
    for unit in "PTGMK":
        factor = _UNITS[unit]
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


@dataclass
class ExistingPartition:
    """What is already on a disk (Rocks' partitions table plus the `.rocks-release` stamp)."""

    device: str
    start: int  # start sector
    size: int  # bytes
    fstype: str = ""
    mountpoint: str = ""
    rocks_release: bool = False
    flags: str = ""


@dataclass
class Disk:
    """A disk of a host's hardware profile, with the partitions already on it."""

    name: str  # sda, hda, cciss/c0d0 …
    size: int  # bytes
    sector_size: int = 512
    partitions: list[ExistingPartition] = field(default_factory=list)


@dataclass
class Raid:
    """A software RAID device of a hardware profile, over member partitions."""

    name: str  # md0
    level: int
    members: list[str]
    mountpoint: str = ""
    fstype: str = "ext3"
    rocks_release: bool = False


@dataclass
class Hardware:
    """A hardware profile: the disks (and RAIDs) a host's partition plan is made for."""

    disks: list[Disk] = field(default_factory=list)
    raids: list[Raid] = field(default_factory=list)
    frontend: bool = False
