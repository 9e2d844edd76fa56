"""Issue 2's commands end to end: hosts, interfaces, networks, appliances, attributes, dump/load."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rockscc.model import load
from tests.conftest import run_cli


def test_init_add_list_host_table(tmp_path):
    root = tmp_path / "c"
    assert run_cli("init", str(root), "password=x").rc == 0
    for name in ("compute-0-0", "vm-container-0-0"):
        assert run_cli("add", "host", name, cwd=root).rc == 0
    out = run_cli("list", "host", cwd=root).out.splitlines()
    assert out[0].split() == ["HOST", "MEMBERSHIP", "CPUS", "RACK", "RANK", "OS", "ARCH", "COMMENT"]
    assert out[1].startswith("frontend:") and "Frontend" in out[1]
    assert out[2].split()[:5] == ["compute-0-0:", "Compute", "1", "0", "0"]
    assert out[3].split()[:3] == ["vm-container-0-0:", "VM", "Container"]


def test_found_from_a_subdirectory_like_git(cluster_dir):
    sub = cluster_dir / "nodes"
    result = run_cli("list", "host", cwd=sub)
    assert result.rc == 0 and "Frontend" in result.out  # one owner: the host column is dropped, as in Rocks


def test_set_host_attr_and_sources(rockscc):
    assert rockscc("add host compute-0-0").rc == 0
    assert rockscc("set host attr compute-0-0 Kickstart_Timezone Europe/Paris").rc == 0
    assert rockscc("set appliance attr compute Kickstart_Keyboard de").rc == 0
    assert rockscc("set os attr linux Kickstart_Lang fr_FR").rc == 0
    rows = {line.split()[0]: line.split() for line in rockscc("list host attr compute-0-0").out.splitlines()[1:]}
    assert rows["Kickstart_Timezone"][1:] == ["Europe/Paris", "host"]
    assert rows["Kickstart_Keyboard"][1:] == ["de", "appliance"]
    assert rows["Kickstart_Lang"][1:] == ["fr_FR", "os"]
    assert rows["Info_ClusterName"][-1] == "global"
    assert rows["hostname"][1:] == ["compute-0-0", "intrinsic"]
    frontend = rockscc("list host attr frontend attr=Kickstart_Timezone").out
    assert "America/Los_Angeles global" in " ".join(frontend.split())
    assert rockscc("remove host attr compute-0-0 Kickstart_Timezone").rc == 0
    assert "global" in rockscc("list host attr compute-0-0 attr=Kickstart_Timezone").out


def test_set_host_fields_and_rename(rockscc, cluster_dir):
    assert rockscc("add host compute-0-0").rc == 0
    for cmd in (
        "set host rack compute-0-0 4",
        "set host rank compute-0-0 7",
        "set host cpus compute 16",
        "set host comment compute-0-0 comment='GPU node'",
        "set host membership compute-0-0 nas",
        "set host name compute-0-0 storage-4-7",
    ):
        assert rockscc(cmd).rc == 0, (cmd, rockscc(cmd).err)
    host = load(cluster_dir).hosts["storage-4-7"]
    assert (host.rack, host.rank, host.cpus, host.comment, host.membership) == (4, 7, 16, "GPU node", "NAS Appliance")
    assert host.interfaces[0].name == "storage-4-7"


def test_interfaces_and_networks(rockscc, cluster_dir):
    assert rockscc("add host compute-0-0").rc == 0
    assert rockscc("add network ib subnet=10.2.0.0 netmask=255.255.0.0 mtu=65520").rc == 0
    assert rockscc("add host interface compute-0-0 ib0 subnet=ib ip=auto module=ib_ipoib").rc == 0
    table = rockscc("list host interface compute-0-0").out
    assert "ib0" in table and "10.2.255.254" in table and "ib_ipoib" in table
    assert rockscc("set host interface compute-0-0 eth0 mac=00-16-3E-00-00-0A").rc == 0
    assert load(cluster_dir).hosts["compute-0-0"].interfaces[0].mac == "00:16:3e:00:00:0a"
    result = rockscc("remove network ib")
    assert result.rc == 1 and "used by compute-0-0" in result.err
    assert rockscc("remove host interface compute-0-0 ib0").rc == 0
    assert rockscc("remove network ib").rc == 0
    assert "ib" not in rockscc("list network").out.split()


def test_ip_allocation_counts_down_from_broadcast(rockscc):
    for name in ("compute-0-0", "compute-0-1", "compute-0-2"):
        assert rockscc(f"add host {name}").rc == 0
    ips = [line.split()[4] for line in rockscc("list host interface compute").out.splitlines()[1:]]
    assert ips == ["10.1.255.254", "10.1.255.253", "10.1.255.252"]


def test_appliances_and_memberships(rockscc):
    assert rockscc("add appliance login membership=Login node=compute schedulable=no short-name=l").rc == 0
    assert rockscc("add host l-0-1").rc == 0
    assert "Login" in rockscc("list host l-0-1").out
    assert "login" in rockscc("list membership").out
    result = rockscc("remove appliance login")
    assert result.rc == 1 and "has hosts" in result.err
    assert rockscc("remove host l-0-1").rc == 0 and rockscc("remove appliance login").rc == 0


def test_dump_then_load_into_a_fresh_description_is_equal(rockscc, cluster_dir, tmp_path):
    for cmd in (
        "add host compute-0-0",
        "add host nas-0-0",
        "add host interface compute-0-0 eth1 subnet=public ip=auto",
        "set host attr compute-0-0 Kickstart_Timezone 'Europe/Paris'",
        "set os attr linux odd 'a \"quoted\" $value'",
        "add network ib subnet=10.2.0.0 netmask=255.255.0.0",
        "set host pxeboot nas-0-0 action=os",
        "add host pxeaction compute-0-0 action=install args='append ks console=ttyS0'",
        "set host bootflags flags=dom0_mem=1024M",
        "set host bootflags nas-0-0 flags='a=1 b=2'",
        "remove appliance tile",
        "set host comment nas-0-0 comment='rack #3'",
    ):
        assert rockscc(cmd).rc == 0, (cmd, rockscc(cmd).err)
    dumped = rockscc("dump").out
    (tmp_path / "d.sh").write_text(dumped)
    fresh = tmp_path / "fresh"
    assert run_cli("init", str(fresh), "password=other").rc == 0
    result = run_cli("-C", str(fresh), "load", str(tmp_path / "d.sh"))
    assert result.rc == 0, result.err
    assert load(fresh).__dict__ | {"root": None} == load(cluster_dir).__dict__ | {"root": None}
    assert (fresh / "cluster.toml").read_text() == (cluster_dir / "cluster.toml").read_text()


def test_load_with_a_bad_500th_line_changes_nothing(rockscc, cluster_dir, tmp_path):
    lines = [f"rockscc add host compute-{i // 100}-{i % 100}" for i in range(499)]
    lines.append("rockscc add host ../evil")
    lines += ["rockscc add host compute-9-9"]
    (tmp_path / "bulk.sh").write_text("# bulk add\n\n".join([""]) + "\n".join(lines) + "\n")
    before = (cluster_dir / "cluster.toml").read_bytes()
    result = rockscc(f"load {tmp_path / 'bulk.sh'}")
    assert result.rc == 1
    assert f"{tmp_path / 'bulk.sh'}:500:" in result.err and "nothing was loaded" in result.err
    assert (cluster_dir / "cluster.toml").read_bytes() == before


def test_load_reads_stdin_and_skips_comments(cluster_dir):
    script = "# new hosts\n\nrockscc add host compute-0-5  # inline comment\nrockscc set host rack compute-0-5 2\n"
    done = subprocess.run(
        [sys.executable, "-m", "rockscc", "-C", str(cluster_dir), "load", "-"],
        input=script,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert load(cluster_dir).hosts["compute-0-5"].rack == 2


def test_twenty_concurrent_writers_all_land(rockscc, cluster_dir):
    assert rockscc("add host compute-0-0").rc == 0
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rockscc",
                "-C",
                str(cluster_dir),
                "set",
                "host",
                "attr",
                "compute-0-0",
                f"attr_{i}",
                f"value-{i}",
            ],
            stderr=subprocess.PIPE,
        )
        for i in range(20)
    ]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    attrs = load(cluster_dir).hosts["compute-0-0"].attrs
    assert {f"attr_{i}": f"value-{i}" for i in range(20)}.items() <= attrs.items()


BAD_INPUT = [
    ("frobnicate host", "invalid command"),
    ("add host", "missing host argument"),
    ("add host ../x", "must not contain"),
    ("add host 'a b'", "must not contain whitespace"),
    ("add host frontend", "already exists"),
    ("add host node7 membership=Nope", "Nope"),
    ("add host compute-0-0 rack=x", "not an integer"),
    ("add host compute-0-0 colour=red", 'unknown parameter "colour"'),
    ("set host attr nohost a b", 'cannot resolve host "nohost"'),
    ("set attr 'bad name' v", "attribute name"),
    ("add network n subnet=10.0.0.1 netmask=255.0.0.0", "host bits"),
    ("add host interface frontend eth0", "already has interface"),
    ("set host pxeboot frontend action=nope", "PXE command (nope) is not defined for host (frontend)"),
    ("remove appliance frontend", "has hosts"),
    ("list host profile", "missing host argument"),
    ("load /nonexistent", "cannot read"),
]


@pytest.mark.parametrize("command,message", BAD_INPUT)
def test_bad_input_gives_one_line_error_and_changes_nothing(rockscc, cluster_dir, command, message):
    before = (cluster_dir / "cluster.toml").read_bytes()
    result = rockscc(command)
    assert result.rc != 0
    first = result.err.splitlines()[0]
    assert first.startswith("error - ") and message in result.err, result.err
    assert "Traceback" not in result.err
    assert (cluster_dir / "cluster.toml").read_bytes() == before


def test_malformed_cluster_toml_is_located(rockscc, cluster_dir):
    text = (
        (cluster_dir / "cluster.toml")
        .read_text()
        .replace('Info_ClusterName = "cluster"', "Info_ClusterName = cluster", 1)
    )
    (cluster_dir / "cluster.toml").write_text(text)
    result = rockscc("list host")
    assert result.rc == 1 and result.err.startswith("error - ") and "cluster.toml:" in result.err
    assert (cluster_dir / "cluster.toml").read_text() == text
    assert rockscc("add host compute-0-0").rc == 1
    assert (cluster_dir / "cluster.toml").read_text() == text


def test_help_from_declarations(rockscc):
    result = rockscc("set host attr help")
    assert result.rc == 0 and result.out.startswith("rockscc set host attr {host} ... {attr} {value}")
    assert "set host attr" in rockscc("help").out
    assert rockscc("list host interface --help").out.startswith("rockscc list host interface")


def test_a_hosts_own_disks_never_edit_its_shared_profile(rockscc, cluster_dir, tmp_path):
    """Within one transaction, a host's first own disk copies its profile; later edits must not
    reach the profile (it once shared the profile's Disk objects)."""
    script = tmp_path / "disks.sh"
    script.write_text(
        "\n".join(
            [
                "rockscc add host compute-0-0",
                "rockscc add host compute-0-1",
                "rockscc add hwprofile p disks=sda:80G",
                "rockscc set host hwprofile compute p",
                "rockscc add host disk compute-0-0 sdb size=10G",
                "rockscc add host disk partition compute-0-0 sda1 size=1G mountpoint=/ rocks-release=yes",
            ]
        )
        + "\n"
    )
    assert rockscc(f"load {script}").rc == 0
    cluster = load(cluster_dir)
    assert cluster.hwprofiles["p"].disks[0].partitions == []
    assert [p.device for p in cluster.hardware_of(cluster.hosts["compute-0-0"]).disks[0].partitions] == ["sda1"]
    assert cluster.hardware_of(cluster.hosts["compute-0-1"]).disks[0].partitions == []
