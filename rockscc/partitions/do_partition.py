"""Rocks 5.0's do_partition at build time: from what the `%pre` programs left in
/tmp/user_partition_info and the host's disks to the text of /tmp/partition-info.

1. Unless the host is a frontend, every disk with a partition holding `/.rocks-release` — or
   whose layout equals the recorded one (Rocks' partitions table) — is reconnected: its
   partitions keep their data (`--noformat`) except `/` and `/var`, which are reformatted.
2. User directives are used only if nothing was reconnected. A scheme line (`rocks manual`,
   `rocks force-default`, `rocks force-default-root-disk-only`) or no file at all gives Rocks'
   default layout on the remaining disks (the first one only for `…-root-disk-only`).
3. Non-`raid` lines come first, then `raid` lines.
"""

from __future__ import annotations

from dataclasses import dataclass

from rockscc.model.hardware import Disk, ExistingPartition, Hardware

ROOT_MB, VAR_MB, SWAP_MB = 8000, 4000, 1000


@dataclass
class Decision:
    text: str  # /tmp/partition-info
    scheme: str  # user | manual | force-default | force-default-root-disk-only | default
    reconnected: list[str]  # disks kept


def scheme_of(user: str | None) -> tuple[str | None, list[str]]:
    """(scheme name or None, directive lines). The first `rocks X` line of exactly two tokens wins."""
    if user is None:
        return "default", []
    lines = [line for line in user.splitlines() if line.strip()]
    for line in lines:
        words = line.split()
        if len(words) == 2 and words[0] == "rocks":
            return words[1], []
    return None, lines


def decide(user: str | None, hardware: Hardware, recorded: list[ExistingPartition]) -> Decision:
    scheme, directives = scheme_of(user)
    pool = [d.name for d in hardware.disks]
    lines: list[str] = []
    reconnected: list[str] = []
    if not hardware.frontend:
        for disk in hardware.disks:
            if _is_rocks_disk(disk, hardware) or _matches_record(disk, recorded):
                lines += reconnect_disk(disk, hardware)
                reconnected.append(disk.name)
                pool.remove(disk.name)
        lines += _reconnect_raids(hardware, reconnected)
    if scheme is None:
        if not reconnected:
            lines += directives
        return Decision(_ordered(lines), "user", reconnected)
    if scheme == "manual":
        return Decision(_ordered(lines), "manual", reconnected)
    targets = pool[:1] if scheme == "force-default-root-disk-only" else pool
    lines += default_layout(
        targets,
        has_root=any(_mount_of(p) == "/" for d in hardware.disks if d.name in reconnected for p in d.partitions),
    )
    return Decision(_ordered(lines), scheme, reconnected)


def default_layout(disks: list[str], *, has_root: bool = False) -> list[str]:
    if not disks:
        return []
    lines = [f"clearpart --all --initlabel --drives={','.join(disks)}"]
    n = 1
    for disk in disks:
        if not has_root:
            lines += [
                f"part / --size={ROOT_MB} --fstype=ext3 --ondisk={disk}",
                f"part /var --size={VAR_MB} --fstype=ext3 --ondisk={disk}",
                f"part swap --size={SWAP_MB} --ondisk={disk}",
            ]
            has_root = True
        lines.append(f"part /state/partition{n} --size=1 --fstype=ext3 --grow --ondisk={disk}")
        n += 1
    return lines


def reconnect_disk(disk: Disk, hardware: Hardware) -> list[str]:
    """addPartitions(format=0): keep the data, reformat / and /var."""
    members = {m for r in hardware.raids for m in r.members}
    lines = []
    for part in disk.partitions:
        mount = _mount_of(part)
        if part.device in members:
            lines.append(f"part raid.{part.device} --noformat --size 1 --onpart {part.device}")
        elif mount in ("/", "/var"):
            lines.append(f"part {mount} --fstype {part.fstype or 'ext3'} --onpart {part.device}")
        elif mount:
            lines.append(f"part {mount} --noformat --onpart {part.device}")
    return lines


def _reconnect_raids(hardware: Hardware, reconnected: list[str]) -> list[str]:
    lines = []
    for raid in hardware.raids:
        if raid.mountpoint and any(m.startswith(tuple(reconnected)) for m in raid.members) and reconnected:
            fmt = "" if raid.mountpoint in ("/", "/var") else " --noformat"
            members = " ".join(f"raid.{m}" for m in raid.members)
            lines.append(f"raid {raid.mountpoint}{fmt} --device={raid.name} --level={raid.level} {members}")
    return lines


def _is_rocks_disk(disk: Disk, hardware: Hardware) -> bool:
    return any(p.rocks_release for p in disk.partitions)


def _matches_record(disk: Disk, recorded: list[ExistingPartition]) -> bool:
    """compareDiskInfo: the disk's layout is exactly what the partitions table recorded."""
    mine = [p for p in recorded if p.device.startswith(disk.name) and p.device[len(disk.name) :].isdigit()]
    if not mine or not disk.partitions:
        return False
    key = lambda p: (p.device, p.start, p.size, p.fstype, p.mountpoint)  # noqa: E731
    return sorted(map(key, mine)) == sorted(map(key, disk.partitions))


def _mount_of(part: ExistingPartition) -> str:
    return "swap" if part.fstype in ("swap", "linux-swap") else part.mountpoint


def _ordered(lines: list[str]) -> str:
    plain = [line for line in lines if not line.startswith("raid ")]
    raids = [line for line in lines if line.startswith("raid ")]
    return "".join(line + "\n" for line in plain + raids)
