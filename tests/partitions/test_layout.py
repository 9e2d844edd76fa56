"""The pyparted planner on sparse images, and the directive grammar."""

from __future__ import annotations

import pytest

from rockscc.errors import RocksccError
from rockscc.grammar.partition import parse_directives
from rockscc.model import Disk, ExistingPartition, Hardware
from rockscc.partitions.layout import plan_layout

G, T, MIB = 1024**3, 1024**4, 1024**2


def plan(text: str, *disks: tuple[str, int], **kw):
    hw = Hardware([Disk(n, s) for n, s in disks], **kw)
    return plan_layout(parse_directives(text), hw, "h1")


def rows(p):
    return [(r.device, r.start, r.end, r.size, r.mountpoint, r.kind) for r in p.rows]


def test_msdos_layout_sectors_and_grow():
    p = plan(
        "clearpart --all --initlabel\npart / --size=1000 --ondisk=sda\npart /data --size=1 --grow --ondisk=sda\n",
        ("sda", 10 * G),
    )
    assert p.disks[0]["label"] == "msdos"
    assert rows(p) == [
        ("sda1", 2048, 2048 + 1000 * 2048 - 1, 1000 * MIB, "/", "primary"),
        ("sda2", 2050048, 10 * G // 512 - 1, 10 * G - 2050048 * 512, "/data", "primary"),
    ]


def test_disk_over_2_tib_gets_gpt_and_grows_to_the_backup_header():
    p = plan("part / --size=8000 --ondisk=sdb\npart /big --size=1 --grow --ondisk=sdb\n", ("sdb", 3 * T))
    assert p.disks[0]["label"] == "gpt"
    last_usable = 3 * T // 512 - 1 - 34  # the backup GPT header and table
    assert last_usable - 2048 < p.rows[-1].end <= last_usable  # grown to the last whole MiB
    assert p.rows[-1].size > 2 * T


def test_more_than_four_partitions_use_an_extended_partition():
    text = "\n".join(f"part /p{i} --size=100 --ondisk=sda" for i in range(5)) + "\npart / --size=100 --ondisk=sda\n"
    p = plan(text, ("sda", 10 * G))
    kinds = [r.kind for r in p.rows]
    assert kinds == ["primary"] * 3 + ["extended"] + ["logical"] * 3
    logicals = [r for r in p.rows if r.kind == "logical"]
    assert [r.device for r in logicals] == ["sda5", "sda6", "sda7"]
    assert all(b.start - a.end - 1 >= 2048 - 1 for a, b in zip(logicals, logicals[1:]))  # room for each EBR


def test_maxsize_caps_growth_and_the_rest_goes_to_others():
    p = plan(
        "part / --size=1000 --grow --maxsize=2000 --ondisk=sda\npart /data --size=1000 --grow --ondisk=sda\n",
        ("sda", 10 * G),
    )
    assert p.rows[0].size == 2000 * MIB
    assert p.rows[1].end == 10 * G // 512 - 1


def test_raid_and_lvm_sizes():
    text = """part / --size=4000 --ondisk=sda
part raid.01 --size=2000 --ondisk=sda
part raid.02 --size=2000 --ondisk=sdb
raid /export --level=1 --device=md0 raid.01 raid.02
part pv.01 --size=1 --grow --ondisk=sdb
volgroup vg0 pv.01
logvol /home --vgname=vg0 --name=home --size=1000
logvol /scratch --vgname=vg0 --name=scratch --size=1 --grow
"""
    p = plan(text, ("sda", 10 * G), ("sdb", 10 * G))
    md = next(r for r in p.rows if r.kind == "raid")
    assert (md.device, md.size, md.mountpoint) == ("md0", 2000 * MIB, "/export")
    lvs = {r.mountpoint: r for r in p.rows if r.kind == "lvm"}
    pv = next(r for r in p.rows if r.mountpoint == "pv.01")
    extents = (pv.size - MIB) // (4 * MIB)
    assert lvs["/home"].size == 1000 * MIB
    assert lvs["/home"].size + lvs["/scratch"].size == extents * 4 * MIB


def test_onpart_keeps_an_existing_partition():
    hw = Hardware([Disk("sda", 10 * G, partitions=[ExistingPartition("sda1", 2048, 4000 * MIB, "ext3", "/")])])
    p = plan_layout(parse_directives("part / --fstype ext3 --onpart sda1\n"), hw, "h1")
    assert rows(p) == [("sda1", 2048, 2048 + 4000 * 2048 - 1, 4000 * MIB, "/", "primary")]
    assert p.rows[0].format is True


ERRORS = [
    ("part / --size=20000 --ondisk=sda\n", "does not fit on sda"),
    ("part / --size=100 --ondisk=sdz\n", 'unknown disk "sdz"'),
    ("part / --size=100\npart / --size=100\n", "mount point / is already used (line 1)"),
    ("part /data --size=100\n", "no partition is mounted at /"),
    (
        "part / --size=100\npart raid.1 --size=100 --ondisk=sda\npart raid.2 --size=100 --ondisk=sda\n"
        "raid /r --level=1 raid.1 raid.2\n",
        "survives no disk failure",
    ),
    ("part / --size=100 --grow --maxsize=50\n", "can never grow"),
    ("part / --onpart sda9\n", "--onpart sda9: no such partition"),
    ("part /\n", "needs --size"),
    ("logvol / --vgname=nope --size=10\n", "is not a volgroup"),
]


@pytest.mark.parametrize("text,message", ERRORS)
def test_planning_errors_name_host_and_directive(text, message):
    with pytest.raises(RocksccError) as info:
        plan(text, ("sda", 10 * G))
    assert message in str(info.value)
    assert str(info.value).startswith("host h1: ")


def test_grammar_errors_carry_line_and_column():
    with pytest.raises(RocksccError, match=r"partition-info:2:6: part has no option --bogus"):
        parse_directives("clearpart --all\npart --bogus /\n")
    with pytest.raises(RocksccError, match=r"partition-info:1:1: mount is not a partitioning command"):
        parse_directives("mount /dev/sda1 /\n")


def test_grammar_accepts_both_value_spellings_and_quotes():
    (d,) = parse_directives('part /srv --size 100 --fsoptions="noatime,nodiratime" --ondrive=sdb\n')
    assert d.options == {"size": "100", "fsoptions": "noatime,nodiratime", "ondisk": "sdb"}
