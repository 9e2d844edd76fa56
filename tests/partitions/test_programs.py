"""Partition programs evaluated at build time: the seed deck's program, Rocks' default scheme,
reconnection of disks holding .rocks-release, and hostile programs contained."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import REPO, run_cli
from tests.partitions.conftest import program

SEED_FILE = REPO / "examples" / "seed-partition.xml"  # the seed deck's program, as a node file
SEED_PROGRAM = SEED_FILE.read_text().split('<pre arg="--interpreter /opt/rocks/bin/python">')[1].split("</pre>")[0]


def info(out: str) -> list[str]:
    return out.split("\n\n", 1)[0].splitlines()[1:]


@pytest.mark.parametrize("disk", ["sda", "hda"])
def test_seed_program_one_disk_gives_its_five_directives(tmp_path, test_partition, disk):
    result = test_partition(program(tmp_path, SEED_PROGRAM), f"disks={disk}:80G")
    assert result.rc == 0, result.err
    assert info(result.out) == [
        f"clearpart --all --initlabel --drives={disk}",
        f"part / --size=6000 --fstype=ext3 --ondisk={disk}",
        f"part /var --size=2000 --fstype=ext3 --ondisk={disk}",
        f"part swap --size=2000 --ondisk={disk}",
        f"part /mydata --size=1 --grow --fstype=ext3 --ondisk={disk}",
    ]
    rows = [line.split() for line in result.out.split("\n\n", 1)[1].splitlines()[1:]]
    assert [r[1] for r in rows] == [f"{disk}1", f"{disk}2", f"{disk}3", f"{disk}4"]
    assert rows[0][2:5] == ["2048", "12290047", "6000M"]
    assert rows[-1][3] == str(80 * 1024**3 // 512 - 1)  # /mydata grows to the end of the disk


def test_seed_program_two_disks_writes_nothing_and_rocks_default_applies(tmp_path, test_partition):
    result = test_partition(program(tmp_path, SEED_PROGRAM), "disks=hda:80G,hdb:80G")
    assert result.rc == 0, result.err
    assert result.out.startswith("# /tmp/partition-info (force-default-root-disk-only)")
    assert info(result.out) == [
        "clearpart --all --initlabel --drives=hda",
        "part / --size=8000 --fstype=ext3 --ondisk=hda",
        "part /var --size=4000 --fstype=ext3 --ondisk=hda",
        "part swap --size=1000 --ondisk=hda",
        "part /state/partition1 --size=1 --fstype=ext3 --grow --ondisk=hda",
    ]
    no_base = test_partition(program(tmp_path, SEED_PROGRAM), "disks=hda:80G,hdb:80G", "base=no")
    assert "part /state/partition2 --size=1 --fstype=ext3 --grow --ondisk=hdb" in no_base.out  # Rocks 5.0: every disk


def test_schemes_manual_and_force_default(tmp_path, test_partition):
    manual = test_partition(program(tmp_path, "echo 'rocks manual' > /tmp/user_partition_info", ""), "disks=sda:80G")
    assert manual.rc == 0 and info(manual.out) == []
    forced = test_partition(
        program(tmp_path, "echo 'rocks force-default' > /tmp/user_partition_info", ""), "disks=sda:80G,sdb:80G"
    )
    assert "part /state/partition2 --size=1 --fstype=ext3 --grow --ondisk=sdb" in forced.out


def test_rocks_partition_api_from_declared_hardware(tmp_path, test_partition):
    body = """import rocks_partition
p = rocks_partition.RocksPartition()
disks = p.getDisks()
out = open('/tmp/user_partition_info', 'w')
assert disks == ['sda', 'sdb'], disks
assert p.getRaids() == []
info = p.getNodePartInfo(disks)
assert info['sda'] == [('sda', '', '', '', '', '', '', '')], info
assert p.gptDrive('sdb') and not p.gptDrive('sda')
for line in p.defaultRootDisk('sda') + p.defaultDataDisk('sdb'):
    out.write(line + '\\n')
"""
    result = test_partition(program(tmp_path, body), "disks=sda:80G,sdb:3T", "base=no")
    assert result.rc == 0, result.err
    assert "part /state/partition2 --size=1 --fstype=ext3 --grow --ondisk=sdb" in result.out
    assert "warning" not in result.err


HOSTILE = [
    ("infinite loop", "while True: pass", "killed"),
    ("10 GB allocation", "x = bytearray(10 * 1024**3)", "MemoryError"),
    ("socket connect", "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=3)", "OSError"),
    ("write to /etc", "open('/etc/rockscc-pwned', 'w').write('x')", "Read-only file system"),
    ("fork bomb", "import os\nwhile True:\n    os.fork()", "fork"),
    (
        "1 GB of output",
        "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(1024): sys.stdout.write(chunk)",
        "MiB of output",
    ),
]


@pytest.mark.parametrize("what,body,message", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_programs_are_contained(tmp_path, test_partition, what, body, message):
    result = test_partition(program(tmp_path, body), "disks=sda:80G")
    assert "Traceback (most recent call last)" not in result.err.split("|")[0]
    assert message.lower() in result.err.lower(), result.err
    if result.rc == 0:  # the program failed, the default scheme applied; the failure is reported
        assert "warning - " in result.err and "%pre" in result.err
        assert "force-default-root-disk-only" in result.out
    else:
        assert result.err.startswith("error - ")
    assert not (tmp_path / "rockscc-pwned").exists()


def test_a_program_cannot_write_into_the_cluster_directory(tmp_path, cluster_dir):
    victim = cluster_dir / "cluster.toml"
    (cluster_dir / "nodes").mkdir(exist_ok=True)
    (cluster_dir / "nodes" / "replace-partition.xml").write_text(
        f"<kickstart><pre>echo rocks force-default > /tmp/user_partition_info; echo pwned > {victim} || exit 9; echo 'rocks force-default' > /tmp/user_partition_info</pre></kickstart>\n"
    )
    assert run_cli("-C", str(cluster_dir), "add", "hwprofile", "d", "disks=sda:80G").rc == 0
    assert run_cli("-C", str(cluster_dir), "add", "host", "compute-0-0").rc == 0
    assert run_cli("-C", str(cluster_dir), "set", "host", "hwprofile", "compute-0-0", "d").rc == 0
    result = run_cli("-C", str(cluster_dir), "list", "host", "partition", "plan", "compute-0-0")
    assert result.rc == 0, result.err
    assert (
        "Read-only file system" in result.err
        or "Permission denied" in result.err
        or "Directory nonexistent" in result.err
    )
    assert victim.read_bytes() != b"pwned\n" and b"[attrs]" in victim.read_bytes()


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    root = tmp_path_factory.mktemp("ex") / "cluster"
    shutil.copytree(REPO / "examples" / "cluster", root, ignore=shutil.ignore_patterns("build", ".rockscc-cache"))
    return root


def plan_rows(example, host):
    result = run_cli("-C", str(example), "list", "host", "partition", "plan", host)
    assert result.rc == 0, result.err
    return [line.split() for line in result.out.splitlines()[1:]]


def test_example_one_disk_sda(example):
    rows = plan_rows(example, "compute-0-0")
    assert [(r[1], r[6]) for r in rows] == [("sda1", "/"), ("sda2", "/var"), ("sda3", "swap"), ("sda4", "/mydata")]


def test_example_two_ide_disks_use_the_root_disk_only(example):
    rows = plan_rows(example, "compute-0-1")
    assert [(r[1], r[6]) for r in rows] == [
        ("hda1", "/"),
        ("hda2", "/var"),
        ("hda3", "swap"),
        ("hda4", "/state/partition1"),
    ]


def test_example_nas_raid5_over_four_disks(example):
    rows = plan_rows(example, "nas-0-0")
    md = [r for r in rows if r[0] == "md0"]
    assert md and md[0][-2:] == ["/export", "yes"]
    members = [r for r in rows if r[-2].startswith("raid.")]
    assert {r[0] for r in members} == {"sda", "sdb", "sdc", "sdd"}
    smallest = min(int(r[3]) - int(r[2]) + 1 for r in members) * 512
    assert md[0][4] == f"{3 * smallest // 1024**2}M"


def test_example_rocks_release_disk_is_reconnected(example):
    text = run_cli("-C", str(example), "list", "host", "partition", "plan", "compute-0-2", "text=yes").out.splitlines()
    assert text == [
        "part / --fstype ext3 --onpart sda1",
        "part /var --fstype ext3 --onpart sda2",
        "part swap --noformat --onpart sda3",
        "part /mydata --noformat --onpart sda4",
    ]
    rows = plan_rows(example, "compute-0-2")
    assert [(r[1], r[-1]) for r in rows] == [("sda1", "yes"), ("sda2", "yes"), ("sda3", "no"), ("sda4", "no")]


def test_build_writes_plans_and_the_installer_chain_agrees(example):
    assert run_cli("-C", str(example), "build").rc == 0
    for host in ("compute-0-0", "compute-0-1", "nas-0-0"):
        text = (example / "build" / "partitions" / f"{host}.txt").read_text()
        plan = json.loads((example / "build" / "partitions" / f"{host}.json").read_text())
        assert plan["partitions"] and text.startswith("clearpart")


def test_the_kickstarts_own_pre_chain_yields_the_build_time_plan(example):
    """The %pre sections shipped in the kickstart (site program, default scheme, do-partition)
    run in the sandbox on the declared disks write the same /tmp/partition-info as the build."""
    from rockscc.model import load
    from rockscc.pipeline import CompileOptions, Session

    cluster = load(example)
    session = Session(cluster, CompileOptions(evals=False))
    for name in ("compute-0-0", "compute-0-1", "nas-0-0", "vm-container-0-0"):
        planned = session.partition_plan(cluster.hosts[name])
        assert planned.installer_text == planned.info_text, name


def test_partition_inline_puts_the_plan_into_the_kickstart(example):
    assert run_cli("-C", str(example), "set", "host", "attr", "compute-0-1", "partition_inline", "yes").rc == 0
    result = run_cli("-C", str(example), "build")
    assert result.rc == 0, result.err
    ks = (example / "build" / "kickstart" / "compute-0-1.ks").read_text()
    plan = (example / "build" / "partitions" / "compute-0-1.txt").read_text()
    assert "%include /tmp/partition-info" not in ks and plan in ks
    assert "%include /tmp/partition-info" in (example / "build" / "kickstart" / "compute-0-0.ks").read_text()
    assert run_cli("-C", str(example), "remove", "host", "attr", "compute-0-1", "partition_inline").rc == 0


def _chain_for(body: str, host: str):
    from rockscc.xmlgraph.profile import Script

    return [Script("pre", body.replace("HOSTNAME", host), "--interpreter /opt/rocks/bin/python", "", "x.xml:1")]


ONE_DISK = {"disks": [{"name": "sda", "size": 80 * 1024**3, "sector_size": 512}], "raids": []}


@pytest.mark.parametrize(
    "body, shared",
    [
        # the seed deck's shape: the host name is recorded, never read: one run serves every host
        (
            "import rocks_partition\nnodename = 'HOSTNAME'\nopen('/tmp/user_partition_info', 'w').write('rocks manual\\n')\n",
            True,
        ),
        # the name is read: every host its own run and its own answer
        ("nodename = 'HOSTNAME'\nopen('/tmp/user_partition_info', 'w').write('# %s\\n' % nodename)\n", False),
        ("nodename = 'HOSTNAME'\nopen('/tmp/user_partition_info', 'w').write(f'# {nodename}\\n')\n", False),
        # reached by reflection, or by a module that could: left exactly as written
        (
            "nodename = 'HOSTNAME'\nopen('/tmp/user_partition_info', 'w').write('# %(nodename)s\\n' % globals())\n",
            False,
        ),
        (
            "import sys\nnodename = 'HOSTNAME'\nopen('/tmp/user_partition_info', 'w').write(sys.modules['__main__'].nodename)\n",
            False,
        ),
    ],
)
def test_values_a_program_records_but_never_reads_do_not_make_hosts_distinct(body, shared):
    from rockscc.partitions import programs

    keys = {programs.chain_key(_chain_for(body, h), ONE_DISK, h) for h in ("compute-0-0", "compute-0-1")}
    cache = programs.ChainCache()
    results = [programs.run_chain(_chain_for(body, h), ONE_DISK, h, cache) for h in ("compute-0-0", "compute-0-1")]
    assert (len(keys) == 1) == shared
    if shared:
        assert results[0] is results[1] and results[0].user_partition_info == "rocks manual\n"
    elif "sys.modules" not in body:
        assert [r.user_partition_info for r in results] == ["# compute-0-0\n", "# compute-0-1\n"]


def test_the_kickstart_keeps_the_program_as_written(example):
    result = run_cli("-C", str(example), "list", "host", "profile", "compute-0-1", "eval=no")
    assert result.rc == 0
    if "nodename = '" in result.out:  # the example's program records the host name
        assert "nodename = 'compute-0-1'" in result.out


def test_what_a_step_leaves_running_does_not_live_into_the_next(tmp_path, test_partition):
    """A background writer and the rest of a fork bomb are ended with their step: the steps
    after them run, and see only what the step itself left in /tmp."""
    node = tmp_path / "two.xml"
    node.write_text(
        "<kickstart>\n"
        "<pre>(sleep 0.3; echo 'part / --size=1 --grow' > /tmp/user_partition_info) &amp;</pre>\n"
        '<pre arg="--interpreter /opt/rocks/bin/python">import os\nwhile True:\n    os.fork()\n</pre>\n'
        "<pre>sleep 0.6; [ -f /tmp/user_partition_info ] || echo 'rocks force-default-root-disk-only' "
        "&gt; /tmp/user_partition_info</pre>\n</kickstart>\n"
    )
    result = test_partition(node, "disks=sda:80G", "base=no")
    assert result.rc == 0, result.err
    assert "process limit" in result.err  # the fork bomb is reported against its own %pre
    assert "--size=1 --grow" not in result.out and "clearpart" in result.out


def test_a_step_stopped_by_the_wall_clock_is_named(tmp_path, test_partition, monkeypatch):
    """The chain runs as one task; the error names the %pre that was running when it was stopped."""
    from dataclasses import replace

    from rockscc.partitions import programs

    monkeypatch.setattr(programs, "LIMITS", replace(programs.LIMITS, wall_s=2))
    node = tmp_path / "slow.xml"
    node.write_text("<kickstart>\n<pre>echo one</pre>\n<pre>sleep 30</pre>\n</kickstart>\n")
    result = test_partition(node, "disks=sda:80G", "base=no")
    assert result.rc == 1
    assert "killed after 2 s of wall-clock time (in the %pre at " in result.err and "slow.xml:3)" in result.err


def test_a_remembered_chain_key_is_the_key_of_its_steps_and_hardware():
    """chain_key with a ChainCache remembers keys by the steps and the hardware JSON object: each
    answer must be the key computed afresh, for other programs, hosts, hardware and origins,
    and an entry whose JSON object is not the one asked about (its id reused) is not served."""
    from rockscc.partitions import programs
    from rockscc.xmlgraph.profile import Script

    two_disks = {"disks": [*ONE_DISK["disks"], {"name": "sdb", "size": 10**12, "sector_size": 512}], "raids": []}
    bodies = ["print(1)\n", "nodename = 'HOSTNAME'\nprint(2)\n", "echo sh\n"]
    cache = programs.ChainCache()
    for _ in range(2):
        for body in bodies:
            for host in ("compute-0-0", "compute-0-1"):
                for hardware in (ONE_DISK, two_disks):
                    chain = _chain_for(body, host)
                    moved = [Script(s.kind, s.body, s.arg, s.interpreter, s.origin + "0", s.node) for s in chain]
                    for scripts in (chain, moved, chain + moved):
                        expected = programs.chain_key(scripts, hardware, host)
                        assert programs.chain_key(scripts, hardware, host, cache) == expected
    chain = _chain_for(bodies[0], "compute-0-0")
    steps = programs._runnable(chain, "compute-0-0")
    known = (tuple((tuple(argv), text, origin) for argv, text, origin in steps), id(two_disks))
    cache.keys[known] = (ONE_DISK, "not two_disks' key")  # as if two_disks took a freed object's id
    assert programs.chain_key(chain, two_disks, "compute-0-0", cache) == programs.chain_key(
        chain, two_disks, "compute-0-0"
    )


def test_the_step_memo_of_a_session_is_bounded_in_bytes(monkeypatch):
    """A %pre that embeds the host's name and fills /tmp keeps its snapshot per host: the session
    keeps at most STEP_BYTES of them (the oldest go), and a host whose step went runs it again."""
    from rockscc.partitions import programs

    monkeypatch.setattr(programs, "STEP_BYTES", 20 << 20, raising=False)
    body = "open('/tmp/fill', 'wb').write(b'x' * (8 << 20))\nopen('/tmp/user_partition_info', 'w').write('# HOSTNAME\\n')\n"
    cache = programs.ChainCache()
    hosts = [f"compute-0-{i}" for i in range(3)]
    for host in hosts:
        assert programs.run_chain(_chain_for(body, host), ONE_DISK, host, cache).user_partition_info == f"# {host}\n"
    held = sum(len(data) for files, _status, out in cache.steps.values() for data in [*files.values(), out])
    assert held <= 20 << 20
    cache.chains.clear()  # the first host's step is gone: its chain runs again, to the same answer
    assert (
        programs.run_chain(_chain_for(body, hosts[0]), ONE_DISK, hosts[0], cache).user_partition_info
        == "# compute-0-0\n"
    )


def _machine_disks() -> list[str]:
    with open("/proc/partitions") as fh:
        return [line.split()[-1] for line in fh.read().splitlines()[2:] if line.split()]


@pytest.mark.skipif(not _machine_disks(), reason="this machine lists no disks in /proc/partitions")
def test_a_program_does_not_see_the_build_machines_disks(tmp_path, test_partition):
    """/proc/partitions and /proc/diskstats are the machine's, not the task's: a program that
    found its disks there planned for the build machine (here: its own disks), not the host."""
    body = """import os
seen = []
for path in ('/proc/partitions', '/proc/diskstats', '/sys/block'):
    try:
        seen.append(open(path).read() if os.path.isfile(path) else ' '.join(os.listdir(path)))
    except OSError:
        pass
with open('/tmp/user_partition_info', 'w') as fh:
    fh.write('part / --size=1000 --ondisk=sda\\n')
    fh.write(''.join('# %s\\n' % line for text in seen for line in text.splitlines()))
"""
    result = test_partition(program(tmp_path, body), "disks=sda:80G")
    assert result.rc == 0, result.err
    listed = [line.split()[-1] for line in info(result.out) if line.startswith("#") and len(line.split()) > 2]
    assert not set(listed) & set(_machine_disks()), result.out


@pytest.mark.parametrize(
    "dialect, line, option",
    [
        ("rhel5", "part / --size=1000 --ondisk=sda --fsprofile=x", "--fsprofile"),
        ("rhel7", "part / --size=1000 --ondisk=sda --start=1 --end=100", "--start"),
    ],
)
def test_directives_the_dialect_rejects_name_the_line(tmp_path, test_partition, dialect, line, option):
    """The planned directives are %included by the kickstart at install time: pykickstart of the
    host's dialect reads them at build time (the plan was made, the installer stopped)."""
    body = f"open('/tmp/user_partition_info', 'w').write('part /boot --size=100 --ondisk=sda\\n{line}\\n')"
    result = test_partition(program(tmp_path, body), "disks=sda:80G", f"kickstart_dialect={dialect}")
    assert result.rc != 0
    assert result.err.startswith(f"error - host compute-0-0: partition-info:2: {line}: rejected by pykickstart")
    assert option in result.err and "Traceback" not in result.err
    assert test_partition(program(tmp_path, body), "disks=sda:80G", "kickstart_dialect=rhel6").rc == 0


def test_partition_info_differing_only_in_comments_is_read_once(monkeypatch):
    """Rocks' seed program writes the host's name into a comment of its output: every host's
    text differs, yet what pykickstart reads does not. Read once per dialect and directives
    (it was read per host: ~2.5 ms each, seconds of a 3 000-host build), and a directive the
    dialect rejects is still named at its line of the host's own text."""
    from rockscc import errors
    from rockscc.backends import kickstart

    reads = []
    accepts = kickstart._accepts
    monkeypatch.setattr(kickstart, "_accepts", lambda parser, text: reads.append(text) or accepts(parser, text))
    validator = kickstart.Validator(None)
    text = "# host compute-0-{}\npart / --size=8000 --ondisk=sda\npart swap --size=1000 --ondisk=sda\n"
    for n in range(20):
        validator.validate_partition_info(text.format(n), "rhel5", f"compute-0-{n}")
    assert len(reads) == 1
    bad = "# host compute-0-99\npart / --size=8000 --ondisk=sda\npart /x --size=10 --fsprofile=y\n"
    with pytest.raises(errors.RocksccError, match=r"host compute-0-99: partition-info:3: part /x .*--fsprofile"):
        validator.validate_partition_info(bad, "rhel5", "compute-0-99")
