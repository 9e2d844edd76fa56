"""Attacks on the planner's verdict: what it accepts must fit the declared disk (checked again
with pyparted on a fresh sparse image), what it refuses must name the line that is wrong."""

from __future__ import annotations

import itertools

import parted
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.grammar.partition import parse_directives
from rockscc.model import Disk, Hardware
from rockscc.partitions.layout import PlanError, plan_layout

G, T, MIB = 1024**3, 1024**4, 1024**2


def plan(text: str, size: int, sector: int = 512):
    return plan_layout(parse_directives(text), Hardware([Disk("sda", size, sector)]), "h1")


def recreate(p, image: str) -> None:
    """The planned table made again with pyparted on a sparse image of the disk's bytes (512-byte
    image sectors): each partition exactly where the plan says, inside the disk."""
    disk = p.disks[0]
    with open(image, "wb") as fh:
        fh.truncate(disk["sectors"] * disk["sector_size"])
    device = parted.getDevice(image)
    pdisk = parted.freshDisk(device, disk["label"])
    scale = disk["sector_size"] // device.sectorSize
    kinds = {"primary": parted.PARTITION_NORMAL, "extended": parted.PARTITION_EXTENDED}
    for row in p.rows:
        assert (row.end + 1) * disk["sector_size"] <= disk["size"]
        geometry = parted.Geometry(device=device, start=row.start * scale, end=(row.end + 1) * scale - 1)
        part = parted.Partition(disk=pdisk, type=kinds.get(row.kind, parted.PARTITION_LOGICAL), geometry=geometry)
        pdisk.addPartition(part, constraint=parted.Constraint(exactGeom=geometry))
    pdisk.commitToDevice()


def test_4096_byte_sectors_do_not_make_a_disk_eight_times_larger():
    with pytest.raises(PlanError, match=r"partition-info:1: .*does not fit on sda: needs 8000 MiB, 1023 MiB"):
        plan("part / --size=8000 --ondisk=sda", G, 4096)
    p = plan("part / --size=1 --grow --ondisk=sda", G, 4096)
    assert p.disks[0]["sectors"] == G // 4096
    assert (p.rows[0].start, p.rows[0].end) == (256, G // 4096 - 1)


def test_4096_byte_sectors_on_gpt_leave_the_backup_header(tmp_path):
    p = plan("part / --size=1 --grow --ondisk=sda", 3 * T, 4096)
    last_usable = 3 * T // 4096 - 1 - 5  # before the backup header and its 16 KiB of entries
    assert last_usable - 256 < p.rows[0].end <= last_usable  # grown to the last whole MiB
    recreate(p, str(tmp_path / "sda"))


def test_gpt_request_filling_the_disk_exactly_fits():
    sectors = 2048 + 3 * T // 512 + 33  # the first MiB, 3 TiB, the backup GPT
    p = plan(f"part / --size={3 * T // MIB} --ondisk=sda", sectors * 512)
    assert p.rows[0].end == sectors - 34  # the last usable LBA
    with pytest.raises(PlanError, match="does not fit on sda"):
        plan(f"part / --size={3 * T // MIB} --ondisk=sda", (sectors - 1) * 512)


def test_a_request_that_fits_is_placed_without_ondisk():
    p = plan("part / --size=99", 100 * MIB)
    assert (p.rows[0].start, p.rows[0].end) == (2048, 100 * MIB // 512 - 1)


@pytest.mark.parametrize(
    "text, message",
    [
        ("part home --size=100", "mount point 'home' is not an absolute path"),
        ("part / --size=10\npart '/my home' --size=100", "partition-info:2: .*mount point '/my home'"),
        ("part / --size=10\npart /a/../ --size=100", "mount point '/a/../'"),
        ("part / --size=10\npart //srv --size=100", "mount point '//srv'"),
        ("part / --size=100 --fstype=foofs", "--fstype=foofs is not a file system"),
        ("part / --size=10\npart /swap --size=100 --fstype=swap", "partition-info:2: .*swap has no mount point"),
        ("part / --size=1_000", r"--size=1_000 is not a whole number of MiB"),
        ("part / --size=\u0661\u0660", "is not a whole number of MiB"),
    ],
)
def test_malformed_directives_name_the_line(text, message):
    with pytest.raises(PlanError, match=f"host h1: {message}" if message.startswith("partition") else message):
        plan(text, 2 * G)


_images = itertools.count()
sizes = st.lists(st.tuples(st.integers(1, 3000), st.booleans()), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    mib=st.one_of(st.integers(1, 12000), st.integers(2 * T // MIB - 2, 2 * T // MIB + 2)),
    extra=st.integers(0, MIB - 1),
    sector=st.sampled_from([512, 4096]),
    requests=sizes,
)
def test_the_verdict_matches_pyparted(tmp_path, mib, extra, sector, requests):
    """Accepted: pyparted creates the same table on an image of the disk. Refused: the request's
    whole MiB plus the first MiB (and a MiB per EBR) really exceed the disk."""
    size = mib * MIB + extra // sector * sector
    text = "\n".join(
        f"part {'/' if i == 0 else f'/p{i}'} --size={n}" + (" --grow" if grow else "") + " --ondisk=sda"
        for i, (n, grow) in enumerate(requests)
    )
    needed = MIB + sum(n for n, _ in requests) * MIB + (MIB * (len(requests) - 3) if len(requests) > 4 else 0)
    try:
        p = plan(text, size, sector)
    except PlanError as exc:
        assert "does not fit on sda" in str(exc)
        assert needed > size // sector * sector
        return
    assert needed <= size
    image = tmp_path / f"sda-{next(_images)}"  # libparted keeps a device per path: never reuse one
    recreate(p, str(image))
    image.unlink()


TWO = (("sda", 10 * G), ("sdb", 10 * G))
ROOT = "part / --size=1000 --ondisk=sda\n"
RAIDS = ROOT + "part raid.01 --size=100 --ondisk=sda\npart raid.02 --size=100 --ondisk=sdb\n"
PV = ROOT + "part pv.01 --size=1000 --ondisk=sda\n"


@pytest.mark.parametrize(
    "text, message",
    [
        (PV + "volgroup vg pv.01\nlogvol /a --vgname=vg --name=a --percent=abc", r":4: .*--percent=abc is not a whole"),
        (PV + "volgroup vg --pesize=abc pv.01\nlogvol /a --vgname=vg --size=10", r":3: .*--pesize=abc is not a whole"),
        (PV + "volgroup vg --pesize=0 pv.01\nlogvol /a --vgname=vg --size=10", r":3: .*--pesize must be at least 1"),
        (PV + "volgroup vg --pesize=3000 pv.01\nlogvol /a --vgname=vg --size=10", r":3: .*power of two"),
        (PV + "volgroup vg pv.01\nlogvol /a --vgname=vg --name=a --percent=0", r":4: .*--percent must be at least 1"),
        (PV + "volgroup vg pv.01\nlogvol /a --vgname=vg --name=a --percent=101", r":4: .*--percent must be at most"),
        (PV + "volgroup vg pv.01\nvolgroup vg2 pv.01\nlogvol /a --vgname=vg --size=10", r":4: .*pv.01 is already in"),
        (PV + "volgroup vg pv.01\nvolgroup vg pv.01\nlogvol /a --vgname=vg --size=10", r":4: .*vg is already defined"),
        (
            PV + "volgroup vg pv.01\nlogvol /a --vgname=vg --name=a --size=9\nlogvol /b --vgname=vg --name=a --size=9",
            r":5: .*logical volume vg/a is already defined \(line 4\)",
        ),
        (
            ROOT + "part pv.01 --size=1 --ondisk=sda\nvolgroup vg pv.01\nlogvol /a --vgname=vg --size=1 --grow",
            r":4: .*less than one extent",
        ),
        (RAIDS + "raid /x --level=0 raid.01 raid.01", r":4: .*member raid.01 is already in the raid at line 4"),
        (
            RAIDS + "raid /x --level=1 --device=md0 raid.01 raid.02\nraid /y --level=1 --device=md1 raid.01 raid.02",
            r":5: .*member raid.01 is already in the raid at line 4",
        ),
        (
            ROOT + "part raid.01 --size=100 --ondisk=sda\npart raid.01 --size=100 --ondisk=sdb",
            r":3: .*raid.01 is already",
        ),
    ],
)
def test_malformed_raid_and_lvm_name_the_line(text, message):
    """Each of these crashed with a traceback (ValueError, ZeroDivisionError) or was planned:
    a RAID0 of one partition twice had twice its size."""
    hw = Hardware([Disk(n, s) for n, s in TWO])
    with pytest.raises(PlanError, match=message):
        plan_layout(parse_directives(text), hw, "h1")


def test_two_raids_on_one_md_device_name_the_line():
    text = (
        RAIDS
        + "part raid.03 --size=100 --ondisk=sda\npart raid.04 --size=100 --ondisk=sdb\n"
        + "raid /x --level=1 --device=md0 raid.01 raid.02\nraid /y --level=1 --device=0 raid.03 raid.04"
    )
    with pytest.raises(PlanError, match=r":7: .*--device md0 is already the raid at line 6"):
        plan_layout(parse_directives(text), Hardware([Disk(n, s) for n, s in TWO]), "h1")


def many(count: int, extra: str = "") -> str:
    return "".join(f"part /p{i} --size=1 --ondisk=sda{extra}\n" for i in range(count)) + "part / --size=10 --ondisk=sda"


@pytest.mark.parametrize(
    "text, size, message",
    [
        (many(63), 10 * G, r"partition-info:64: part / .*sda \(msdos label\) holds at most 64 partitions"),
        (many(128), 3 * T, r"partition-info:129: part / .*sda \(gpt label\) holds at most 128 partitions"),
        (many(4, " --asprimary"), 10 * G, r"partition-info:4: part /p3 .*--asprimary: sda has 3 primary"),
        ("part / --size=10\npart /d\ufffd --size=10", 10 * G, r"partition-info:2: .*not printable text"),
        ("part / --size=10\npart '/d\x01' --size=10", 10 * G, r"partition-info:2: .*not printable text"),
    ],
)
def test_partition_counts_and_mount_text_name_the_line(text, size, message):
    """More partitions than the label holds was an internal error (pyparted's exception); more
    --asprimary than primary slots were made logical without a word."""
    with pytest.raises(PlanError, match=message):
        plan(text, size)


def test_the_last_partition_a_label_holds_is_planned(tmp_path):
    p = plan(many(62), 10 * G)
    assert p.rows[-1].device == "sda64"
    recreate(p, str(tmp_path / "sda"))
    p = plan(many(127), 3 * T)
    assert p.rows[-1].device == "sda128"


def test_clearpart_disklabel_is_the_planned_label(tmp_path):
    """The installer makes the label clearpart names: on gpt five partitions are sda1-5, not
    three primaries, an extended sda4 and logical sda5, sda6; msdos cannot address 3 TiB."""
    text = "clearpart --all --disklabel=gpt\n" + many(4)
    p = plan(text, 10 * G)
    assert p.disks[0]["label"] == "gpt"
    assert [r.device for r in p.rows] == [f"sda{i}" for i in range(1, 6)]
    recreate(p, str(tmp_path / "sda"))
    with pytest.raises(
        PlanError, match=r"partition-info:1: clearpart .*--disklabel=msdos: sda \(3T\) has more sectors"
    ):
        plan("clearpart --all --disklabel=msdos\npart / --size=1 --grow --ondisk=sda", 3 * T)
