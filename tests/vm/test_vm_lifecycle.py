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
    result = run("add", "host", "vm", "vm-container-0-0", "membership=Compute")
    assert result.out == 'added VM on node "vm-container-0-0" slice "0" with vm_name "compute-0-0-0"\n'
    result = run("add", "host", "vm", "vm-container-1-0", "membership=Compute", "mem=900")
    assert result.rc == 0
    out = run("list", "host", "vm").out.splitlines()
    assert out[0].split() == ["VM-HOST", "SLICE", "MEM", "CPUS", "MAC", "HOST", "STATUS"]
    assert out[1].split() == [
        "compute-0-0-0:",
        "0",
        "1024",
        "1",
        "00:16:3e:00:00:01",
        "vm-container-0-0",
        "-" * len("STATUS"),
    ]
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
    with open(disk, "wb") as fh:  # a sparse disk with content, to check it survives
        fh.write(b"rockscc-disk")
        fh.seek(300 << 20)
        fh.write(b"more data after a hole")
        fh.truncate(10**9)
    assert run("create", "host", "vm", "compute-0-0-0").rc == 0
    return disk


def _content_digest(path) -> str:
    """The bytes of a 1 GB sparse image, without reading its holes (tests/vm/test_storage.py
    checks this digest against the bytes)."""
    from rockscc.runtime.storage import LocalStore, digest_of

    return digest_of(LocalStore("test"), str(path))


def same_content(one, two) -> bool:
    return one.stat().st_size == two.stat().st_size and _content_digest(one) == _content_digest(two)


def _domains(uri: str) -> dict[str, tuple[bool, str]]:
    """name → (active, disk paths) of the VMs the container's libvirt knows."""
    from rockscc.runtime.connection import connect_uri
    from rockscc.runtime.retarget import disk_sources

    conn = connect_uri(uri, "test")
    return {
        d.name(): (bool(d.isActive()), " ".join(disk_sources(d.XMLDesc(0)).values()))
        for d in conn.listAllDomains()
        if d.name().startswith("compute-")
    }


def test_move_between_containers(vmc):
    run, root, tmp_path = vmc
    disk = _running_vm(run, tmp_path)
    result = run("move", "host", "vm", "compute-0-0-0", "vm-container-1-0")
    assert result.rc == 0, result.err
    assert "Saving the VM's current state." in result.out and "Restarting the VM on vm-container-1-0." in result.out
    host = load(root).hosts["compute-0-0-0"]
    moved = tmp_path / "disks1" / "compute-0-0-0.hda"
    assert host.vm.container == "vm-container-1-0" and host.vm.disks[0].path == str(moved)
    assert same_content(moved, disk)
    assert moved.stat().st_blocks <= disk.stat().st_blocks < 100  # holes kept (1 GB apparent, 8 KiB of data)
    assert status(run, "compute-0-0-0") == "active"
    # the restored domain runs on the copy (the XML rewritten for the target), and only there
    assert _domains(f"test://{tmp_path / 'node2.xml'}") == {"compute-0-0-0": (True, str(moved))}
    assert "compute-0-0-0" not in _domains("test:///default")
    assert not list((tmp_path / "disks0").glob("*.saved")) and not list((tmp_path / "disks1").glob("*.saved"))
    assert disk.exists()  # the source copy is kept, as in Rocks
    assert not (root / ".rockscc-moves" / "compute-0-0-0.json").exists()


def test_move_of_a_stopped_vm_moves_its_disks(vmc):
    run, root, tmp_path = vmc
    disk = _running_vm(run, tmp_path)
    assert run("stop", "host", "vm", "compute-0-0-0").rc == 0
    result = run("move", "host", "vm", "compute-0-0-0", "vm-container-1-0")
    assert result.rc == 0, result.err
    assert "Saving" not in result.out and "Moving virtual disk" in result.out
    assert same_content(tmp_path / "disks1" / "compute-0-0-0.hda", disk)
    assert "compute-0-0-0" not in _domains(
        "test:///default"
    )  # no definition left on a disk the description does not name
    assert run("start", "host", "vm", "compute-0-0-0").rc == 0
    assert _domains(f"test://{tmp_path / 'node2.xml'}")["compute-0-0-0"][0]


@pytest.mark.parametrize("step", [s for s in STEPS if s != "cleanup"])
def test_move_failure_at_each_step_rolls_back(vmc, monkeypatch, step):
    run, root, tmp_path = vmc
    disk = _running_vm(run, tmp_path)
    content = _content_digest(disk)
    before = (root / "cluster.toml").read_bytes()
    monkeypatch.setenv(FAULT_ENV, f"move:{step}")
    result = run("move", "host", "vm", "compute-0-0-0", "vm-container-1-0")
    monkeypatch.delenv(FAULT_ENV)
    assert result.rc == 1 and f"injected failure at move step {step}" in result.err
    assert "compute-0-0-0 runs on vm-container-0-0 again" in result.err or "as before" in result.err, result.err
    assert (root / "cluster.toml").read_bytes() == before
    assert status(run, "compute-0-0-0") == "active"  # back (or still) on the source
    assert _content_digest(disk) == content
    assert _domains("test:///default") == {"compute-0-0-0": (True, str(disk))}
    assert not _domains(f"test://{tmp_path / 'node2.xml'}")  # nothing of it on the target
    assert not list((tmp_path / "disks1").iterdir())
    assert not list((tmp_path / "disks0").glob("*.saved"))
    assert not (root / ".rockscc-moves" / "compute-0-0-0.json").exists()


def test_move_cleanup_failure_is_a_warning(vmc, monkeypatch):
    run, root, tmp_path = vmc
    _running_vm(run, tmp_path)
    monkeypatch.setenv(FAULT_ENV, "move:cleanup")
    result = run("move", "host", "vm", "compute-0-0-0", "vm-container-1-0")
    assert result.rc == 0 and "cleaning up after it failed: injected failure" in result.err
    assert load(root).hosts["compute-0-0-0"].vm.container == "vm-container-1-0"
    assert status(run, "compute-0-0-0") == "active"


def test_move_refuses_before_touching_the_vm(vmc):
    run, root, tmp_path = vmc
    _running_vm(run, tmp_path)
    before = (root / "cluster.toml").read_bytes()
    cases = [
        (["move", "host", "vm", "compute-0-0-0", "vm-container-0-0"], "already on vm-container-0-0"),
        (["move", "host", "vm", "compute-0-0-0", "frontend"], "is not a VM container"),
        (["move", "host", "vm", "vm-container-0-0", "vm-container-1-0"], "is not a VM"),
        (["move", "host", "vm", "compute-0-0-0", "vm-container-1-0", "live=yes"], "migrat"),
    ]
    for argv, message in cases:
        result = run(*argv)
        assert result.rc == 1 and message in result.err, (argv, result.err)
        assert (root / "cluster.toml").read_bytes() == before
        assert status(run, "compute-0-0-0") == "active"
    # the same libvirt behind both containers: moving would only confuse it
    assert run("set", "host", "attr", "vm-container-1-0", "libvirt_uri", "test:///default").rc == 0
    result = run("move", "host", "vm", "compute-0-0-0", "vm-container-1-0")
    assert result.rc == 1 and "managed by the same libvirt" in result.err
    assert status(run, "compute-0-0-0") == "active"


def test_interrupted_move_blocks_the_vm_until_settled(vmc):
    """A move killed between the restore on the target and the commit leaves a journal; other VM
    commands refuse the VM, list warns, and running the move again settles it."""
    run, root, tmp_path = vmc
    disk = _running_vm(run, tmp_path)
    assert run("save", "host", "vm", "compute-0-0-0").rc == 0  # what a killed move leaves on the source
    from rockscc.runtime.journal import Journal, write_journal

    state = str(tmp_path / "disks0" / "compute-0-0-0.saved")
    write_journal(
        root,
        Journal(
            vm="compute-0-0-0",
            source="vm-container-0-0",
            target="vm-container-1-0",
            uuid=load_uuid(state),
            disks={str(disk): str(tmp_path / "disks1" / "compute-0-0-0.hda")},
            state_src=state,
            state_dst=str(tmp_path / "disks1" / "compute-0-0-0.saved"),
            phase="saved",
        ),
    )
    for argv in (
        ["start", "host", "vm", "compute-0-0-0"],
        ["restore", "host", "vm", "compute-0-0-0"],
        ["remove", "host", "vm", "compute-0-0-0"],
        ["remove", "host", "compute-0-0-0"],
        ["set", "host", "vm", "compute-0-0-0", "physnode=vm-container-1-0"],
    ):
        result = run(*argv)
        assert result.rc == 1 and "move host vm compute-0-0-0 vm-container-1-0' finishes or undoes it" in result.err
    assert "was interrupted" in run("list", "host", "vm").err
    result = run("move", "host", "vm", "compute-0-0-0", "vm-container-0-0")  # asked for where it ends up: done
    assert result.rc == 0, result.err
    assert "Undoing the interrupted move" in result.out and "runs on vm-container-0-0 again" in result.out
    assert status(run, "compute-0-0-0") == "active"
    assert not (root / ".rockscc-moves" / "compute-0-0-0.json").exists()


def load_uuid(state_file: str) -> str:
    from lxml import etree

    from rockscc.runtime.connection import connect_uri

    xml = connect_uri("test:///default", "test").saveImageGetXMLDesc(state_file, 0)
    return etree.fromstring(xml.encode()).findtext("uuid")


BAD = [
    (["add", "host", "vm", "no-such-host", "membership=Compute"], 'cannot resolve host "no-such-host"'),
    (["add", "host", "vm", "frontend", "membership=Compute"], "is not a VM container"),
    (["add", "host", "vm", "vm-container-0-0", "membership=Nope"], "Nope"),
    (["add", "host", "vm", "vm-container-0-0", "membership=Compute", "mem=12"], "at least 64 MB"),
    (["add", "host", "vm", "vm-container-0-0", "membership=Compute", "mem=lots"], "not an integer"),
    (
        ["add", "host", "vm", "vm-container-0-0", "membership=Compute", "name=frontend"],
        'host "frontend" already exists',
    ),
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
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rockscc",
                "-C",
                str(root),
                "add",
                "host",
                "vm",
                "vm-container-0-0",
                "vm-container-1-0",
                "membership=Compute",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(6)
    ]
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


class _SilentServer:
    """A TCP port that accepts connections and never answers: a container whose libvirt hangs."""

    def __init__(self) -> None:
        import socket
        import threading

        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def test_list_costs_one_bounded_wait_per_silent_container(vmc):
    run, root, tmp_path = vmc
    server = _SilentServer()
    try:
        for cmd in (
            ["add", "host", "vm-container-2-0"],
            [
                "set",
                "host",
                "attr",
                "vm-container-2-0",
                "libvirt_uri",
                f"value=qemu+tcp://127.0.0.1:{server.port}/system",
            ],
        ):
            assert run(*cmd).rc == 0
        for _ in range(3):
            assert run("add", "host", "vm", "vm-container-2-0", "membership=Compute").rc == 0
        assert run("add", "host", "vm", "vm-container-0-0", "membership=Compute").rc == 0
        done = subprocess.run(
            [sys.executable, "-m", "rockscc", "-C", str(root), "list", "host", "vm", "timeout=1"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        warnings = done.stderr.splitlines()
        assert warnings == [
            f"warning - VM container vm-container-2-0 at qemu+tcp://127.0.0.1:{server.port}/system "
            "did not answer within 1 s"
        ]
        rows = [line.split() for line in done.stdout.splitlines()[1:]]
        assert len(rows) == 4 and all(set(row[-1]) == {"-"} for row in rows)
        assert len(server.accepted) == 1  # one connection for the container, not one per VM
    finally:
        server.close()
    # a container that refuses at once does not wait at all, and the others still answer
    assert run("create", "host", "vm", "compute-0-0-0").rc == 0
    assert run("set", "host", "attr", "vm-container-2-0", "libvirt_uri", "value=qemu+tcp://127.0.0.1:1/system").rc == 0
    result = run("list", "host", "vm")
    assert result.rc == 0 and result.err.count("warning - ") == 1 and "vm-container-2-0" in result.err
    assert [line.split()[-1] for line in result.out.splitlines() if line.startswith("compute-0-0-0")] == ["active"]


def test_shutdown_and_reboot_on_the_test_driver(vmc):
    run, root, tmp_path = vmc
    assert run("add", "host", "vm", "vm-container-0-0", "membership=Compute").rc == 0
    assert run("create", "host", "vm", "compute-0-0-0").rc == 0
    assert run("reboot", "host", "vm", "compute-0-0-0").rc == 0  # an install ends with its reboot (on_reboot=destroy)
    assert set(status(run, "compute-0-0-0")) == {"-"}
    assert run("start", "host", "vm", "compute-0-0-0").rc == 0
    assert run("reboot", "host", "vm", "compute-0-0-0").rc == 0  # an installed VM comes back
    assert status(run, "compute-0-0-0") == "active"
    assert run("shutdown", "host", "vm", "compute-0-0-0", "timeout=5").rc == 0
    assert set(status(run, "compute-0-0-0")) == {"-"}
    for argv, message in (
        (["shutdown", "host", "vm", "compute-0-0-0"], "not running on vm-container-0-0"),
        (["reboot", "host", "vm", "compute-0-0-0"], "not running on vm-container-0-0"),
        (["shutdown", "host", "vm", "compute-0-0-0", "timeout=-1"], "cannot be negative"),
        (["shutdown", "host", "vm", "compute-0-0-0", "timeout=soon"], "not an integer"),
        (["list", "host", "vm", "timeout=0"], "at least 1 second"),
        (["move", "host", "vm", "compute-0-0-0", "vm-container-1-0", "live=maybe"], "not a boolean"),
    ):
        result = run(*argv)
        assert result.rc == 1 and result.err.startswith("error - ") and message in result.err, (argv, result.err)
