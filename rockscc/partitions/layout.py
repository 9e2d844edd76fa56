"""Planning partition directives onto the declared disks with pyparted, down to the sector.

Each disk becomes a sparse image file of its declared size (no root, no loop devices); a label
(msdos, or gpt above 2 TiB) and every partition are created with pyparted at the sectors the
planner chose and committed, so the table is one parted accepts. Sizes in directives are MiB,
as in anaconda; partitions are aligned to 1 MiB. Sectors are the disk's own (512 or 4096 bytes);
an image file always has 512-byte sectors, so a 4096-byte disk sector is 8 of the image's.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass, field

import parted

from rockscc.errors import RocksccError
from rockscc.grammar.partition import Directive
from rockscc.model.hardware import Disk, Hardware, format_size

MIB = 1024 * 1024
TWO_TIB = 2 * 1024**4
ALIGN = MIB
# libparted's limits (msdos: 64 numbers; gpt: its 128 entries); pyparted's
# maxSupportedPartitionCount reads the device and aborts the process on a closed image
MAX_PARTITIONS = {"msdos": 64, "gpt": 128}
SPECIAL_MOUNTS = ("swap", "none", "biosboot")  # the mount words that are not paths
# file systems anaconda formats (pykickstart accepts any word; the installer stops on others)
FSTYPES = {"ext2", "ext3", "ext4", "xfs", "btrfs", "vfat", "efi", "biosboot", "prepboot", "swap", "raid", "lvmpv"}
FSTYPES |= {"hfs", "hfs+", "jfs", "reiserfs", "gfs2", "msdos", "ntfs"}


@dataclass
class Request:
    mount: str
    size: int  # bytes (base)
    grow: bool
    maxsize: int | None
    disk: str | None
    primary: bool
    fstype: str
    directive: Directive
    onpart: str | None = None
    format: bool = True


@dataclass
class Planned:
    disk: str
    device: str
    start: int  # sector
    end: int  # sector, inclusive
    size: int  # bytes
    fstype: str
    mountpoint: str
    format: bool
    kind: str = "primary"  # primary | logical | extended | raid | lvm


@dataclass
class Plan:
    disks: list[dict] = field(default_factory=list)
    rows: list[Planned] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"disks": self.disks, "partitions": [asdict(r) for r in self.rows], "notes": self.notes}


class PlanError(RocksccError):
    pass


def _image_dir() -> str | None:
    """Where sparse disk images are made: a tmpfs where there is one (files up to exabytes, no
    disk writes; an image uses a few pages for its partition table), else the temp directory."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK | os.X_OK) else None


def plan_layout(directives: list[Directive], hardware: Hardware, host: str, source: str = "partition-info") -> Plan:
    planner = _Planner(directives, hardware, host, source)
    return planner.run()


class _Planner:
    def __init__(self, directives, hardware: Hardware, host: str, source: str) -> None:
        self.directives, self.hw, self.host, self.source = directives, hardware, host, source
        self.disks = {d.name: d for d in hardware.disks}
        self.plan = Plan()

    def fail(self, directive: Directive | None, message: str):
        where = f"{self.source}:{directive.line}: {directive.text()}: " if directive else ""
        raise PlanError(f"host {self.host}: {where}{message}")

    # --- the whole plan ---------------------------------------------------------------------------
    def run(self) -> Plan:
        usable = self._usable_disks()
        cleared = self._cleared(usable)
        parts = [d for d in self.directives if d.command == "part"]
        requests = [self._request(d) for d in parts]
        self._check_mounts()
        by_disk = self._place([r for r in requests if not r.onpart], usable)
        with tempfile.TemporaryDirectory(prefix="rockscc-plan-", dir=_image_dir()) as tmp:
            for name in usable:
                self._plan_disk(self.disks[name], by_disk.get(name, []), name in cleared, tmp, requests)
        self._raids()
        self._volgroups()
        if self.directives and not any(r.mountpoint == "/" for r in self.plan.rows):
            self.fail(None, "no partition is mounted at /")
        return self.plan

    def _usable_disks(self) -> list[str]:
        names = list(self.disks)
        for d in self.directives:
            if d.command == "ignoredisk":
                if d.opt("only-use"):
                    keep = d.opt("only-use").split(",")
                    self._known(d, keep)
                    names = [n for n in names if n in keep]
                if d.opt("drives"):
                    drop = d.opt("drives").split(",")
                    self._known(d, drop)
                    names = [n for n in names if n not in drop]
        return names

    def _cleared(self, usable: list[str]) -> set[str]:
        cleared: set[str] = set()
        for d in self.directives:
            if d.command == "clearpart" and (d.opt("all") or d.opt("linux")):
                drives = d.opt("drives").split(",") if d.opt("drives") else usable
                self._known(d, drives)
                cleared |= set(drives)
            if d.command == "autopart":
                self.fail(d, "autopart leaves the layout to the installer; rockscc cannot plan it")
        return cleared

    def _known(self, d: Directive, names: list[str]) -> None:
        for name in names:
            if name not in self.disks:
                self.fail(d, f'unknown disk "{name}" (declared: {", ".join(self.disks) or "none"})')

    def _request(self, d: Directive) -> Request:
        if not d.words:
            self.fail(d, "part needs a mount point (/, swap, raid.NN, pv.NN, …)")
        mount = d.words[0]
        size = _mib(d, "size", self) if d.opt("size") else None
        if d.opt("onpart"):
            return Request(
                mount, 0, False, None, None, False, d.opt("fstype", ""), d, d.opt("onpart"), not d.opt("noformat")
            )
        if size is None:
            if d.opt("recommended") and mount == "swap":
                size = 1024 * MIB
            else:
                self.fail(d, "needs --size (or --onpart)")
        maxsize = _mib(d, "maxsize", self) if d.opt("maxsize") else None
        if d.opt("grow") and maxsize is not None and maxsize <= size:
            self.fail(d, f"--grow can never grow: --maxsize {maxsize // MIB} is not above --size {size // MIB}")
        if d.opt("ondisk") and d.opt("ondisk") not in self.disks:
            self._known(d, [d.opt("ondisk")])
        fstype = d.opt(
            "fstype",
            "swap"
            if mount == "swap"
            else "raid"
            if mount.startswith("raid.")
            else "lvmpv"
            if mount.startswith("pv.")
            else "ext3",
        )
        return Request(mount, size, bool(d.opt("grow")), maxsize, d.opt("ondisk"), bool(d.opt("asprimary")), fstype, d)

    def _check_mounts(self) -> None:
        seen: dict[str, Directive] = {}
        for d in self.directives:
            if d.command in ("part", "raid", "logvol") and d.words:
                mount = d.words[0]
                self._check_mount(d, mount)
                if mount in SPECIAL_MOUNTS or (d.command != "part" and mount.startswith(("raid.", "pv."))):
                    continue  # a raid.NN / pv.NN names one partition: two `part raid.01` are an error
                if mount in seen:
                    what = "name" if mount.startswith(("raid.", "pv.")) else "mount point"
                    self.fail(d, f"{what} {mount} is already used (line {seen[mount].line})")
                seen[mount] = d

    def _check_mount(self, d: Directive, mount: str) -> None:
        """What the installer would refuse only while installing: a mount point that is not a
        clean absolute path, a file system it does not know, swap mounted somewhere."""
        fstype = d.opt("fstype")
        if isinstance(fstype, str) and fstype.lower() not in FSTYPES:
            self.fail(d, f"--fstype={fstype} is not a file system the installer knows ({', '.join(sorted(FSTYPES))})")
        if mount in SPECIAL_MOUNTS or (d.command == "part" and mount.startswith(("raid.", "pv."))):
            return
        if not mount.isprintable() or "\ufffd" in mount:  # control bytes, or bytes not UTF-8
            self.fail(d, f"mount point {mount!r} has characters that are not printable text")
        if (
            not mount.startswith("/")
            or os.path.normpath(mount) != mount
            or "//" in mount
            or any(c.isspace() for c in mount)
        ):
            self.fail(d, f"mount point {mount!r} is not an absolute path without spaces, '.' or '..' (like /home)")
        if fstype == "swap":
            self.fail(d, f"swap has no mount point: write `{d.command} swap`, not {mount}")

    # --- which disk each new partition goes on --------------------------------------------------
    def _place(self, requests: list[Request], usable: list[str]) -> dict[str, list[Request]]:
        placed: dict[str, list[Request]] = {n: [] for n in usable}
        for r in requests:
            if r.disk:
                if r.disk not in usable:
                    self.fail(r.directive, f"disk {r.disk} is excluded by ignoredisk")
                target = r.disk
            else:
                target = next((n for n in usable if self._needs(n, placed[n] + [r]) <= self._free(n)), None)
                if target is None:
                    self.fail(r.directive, f"does not fit on any disk ({_disk_list(self.disks, usable)})")
            placed[target].append(r)
        return placed

    def _free(self, name: str) -> int:
        disk = self.disks[name]
        return disk.size - sum(p.size for p in disk.partitions)

    def _needs(self, name: str, requests: list[Request]) -> int:
        """Bytes these new partitions take on the disk, as _lay_out places them: the first MiB,
        whole MiB each, a MiB before each logical partition, the backup GPT at the end (an
        estimate that a request filling a disk exactly fits: _lay_out decides to the sector)."""
        disk = self.disks[name]
        need = ALIGN + sum(_round(r.size) for r in requests)
        count = len(requests) + len(disk.partitions)
        if disk.size > TWO_TIB:
            need += _gpt_backup(disk.sector_size) * disk.sector_size
        elif count > 4:
            need += ALIGN * (count - 3)
        return need

    # --- one disk -------------------------------------------------------------------------------
    def _plan_disk(self, disk: Disk, requests: list[Request], cleared: bool, tmp: str, all_requests) -> None:
        sector = disk.sector_size
        image = os.path.join(tmp, disk.name.replace("/", "_"))
        sectors = disk.size // sector  # the disk's whole sectors: a partial last one is not usable
        try:
            with open(image, "wb") as fh:
                fh.truncate(sectors * sector)
        except OSError as exc:
            self.fail(
                None,
                f"disk {disk.name} ({format_size(disk.size)}): cannot make its sparse image in {tmp}: {exc.strerror}",
            )
        device = parted.getDevice(image)
        label = self._label(disk)
        pdisk = parted.freshDisk(device, label)
        self.scale = sector // device.sectorSize  # image sectors per disk sector
        kept = [] if cleared else list(disk.partitions)
        for existing in kept:
            start = existing.start
            self._add(pdisk, device, parted.PARTITION_NORMAL, start, start + existing.size // sector - 1, self.scale)
            onpart = next((r for r in all_requests if r.onpart == existing.device), None)
            mount = onpart.mount if onpart else existing.mountpoint
            fmt = onpart.format if onpart else False
            self.plan.rows.append(
                Planned(
                    disk.name,
                    existing.device,
                    start,
                    start + existing.size // sector - 1,
                    existing.size,
                    (onpart.fstype if onpart and onpart.fstype else existing.fstype),
                    mount,
                    fmt,
                )
            )
        for r in all_requests:
            if r.onpart and r.onpart.startswith(disk.name) and r.onpart not in {p.device for p in kept}:
                self.fail(
                    r.directive,
                    f"--onpart {r.onpart}: no such partition on {disk.name}"
                    + (" (the disk is cleared)" if cleared else ""),
                )
        if requests:
            self._lay_out(disk, pdisk, device, sectors, requests, kept)
        pdisk.commitToDevice()  # write the table; commit() would also poke udev about a plain file
        self.plan.disks.append(
            {"name": disk.name, "size": disk.size, "sector_size": sector, "label": label, "sectors": sectors}
        )

    def _label(self, disk: Disk) -> str:
        """`clearpart --disklabel=` for the disk if a directive says one (the installer makes that
        label: its numbering and limits are the plan's), else msdos, gpt above 2 TiB."""
        label = "gpt" if disk.size > TWO_TIB else "msdos"
        for d in self.directives:
            if d.command == "clearpart" and isinstance(d.opt("disklabel"), str):
                drives = d.opt("drives").split(",") if d.opt("drives") else [disk.name]
                if disk.name not in drives:
                    continue
                label = d.opt("disklabel")
                if label not in MAX_PARTITIONS:
                    self.fail(d, f"--disklabel={label}: rockscc plans msdos or gpt labels")
                if label == "msdos" and disk.size // disk.sector_size > 1 << 32:
                    self.fail(
                        d,
                        f"--disklabel=msdos: {disk.name} ({format_size(disk.size)}) has more sectors than msdos "
                        "addresses (2^32): use gpt",
                    )
        return label

    def _lay_out(self, disk: Disk, pdisk, device, sectors: int, requests: list[Request], kept) -> None:
        sector = disk.sector_size
        align = ALIGN // sector
        first = max([align] + [p.start + p.size // sector for p in kept])
        first = -(-first // align) * align
        last = sectors - 1 - (_gpt_backup(sector) if pdisk.type == "gpt" else 0)
        ordered = sorted(requests, key=lambda r: (not r.primary,))  # --asprimary first, else directive order
        logical = pdisk.type == "msdos" and len(ordered) + len(kept) > 4
        n_primary = (3 - len(kept)) if logical else len(ordered)
        if logical and n_primary < 0:
            self.fail(
                ordered[0].directive, f"{disk.name} has {len(kept)} kept partitions: no room for an extended partition"
            )
        self._check_count(disk, pdisk, ordered, kept, n_primary if logical else None)
        overhead = align * (len(ordered) - n_primary) if logical else 0  # an EBR gap before each logical
        space = (last - first + 1 - overhead) * sector
        sizes = self._sizes(ordered, space, disk)
        cursor = first
        for i, (r, size) in enumerate(zip(ordered, sizes)):
            if logical and i == n_primary:
                ext = self._add(pdisk, device, parted.PARTITION_EXTENDED, cursor, last, self.scale)
                self.plan.rows.append(
                    Planned(
                        disk.name,
                        _devname(disk.name, ext.number),
                        cursor,
                        last,
                        (last - cursor + 1) * sector,
                        "",
                        "",
                        True,
                        "extended",
                    )
                )
            is_logical = logical and i >= n_primary
            if is_logical:
                cursor += align
            length = size // sector
            end = min(cursor + length - 1, last)
            part = self._add(
                pdisk,
                device,
                parted.PARTITION_LOGICAL if is_logical else parted.PARTITION_NORMAL,
                cursor,
                end,
                self.scale,
            )
            self.plan.rows.append(
                Planned(
                    disk.name,
                    _devname(disk.name, part.number),
                    cursor,
                    end,
                    (end - cursor + 1) * sector,
                    r.fstype,
                    r.mount,
                    True,
                    "logical" if is_logical else "primary",
                )
            )
            cursor = end + 1
            cursor = -(-cursor // align) * align

    def _check_count(self, disk: Disk, pdisk, ordered: list[Request], kept, n_primary: int | None) -> None:
        """The label's partition count (parted: 64 numbers on msdos, logical ones from 5; 128 on
        gpt), and --asprimary only as many times as there are primary slots left."""
        numbers = 4 + len(ordered) - n_primary if n_primary is not None else len(kept) + len(ordered)
        most = MAX_PARTITIONS[pdisk.type]
        if numbers > most:
            self.fail(
                ordered[len(ordered) - (numbers - most)].directive,
                f"{disk.name} ({pdisk.type} label) holds at most {most} partitions",
            )
        if n_primary is not None and sum(r.primary for r in ordered) > n_primary:
            self.fail(
                [r for r in ordered if r.primary][n_primary].directive,
                f"--asprimary: {disk.name} has {n_primary} primary partitions left beside the extended one",
            )

    def _sizes(self, requests: list[Request], space: int, disk: Disk) -> list[int]:
        """Fixed sizes, then the space left shared among --grow requests in proportion to their
        base size (as anaconda grows), never above --maxsize; everything rounded to 1 MiB."""
        sizes = [_round(r.size) for r in requests]
        free = space - sum(sizes)
        if free < 0:
            culprit = requests[-1].directive
            self.fail(
                culprit, f"does not fit on {disk.name}: needs {sum(sizes) // MIB} MiB, {space // MIB} MiB available"
            )
        growing = [i for i, r in enumerate(requests) if r.grow]
        while free >= MIB and growing:
            weight = sum(max(requests[i].size, MIB) for i in growing)
            share = {i: free * max(requests[i].size, MIB) // weight // MIB * MIB for i in growing}
            if not any(share.values()):
                share[growing[0]] = free // MIB * MIB
            capped = []
            for i in growing:
                limit = requests[i].maxsize
                add = share[i] if limit is None else min(share[i], _round(limit) - sizes[i])
                sizes[i] += add
                free -= add
                if limit is not None and sizes[i] >= _round(limit):
                    capped.append(i)
            growing = [i for i in growing if i not in capped]
            if not capped:
                if free >= MIB and growing:  # remainder of the integer division: to the last grower
                    sizes[growing[-1]] += free // MIB * MIB
                    free -= free // MIB * MIB
                break
        return sizes

    @staticmethod
    def _add(pdisk, device, kind, start: int, end: int, scale: int):
        """Partition [start, end] (disk sectors) on the image, whose sectors are 1/scale of them."""
        geometry = parted.Geometry(device=device, start=start * scale, end=(end + 1) * scale - 1)
        partition = parted.Partition(disk=pdisk, type=kind, geometry=geometry)
        pdisk.addPartition(partition, constraint=parted.Constraint(exactGeom=geometry))
        return partition

    # --- md raid and LVM ------------------------------------------------------------------------
    def _raids(self) -> None:
        members = {r.mountpoint: r for r in self.plan.rows if r.mountpoint.startswith("raid.")}
        used: dict[str, Directive] = {}  # member or md device -> the raid line naming it
        for d in (d for d in self.directives if d.command == "raid"):
            if len(d.words) < 2:
                self.fail(d, "raid needs a mount point and member partitions")
            mount, names = d.words[0], d.words[1:]
            level = str(d.opt("level", "")).upper().removeprefix("RAID")
            if level not in ("0", "1", "5", "6", "10"):
                self.fail(d, "--level must be 0, 1, 5, 6 or 10")
            parts = []
            for name in names:
                if name not in members:
                    self.fail(d, f"member {name} is not a planned raid partition")
                if name in used:  # the same partition twice would count its size twice
                    self.fail(d, f"member {name} is already in the raid at line {used[name].line}")
                used[name] = d
                parts.append(members[name])
            disks = {p.disk for p in parts}
            if level != "0" and len(disks) < 2:
                self.fail(d, f"all members are on {parts[0].disk}: RAID{level} there survives no disk failure")
            need = {"0": 2, "1": 2, "5": 3, "6": 4, "10": 4}[level]
            if len(parts) < need:
                self.fail(d, f"RAID{level} needs at least {need} members")
            smallest = min(p.size for p in parts)
            count = len(parts)
            size = {
                "0": sum(p.size for p in parts),
                "1": smallest,
                "5": (count - 1) * smallest,
                "6": (count - 2) * smallest,
                "10": count // 2 * smallest,
            }[level]
            device = d.opt("device", f"md{len([r for r in self.plan.rows if r.kind == 'raid'])}")
            device = device if device.startswith("md") else f"md{device}"
            if device in used:
                self.fail(d, f"--device {device} is already the raid at line {used[device].line}")
            used[device] = d
            fstype = d.opt("fstype", "swap" if mount == "swap" else "ext3")
            self.plan.rows.append(Planned(device, device, 0, 0, size, fstype, mount, not d.opt("noformat"), "raid"))

    def _volgroups(self) -> None:
        pvs = {r.mountpoint: r for r in self.plan.rows if r.mountpoint.startswith("pv.")}
        groups: dict[str, list] = {}
        used: dict[str, Directive] = {}  # physical volume -> the volgroup line naming it
        for d in (d for d in self.directives if d.command == "volgroup"):
            if len(d.words) < 2:
                self.fail(d, "volgroup needs a name and physical volumes")
            if d.words[0] in groups:
                self.fail(d, f"volume group {d.words[0]} is already defined (line {groups[d.words[0]][0].line})")
            pesize = _whole(d, "pesize", self, "KiB") * 1024 if d.opt("pesize") else 4 * MIB
            if pesize & (pesize - 1):
                self.fail(d, "--pesize must be a power of two KiB (4096: 4 MiB extents)")
            total = 0
            for name in d.words[1:]:
                if name not in pvs:
                    self.fail(d, f"physical volume {name} is not a planned pv. partition")
                if name in used:
                    self.fail(d, f"physical volume {name} is already in the volgroup at line {used[name].line}")
                used[name] = d
                total += max(0, pvs[name].size - MIB) // pesize * pesize  # LVM metadata, whole extents
            groups[d.words[0]] = [d, total, pesize, total]
        lvs = [d for d in self.directives if d.command == "logvol"]
        for d in lvs:
            vg = groups.get(d.opt("vgname", ""))
            if vg is None:
                self.fail(d, f"--vgname {d.opt('vgname')!r} is not a volgroup")
        for name, (_vgd, total, pesize, _) in groups.items():
            mine = [d for d in lvs if d.opt("vgname") == name]
            fixed = []
            for d in mine:
                if d.opt("percent"):
                    percent = _whole(d, "percent", self, "percent")
                    if percent > 100:
                        self.fail(d, "--percent must be at most 100")
                    fixed.append(total * percent // 100 // pesize * pesize)
                elif d.opt("size"):
                    fixed.append(_mib(d, "size", self) // pesize * pesize)
                else:
                    self.fail(d, "logvol needs --size or --percent")
            free = total - sum(fixed)
            if free < 0:
                self.fail(
                    mine[-1],
                    f"does not fit in volume group {name}: needs {sum(fixed) // MIB} MiB, {total // MIB} MiB available",
                )
            growing = [i for i, d in enumerate(mine) if d.opt("grow")]
            for i in growing:
                fixed[i] += free // len(growing) // pesize * pesize
            names: dict[str, Directive] = {}
            for d, size in zip(mine, fixed):
                lv = d.opt("name") or d.words[0].strip("/").replace("/", "_") or "lv"
                if lv in names:
                    self.fail(d, f"logical volume {name}/{lv} is already defined (line {names[lv].line})")
                names[lv] = d
                if size < pesize:
                    self.fail(d, f"gets {size // MIB} MiB in volume group {name}: less than one extent")
                fstype = d.opt("fstype", "swap" if d.words[0] == "swap" else "ext3")
                self.plan.rows.append(
                    Planned(name, f"{name}/{lv}", 0, 0, size, fstype, d.words[0], not d.opt("noformat"), "lvm")
                )


def _mib(d: Directive, option: str, planner: _Planner) -> int:
    return _whole(d, option, planner, "MiB") * MIB


def _whole(d: Directive, option: str, planner: _Planner, unit: str) -> int:
    """The option's value as a whole number, at least 1."""
    value = d.opt(option)
    try:
        if not (isinstance(value, str) and value.isascii() and value.lstrip("-").isdigit()):
            raise ValueError(value)  # int() also reads "1_000", " 7" and other scripts' digits
        number = int(value)
    except (TypeError, ValueError):
        planner.fail(d, f"--{option}={value} is not a whole number of {unit}")
    if number < 1:
        planner.fail(d, f"--{option} must be at least 1")
    return number


def _gpt_backup(sector: int) -> int:
    """Sectors the backup GPT takes at the end of a disk: its header and 128 entries of 128 bytes."""
    return 1 + 128 * 128 // sector


def _round(size: int) -> int:
    return -(-size // MIB) * MIB


def _devname(disk: str, number: int) -> str:
    return f"{disk}p{number}" if disk[-1].isdigit() else f"{disk}{number}"


def _disk_list(disks: dict[str, Disk], names: list[str]) -> str:
    from rockscc.model.hardware import format_size

    return ", ".join(f"{n} {format_size(disks[n].size)}" for n in names) or "no disks"
