"""VM commands against VMs in states the lifecycle test does not reach: a state file of another
VM, a running VM whose record is edited, a VM record made over a used slice (libvirt's test driver)."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.model import load
from tests.conftest import run_cli
from tests.vm.test_vm_lifecycle import status


def _two_running(run):
    for _ in range(2):
        assert run("add", "host", "vm", "vm-container-0-0", "membership=Compute", "disksize=1").rc == 0
    for vm in ("compute-0-0-0", "compute-0-0-1"):
        result = run("create", "host", "vm", vm)
        assert result.rc == 0, result.err


def test_restore_refuses_the_state_file_of_another_vm(vmc):
    """restore host vm A file=<B's state> restored B (not A) and deleted B's only saved state."""
    run, root, tmp_path = vmc
    _two_running(run)
    assert run("save", "host", "vm", "compute-0-0-1").rc == 0
    assert run("stop", "host", "vm", "compute-0-0-0").rc == 0
    state = tmp_path / "disks0" / "compute-0-0-1.saved"
    result = run("restore", "host", "vm", "compute-0-0-0", f"file={state}")
    assert result.rc == 1 and result.err.startswith("error - "), result.err
    assert "holds the saved state of VM compute-0-0-1, not of compute-0-0-0" in result.err
    assert state.exists()  # B's state is kept, B still saved, A still off
    assert set(status(run, "compute-0-0-0")) == {"-"} and set(status(run, "compute-0-0-1")) == {"-"}
    result = run("restore", "host", "vm", "compute-0-0-1")  # its own state still restores it
    assert result.rc == 0, result.err
    assert status(run, "compute-0-0-1") == "active" and not state.exists()


def test_restore_of_a_corrupt_or_missing_state_file_is_a_clear_error(vmc):
    run, root, tmp_path = vmc
    _two_running(run)
    assert run("stop", "host", "vm", "compute-0-0-0").rc == 0
    junk = tmp_path / "junk.saved"
    junk.write_bytes(b"not a saved state")
    for path in (junk, tmp_path / "missing.saved"):
        result = run("restore", "host", "vm", "compute-0-0-0", f"file={path}")
        assert result.rc == 1 and result.err.startswith("error - ") and str(path) in result.err, result.err
    assert junk.read_bytes() == b"not a saved state"


def test_physnode_of_a_defined_vm_is_refused(vmc):
    """set host vm physnode= on a running VM pointed the description at the other container while
    the domain kept running on the old one, out of reach of every later command."""
    run, root, _ = vmc
    _two_running(run)
    before = (root / "cluster.toml").read_bytes()
    for vm in ("compute-0-0-0", "compute-0-0-1"):
        if vm == "compute-0-0-1":
            assert run("stop", "host", "vm", vm).rc == 0  # defined but off: still refused
        result = run("set", "host", "vm", vm, "physnode=vm-container-1-0")
        assert result.rc == 1 and result.err.startswith("error - ") and "move host vm" in result.err, result.err
        assert (root / "cluster.toml").read_bytes() == before
    assert status(run, "compute-0-0-0") == "active"
    assert run("set", "host", "vm", "compute-0-0-0", "physnode=vm-container-0-0", "mem=2048").rc == 0  # same: fine
    assert run("add", "host", "vm", "vm-container-0-0", "membership=Compute").rc == 0  # never defined: may move
    result = run("set", "host", "vm", "compute-0-0-2", "physnode=vm-container-1-0")
    assert result.rc == 0, result.err
    assert load(root).hosts["compute-0-0-2"].vm.container == "vm-container-1-0"


def test_vm_records_never_share_a_slice(vmc):
    """set host vm physnode= made a VM record at slice 0 even when a VM of that container had it."""
    run, root, _ = vmc
    assert run("add", "host", "vm", "vm-container-0-0", "membership=Compute").rc == 0
    assert run("add", "host", "vm", "vm-container-1-0", "membership=Compute").rc == 0
    assert run("add", "host", "spare", "membership=Compute").rc == 0
    assert run("set", "host", "vm", "spare", "physnode=vm-container-0-0").rc == 0
    cluster = load(root)
    assert cluster.hosts["spare"].vm.slice == 1  # the next free one
    before = (root / "cluster.toml").read_bytes()
    for argv in (
        ["set", "host", "vm", "spare", "slice=0"],  # taken on its own container
        ["set", "host", "vm", "compute-0-0-0", "physnode=vm-container-1-0"],  # slice 0 taken there
    ):
        result = run(*argv)
        assert result.rc == 1 and "slice 0 of vm-container-" in result.err and "is used by" in result.err, result.err
        assert (root / "cluster.toml").read_bytes() == before


def test_start_of_a_running_vm_leaves_the_description_alone(vmc):
    """start host vm on a VM running its installer failed, but only after writing its action "os"
    (create host vm on a booted VM likewise wrote "install")."""
    run, root, _ = vmc
    _two_running(run)  # installing: action "install"
    before = (root / "cluster.toml").read_bytes(), (root / "hosts" / "compute-0-0-0.toml").read_bytes()
    result = run("start", "host", "vm", "compute-0-0-0")
    assert result.rc == 1 and "already running on vm-container-0-0" in result.err, result.err
    assert load(root).hosts["compute-0-0-0"].pxeboot == "install"
    assert run("stop", "host", "vm", "compute-0-0-1").rc == 0
    assert run("start", "host", "vm", "compute-0-0-1").rc == 0  # booted: action "os"
    result = run("create", "host", "vm", "compute-0-0-0", "compute-0-0-1")
    assert result.rc == 1 and "already running" in result.err, result.err
    assert load(root).hosts["compute-0-0-1"].pxeboot == "os"
    assert ((root / "cluster.toml").read_bytes(), (root / "hosts" / "compute-0-0-0.toml").read_bytes()) == before


def test_start_of_a_saved_vm_is_refused(vmc):
    """start host vm on a saved VM booted it afresh, dropping its saved memory, and left the state
    file behind for a later restore host vm to pair with a disk that had moved on."""
    run, root, tmp_path = vmc
    _two_running(run)
    assert run("save", "host", "vm", "compute-0-0-0").rc == 0
    state = tmp_path / "disks0" / "compute-0-0-0.saved"
    saved = state.read_bytes()
    for verb in ("start", "create"):
        result = run(verb, "host", "vm", "compute-0-0-0")
        assert result.rc == 1 and result.err.startswith("error - "), result.err
        assert f"is saved in {state}" in result.err and "restore host vm compute-0-0-0" in result.err
        assert set(status(run, "compute-0-0-0")) == {"-"} and state.read_bytes() == saved
    assert load(root).hosts["compute-0-0-0"].pxeboot == "install"
    result = run("restore", "host", "vm", "compute-0-0-0")
    assert result.rc == 0, result.err
    assert status(run, "compute-0-0-0") == "active" and not state.exists()


DISK = st.tuples(
    st.sampled_from(["file", "tap:aio", "phy"]),
    st.from_regex(r"/[a-z0-9_+@~-]{1,8}(/[a-zA-Z0-9_.+@~-]{1,8}){0,2}", fullmatch=True).filter(
        lambda p: ".." not in p.split("/")
    ),
    st.sampled_from(["hda", "hdb", "xvda", "sdb"]),
    st.sampled_from(["w", "r", "w!"]),
    st.integers(1, 1 << 30),
)
VM_RECORD = st.fixed_dictionaries(
    {
        "container": st.sampled_from(["vm-container-0-0", "vm-container-1-0"]),
        "mem": st.integers(64, 1 << 20),
        "cpus": st.integers(1, 64),
        "virt": st.sampled_from(["para", "hvm"]),
        "disks": st.lists(DISK, min_size=1, max_size=3),
        "slice": st.integers(0, 65536),
    }
)


FRESH = itertools.count()


def _records(root) -> dict:
    return {f.name: f.read_bytes() for f in sorted((root / "hosts").iterdir())}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(vms=st.lists(VM_RECORD, min_size=1, max_size=4))
def test_dump_host_vm_then_load_reproduces_the_vm_records(vmc, vms):
    """VM records (every disk type, mode, size, slice, virt type) dumped by dump host vm and by
    dump come back byte for byte: over changed records in the same description, and in a fresh
    one (tests/vm/test_vm_lifecycle.py compares only cluster.toml, which holds no VM)."""
    run, root, tmp_path = vmc
    names = []
    for index, vm in enumerate(vms):
        name = f"vm{len(list((root / 'hosts').iterdir()))}x{index}"
        assert run("add", "host", name, "membership=Compute", f"cpus={vm['cpus']}").rc == 0
        disks = " ".join(f"{v}:{p}{'/d' if v == 'phy' else ''},{d},{m}" for v, p, d, m, _ in vm["disks"])
        result = run(
            "set", "host", "vm", name, f"physnode={vm['container']}", f"disk={disks}",
            "disksize=" + " ".join(str(s) for *_, s in vm["disks"]), f"mem={vm['mem']}", f"virt-type={vm['virt']}",
        )  # fmt: skip
        assert result.rc == 0, result.err
        run("set", "host", "vm", name, f"slice={vm['slice']}")  # a taken slice is refused: it keeps a free one
        names.append(name)
    original = _records(root)
    dumped = run("dump", "host", "vm", *names)
    assert dumped.rc == 0, dumped.err
    for name in names:  # change every record, then load the dump over them
        assert run("set", "host", "vm", name, "mem=64", "virt-type=hvm", "disk=file:/elsewhere/x,hdc,r").rc == 0
    script = tmp_path / "vms.sh"
    script.write_text(dumped.out)
    result = run("load", str(script))
    assert result.rc == 0, result.err
    assert _records(root) == original
    fresh = tmp_path / f"fresh{next(FRESH)}"
    assert run_cli("init", str(fresh), "password=secret").rc == 0
    (tmp_path / "all.sh").write_text(run("dump").out)
    result = run_cli("-C", str(fresh), "load", str(tmp_path / "all.sh"))
    assert result.rc == 0, result.err
    assert _records(fresh) == _records(root)


def test_save_never_overwrites_a_file(vmc):
    """save host vm file=<its own disk image> replaced the disk with the memory state, and
    file=<another VM's saved state> replaced that VM's only state."""
    run, root, tmp_path = vmc
    _two_running(run)
    disk = tmp_path / "disks0" / "data.img"
    disk.write_bytes(b"precious data")
    assert run("save", "host", "vm", "compute-0-0-1").rc == 0
    other = tmp_path / "disks0" / "compute-0-0-1.saved"
    other_state = other.read_bytes()
    for path in (disk, other):
        result = run("save", "host", "vm", "compute-0-0-0", f"file={path}")
        assert result.rc == 1 and result.err.startswith("error - ") and f"{path} already exists" in result.err
        assert status(run, "compute-0-0-0") == "active"
    assert disk.read_bytes() == b"precious data" and other.read_bytes() == other_state
    assert run("save", "host", "vm", "compute-0-0-0").rc == 0  # its own default file: free, saved
