"""The host's partition plan (what `list host partition plan` prints) as a partman-auto expert recipe.

partman-auto creates a recipe's partitions in order on one disk: those marked `$primary{ }` first,
as primary partitions from the start of the disk, the others as logical ones (msdos), or all as
primary ones (gpt); each gets its recipe size (decimal megabytes, aligned by parted to 1 MiB) and
the last one the rest of the disk. So every partition of the plan gets min = priority = max = its
planned size, the last one grows, and a plan partman-auto could not reproduce (partitions on two
disks, a kept partition, free space left at the end, md RAID or LVM) is refused with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rockscc.errors import RocksccError

MIB = 1024 * 1024
MB = 1000 * 1000  # partman's unit
GROW_SLACK_MB = 16  # the last partition's minimum is below its size: the sizes before it are rounded
_MOUNT = re.compile(r"^/[A-Za-z0-9/._+-]*$")
FILESYSTEMS = {"ext2", "ext3", "ext4", "xfs", "jfs", "btrfs"}


@dataclass(frozen=True)
class Recipe:
    disk: str  # /dev/NAME
    label: str  # msdos | gpt
    text: str  # partman-auto/expert_recipe
    entries: tuple[tuple[int, str, str, bool], ...]  # (size in bytes, fstype, mount point, primary) in order


def plan_recipe(plan: dict, host: str) -> Recipe:
    """The expert recipe laying out the plan's partitions, as partman-auto will create them."""
    rows = [r for r in plan.get("partitions", []) if r["kind"] != "extended"]
    if not rows:
        raise RocksccError(f"host {host}: the partition plan has no partitions: nothing for partman to lay out")
    special = [r for r in rows if r["kind"] in ("raid", "lvm")]
    if special:
        raise RocksccError(
            f"host {host}: {special[0]['device']} ({special[0]['kind']}): debian12 lays out plain "
            f"partitions only; md RAID and LVM plans are not translated to partman yet"
        )
    disks = sorted({r["disk"] for r in rows})
    if len(disks) > 1:
        raise RocksccError(
            f"host {host}: the plan has partitions on {', '.join(disks)}: partman-auto lays out one "
            f"disk (use a partition program that partitions only the root disk)"
        )
    disk = next(d for d in plan["disks"] if d["name"] == disks[0])
    _check_layout(rows, disk, host)
    entries, parts = [], []
    for i, row in enumerate(rows):
        last = i == len(rows) - 1
        entry = _entry(row, disk, host, last)
        parts.append(entry)
        entries.append((row["size"], row["fstype"], row["mountpoint"], row["kind"] == "primary"))
    return Recipe(f"/dev/{disk['name']}", disk["label"], "rockscc : " + " ".join(parts), tuple(entries))


def _check_layout(rows: list[dict], disk: dict, host: str) -> None:
    """partman-auto puts the first partition at 1 MiB and each next one right after the previous
    one (a 1 MiB gap before a logical partition), and the last one ends at the end of the disk."""
    sector = disk["sector_size"]
    align = MIB // sector
    cursor = align
    for row in rows:
        if not row["format"]:
            raise RocksccError(
                f"host {host}: {row['device']} ({row['mountpoint'] or 'no mount point'}) keeps its "
                f"data: partman-auto makes a new partition table, so debian12 cannot keep it"
            )
        expected = cursor + (align if row["kind"] == "logical" else 0)
        if row["start"] != expected:
            raise RocksccError(
                f"host {host}: {row['device']} starts at sector {row['start']}, where partman-auto "
                f"would put it at {expected}: only a plan laid out from the start of a cleared disk "
                f"can be reproduced by partman"
            )
        cursor = -(-(row["end"] + 1) // align) * align
    end_of_disk = disk["sectors"] - (34 if disk["label"] == "gpt" else 0)
    if end_of_disk - rows[-1]["end"] - 1 > align:
        free = (end_of_disk - rows[-1]["end"] - 1) * sector // MIB
        raise RocksccError(
            f"host {host}: the plan leaves {free} MiB free after {rows[-1]['device']}: partman-auto's "
            f"last partition takes the rest of the disk (let the last partition --grow)"
        )


def _entry(row: dict, disk: dict, host: str, last: bool) -> str:
    fstype, mount, size = row["fstype"], row["mountpoint"], row["size"]
    megabytes = max(1, round(size / MB))
    low, high = (max(1, megabytes - GROW_SLACK_MB), -1) if last else (megabytes, megabytes)
    primary = "$primary{ } " if row["kind"] == "primary" and disk["label"] == "msdos" else ""
    if fstype == "swap" or mount == "swap":
        body = "method{ swap } format{ }"
        parted = "linux-swap"
    elif fstype in FILESYSTEMS:
        _check_mount(mount, row, host)
        body = f"method{{ format }} format{{ }} use_filesystem{{ }} filesystem{{ {fstype} }} mountpoint{{ {mount} }}"
        parted = fstype if fstype in ("ext2", "ext3", "ext4", "xfs", "jfs") else "ext2"
    elif fstype == "efi":
        body = "method{ efi } format{ }"
        parted = "fat32"
    elif fstype in ("vfat", "fat32", "fat16"):
        _check_mount(mount, row, host)
        body = f"method{{ format }} format{{ }} use_filesystem{{ }} filesystem{{ fat32 }} mountpoint{{ {mount} }}"
        parted = "fat32"
    elif fstype == "biosboot":
        body = "method{ biosgrub }"
        parted = "free"
    else:
        raise RocksccError(
            f"host {host}: {row['device']} has file system {fstype or 'none'!r} "
            f"({mount or 'no mount point'}): not one partman can make on debian12"
        )
    return f"{low} {megabytes} {high} {parted} {primary}{body} ."


def _check_mount(mount: str, row: dict, host: str) -> None:
    if not _MOUNT.match(mount) or "//" in mount or "/./" in mount + "/" or "/../" in mount + "/":
        raise RocksccError(
            f"host {host}: {row['device']}: mount point {mount!r} is not one partman takes "
            f"(an absolute path of letters, digits and . _ + -)"
        )
