"""VMs from the command line: the seed's transcripts, every lifecycle step on libvirt's test
driver, move with a failure injected at each step, and bad input."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rockscc.grammar.xlcfg import parse_xl
from rockscc.model import load
from rockscc.runtime.move import FAULT_ENV, STEPS


def status(run, vm: str) -> str:
    rows = [line.split() for line in run("list", "host", "vm", vm).out.splitlines()[1:]]
    return rows[0][-1]


def test_seed_add_and_list(vmc):
    run, root, _ = vmc
    result = run("add", "host", "vm", "vm-container-0-0", 'membership=Compute')
    assert result.out == 'added VM on node "vm-container-0-0" slice "0" with vm_name "compute-0-0-0"\n'
    result = run("add", "host", "vm", "vm-container-1-0", "membership=Compute", "mem=900")
    assert result.rc == 0
    out = run("list", "host", "vm").out.splitlines()
    assert out[0].split() == ["VM-HOST", "SLICE", "MEM", "CPUS", "MAC", "HOST", "STATUS"]
    assert out[1].split() == ["compute-0-0-0:", "0", "1024", "1", "00:16:3e:00:00:01", "vm-container-0-0", "-" * len("STATUS")]
    assert out[2].split()[:6] == ["compute-1-0-0:", "0", "900", "1", "00:16:3e:00:00:02", "vm-container-1-0"]
    assert run("set", "host", "vm", "compute-0-0-0", "mem=4096").rc == 0
    assert load(root).hosts["compute-0-0-0"].vm.mem == 4096


def test_slices_are_reused_without_collision(vmc):
    run, root, _ = vmc
    for _ in range(3):
        assert run("add", "host", "vm", "vm-container-0-0", "membership=Compute").rc == 0
    assert run("remove", "host", "vm", "compute-0-0-1").rc == 0
    out = run("add", "host", "vm", "vm-container-0-0", "membership=Compute").out
    assert 'slice "1" with vm_name "compute-0-0-1"' in out


def test_whole_lifecycle_on_the_test_driver(vmc):
    run, root, _ = vmc
    assert run("add", "host", "vm", "vm-container-0-0", "membership=Compute").rc == 0
    result = run("create", "host", "vm", "compute-0-0-0")
    assert result.rc == 0, result.err
    assert status(run, "compute-0-0-0") == "active"
    assert (root / "build" / "libvirt" / "compute-0-0-0.install.xml").is_file()
    assert run("pause", "host", "vm", "compute-0-0-0").rc == 0
    assert status(run, "compute-0-0-0") == "paused"
    assert run("resume", "host", "vm", "compute-0-0-0").rc == 0
    assert status(run, "compute-0-0-0") == "active"
    assert run("save", "host", "vm", "compute-0-0-0").rc == 0
    assert set(status(run, "compute-0-0-0")) == {"-"}
    assert run("restore", "host", "vm", "compute-0-0-0").rc == 0
    assert status(run, "compute-0-0-0") == "active"
    assert run("stop", "host", "vm", "compute-0-0-0").rc == 0
    assert set(status(run, "compute-0-0-0")) == {"-"}
    result = run("start", "host", "vm", "compute-0-0-0")
    assert result.rc == 0, result.err
    assert status(run, "compute-0-0-0") == "active"
    assert load(root).hosts["compute-0-0-0"].pxeboot == "os"
    import libvirt

    xml = libvirt.open("test:///default").lookupByName("compute-0-0-0").XMLDesc(0)
    assert "<bootloader>pygrub</bootloader>" in xml  # the boot variant now
    result = run("pause", "host", "vm", "compute-0-0-0", "compute-0-0-0")
    second = run("stop", "host", "vm", "compute-0-0-0")
    assert second.rc == 0
    again = run("stop", "host", "vm", "compute-0-0-0")
    assert again.rc == 1 and "not running on vm-container-0-0" in again.err


def _running_vm(run, tmp_path):
    assert run("add", "host", "vm", "vm-container-0-0", "membership=Compute", "disksize=1").rc == 0
    disk = tmp_path / "disks0" / "compute-0-0-0.hda"
    with open(disk, "wb") as fh:  # a disk with content, to check it survives
        fh.write(b"rockscc-disk")
        fh.truncate(1 << 20)
    assert run("create", "host", "vm", "compute-0-0-0").rc == 0
    return disk


def test_move_between_containers(vmc):
    run, root, tmp_path = vmc
    disk = _running_vm(run, tmp_path)
    result = run("move", "host", "vm", "compute-0-0-0", "vm-container-1-0")
    assert result.rc == 0, result.err
    assert "Saving the VM's current state." in result.out and "Restarting the VM on vm-container-1-0." in result.out
    host = load(root).hosts["compute-0-0-0"]
    assert host.vm.container == "vm-container-1-0"
    assert host.vm.disks[0].path == str(tmp_path / "disks1" / "compute-0-0-0.hda")
    assert (tmp_path / "disks1" / "compute-0-0-0.hda").read_bytes()[:12] == b"rockscc-disk"
    assert status(run, "compute-0-0-0") == "active"
    assert disk.exists()  # the source copy is kept, as in Rocks


@pytest.mark.parametrize("step", STEPS)
def test_move_failure_at_each_step_rolls_back(vmc, monkeypatch, step):
    run, root, tmp_path = vmc
    disk = _running_vm(run, tmp_path)
    before = (root / "cluster.toml").read_bytes()
    monkeypatch.setenv(FAULT_ENV, f"move:{step}")
    result = run("move", "host", "vm", "compute-0-0-0", "vm-container-1-0")
    monkeypatch.delenv(FAULT_ENV)
    assert result.rc == 1 and f"injected failure at move step {step}" in result.err
    assert (root / "cluster.toml").read_bytes() == before
    assert status(run, "compute-0-0-0") == "active"  # back (or still) on the source
    assert disk.read_bytes()[:12] == b"rockscc-disk"
    assert not (tmp_path / "disks1" / "compute-0-0-0.hda").exists()

    from rockscc.runtime.connection import _connections

    target = _connections.get(f"test://{tmp_path / 'node2.xml'}")
    if target is not None:  # never running on both containers
        assert not [d for d in target.listAllDomains() if d.isActive()]


BAD = [
    (["add", "host", "vm", "no-such-host", "membership=Compute"], 'cannot resolve host "no-such-host"'),
    (["add", "host", "vm", "frontend", "membership=Compute"], "is not a VM container"),
    (["add", "host", "vm", "vm-container-0-0", "membership=Nope"], "Nope"),
    (["add", "host", "vm", "vm-container-0-0", "membership=Compute", "mem=12"], "at least 64 MB"),
    (["add", "host", "vm", "vm-container-0-0", "membership=Compute", "mem=lots"], "not an integer"),
    (["add", "host", "vm", "vm-container-0-0", "membership=Compute", "name=frontend"], 'host "frontend" already exists'),
    (["add", "host", "vm", "vm-container-0-0", "membership=Compute", "disk=file:rel/x,hda,w"], "absolute"),
    (["start", "host", "vm", "frontend"], "is not a VM"),
]


@pytest.mark.parametrize("argv,message", BAD)
def test_bad_vm_input(vmc, argv, message):
    run, root, _ = vmc
    before = (root / "cluster.toml").read_bytes()
    result = run(*argv)
    assert result.rc != 0 and result.err.startswith("error - ") and message in result.err, result.err
    assert (root / "cluster.toml").read_bytes() == before


def test_concurrent_adds_never_share_slices_or_macs(vmc):
    run, root, _ = vmc
    procs = [subprocess.Popen([sys.executable, "-m", "rockscc", "-C", str(root), "add", "host", "vm",
                               "vm-container-0-0", "vm-container-1-0", "membership=Compute"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(6)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    cluster = load(root)
    vms = [h for h in cluster.hosts.values() if h.vm]
    assert len(vms) == 12
    assert len({(h.vm.container, h.vm.slice) for h in vms}) == 12
    macs = [i.mac for h in vms for i in h.interfaces]
    assert len(set(macs)) == 12


def test_dump_restores_vms(vmc, tmp_path):
    run, root, _ = vmc
    assert run("add", "host", "vm", "vm-container-0-0", "membership=Compute", "num-macs=2", "virt-type=hvm").rc == 0
    dumped = run("dump").out
    assert "rockscc set host vm compute-0-0-0 physnode=vm-container-0-0" in dumped
    (tmp_path / "d.sh").write_text(dumped)
    from tests.conftest import run_cli

    fresh = tmp_path / "fresh"
    assert run_cli("init", str(fresh), "password=x").rc == 0
    assert run_cli("-C", str(fresh), "load", str(tmp_path / "d.sh")).rc == 0
    assert (fresh / "cluster.toml").read_text() == (root / "cluster.toml").read_text()


def test_xl_config_round_trips_through_the_grammar(vmc):
    run, root, _ = vmc
    assert run("add", "host", "vm", "vm-container-0-0", "membership=Compute", "num-macs=2").rc == 0
    text = run("report", "host", "vm", "compute-0-0-0", "create=yes").out
    data = parse_xl(text)
    assert data["name"] == "compute-0-0-0" and data["memory"] == 1024 and data["vcpus"] == 1
    assert data["on_reboot"] == "destroy" and data["kernel"].endswith("vmlinuz")
    assert data["vif"] == ["mac=00:16:3e:00:00:01,bridge=xenbr0", "mac=00:16:3e:00:00:02,bridge=xenbr1"]
    assert "ks=http://10.1.1.1/install/kickstart/compute-0-0-0.ks" in data["extra"]
    assert run("set", "host", "pxeboot", "compute-0-0-0", "action=os").rc == 0
    boot = parse_xl(run("report", "host", "vm", "compute-0-0-0").out)
    assert boot["bootloader"] == "pygrub" and boot["on_reboot"] == "restart" and "kernel" not in boot
