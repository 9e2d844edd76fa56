"""`move host vm` attacked at every step on two real libvirtd + QEMU hosts: the target's disk full
(before and during the copy), the saved state gone (on either side), a libvirtd killed mid-copy
(either side), the restore refused by the target, the description not written, the rockscc process
killed (the next move settles it), and live migration with and without a failure. Every attempt
must end with the VM running on one disk that the description names, and the data the guest wrote
before the move intact — checked by the guest itself (it re-reads its payload from the disk twice a
second and prints the verdict) and in the disk image."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass

import pytest

from rockscc.runtime import move as move_module
from rockscc.runtime.move import FAULT_ENV
from tests.vm.site import CONTAINERS, beats

pytestmark = pytest.mark.qemu
A, B, C = "vm-container-0-0", "vm-container-1-0", "vm-container-2-0"  # C: a small tmpfs on b's hypervisor


@pytest.fixture(scope="module")
def vm(site, guest_disk):
    """A running guest on A, booted once for the whole module."""
    name = site.new_vm(guest_disk)
    site.ok("start", "host", "vm", name)
    site.wait_console(name, A, lambda lines: any(b[:2] == (1, 1) for b in beats(lines)))
    yield name
    site.run("remove", "host", "vm", name, "force=yes")


@pytest.fixture
def observe():
    """Register a function called at each checkpoint of the moves of this test: fn(step, info)."""
    added = []

    def register(fn):
        added.append(fn)
        move_module.observers.append(fn)

    yield register
    for fn in added:
        move_module.observers.remove(fn)


@dataclass
class Before:
    toml: bytes
    container: str
    top: tuple[int, int]  # the guest's last heartbeat seen: (boot, n)
    payload: str


def before(site, vm) -> Before:
    view = site.agree(vm)
    assert view["status"] == "active"
    lines = site.wait_console(vm, view["container"], lambda lines: beats(lines))
    state = site.disk_state(vm)
    assert state.payload_ok
    return Before(
        (site.root / "cluster.toml").read_bytes(), view["container"], max(beats(lines))[:2], state.payload_sum
    )


def put_back(site, vm, was: Before, result, message: str, rebooted: bool = False) -> None:
    """The move failed saying `message`, and the VM runs as before."""
    assert result.rc == 1 and message in result.err, result.err
    assert "putting it back failed" not in result.err, result.err
    runs_as_before(site, vm, was, rebooted)


def runs_as_before(site, vm, was: Before, rebooted: bool = False) -> None:
    """The VM runs where it was, on the disk the description names (unchanged), its data intact; the
    guest reads its payload from that disk and finds it whole; nothing of a move is left to settle."""
    assert (site.root / "cluster.toml").read_bytes() == was.toml
    view = site.agree(vm)
    assert view["status"] == "active" and view["container"] == was.container
    lines = site.wait_console(
        vm, was.container, lambda lines: any(b[:2] > was.top and b[2] == "ok" for b in beats(lines))
    )
    new = [b for b in beats(lines) if b[:2] > was.top]
    assert all(b[2] == "ok" for b in new)
    if rebooted:
        assert {b[0] for b in new} == {was.top[0] + 1} and f"payload ok {was.payload}" in lines
    else:
        assert {b[0] for b in new} == {was.top[0]}  # the same run of the guest, resumed
    state = site.disk_state(vm)
    assert state.payload_sum == was.payload and state.payload_ok
    assert not (site.root / ".rockscc-moves" / f"{vm}.json").exists()


def files_on(site, container: str, vm: str) -> list[str]:
    directory = CONTAINERS[container][2]
    listing = site.hv(container).inside("ls", directory)
    assert listing.returncode == 0, listing.stderr
    return [name for name in listing.stdout.split() if name.startswith(vm)]


def fill(site, container: str, leave_mib: int) -> None:
    """Fill the container's disk directory (a tmpfs) with a file leaving about leave_mib free."""
    directory = CONTAINERS[container][2]
    free = site.hv(container).inside("df", "--output=avail", "-B1M", directory).stdout.split()[-1]
    done = site.hv(container).inside("fallocate", "-l", f"{max(0, int(free) - leave_mib)}M", f"{directory}/filler")
    assert done.returncode == 0, done.stderr


def unfill(site, container: str) -> None:
    site.hv(container).inside("rm", "-f", f"{CONTAINERS[container][2]}/filler")


# --- the target's disk ---------------------------------------------------------------------------------
def test_too_small_target_is_refused_before_the_vm_stops(site, vm):
    was = before(site, vm)
    [dom_before] = [d for d in site.libvirt(vm) if d.state == 1]
    fill(site, C, leave_mib=4)
    try:
        result = site.run("move", "host", "vm", vm, C)
    finally:
        unfill(site, C)
    assert result.rc == 1 and f"{C} has" in result.err and "MiB free" in result.err, result.err
    assert "Saving" not in result.out  # refused before the VM was touched
    assert [d.xml for d in site.libvirt(vm) if d.state == 1] == [dom_before.xml]  # the same QEMU run
    put_back(site, vm, was, result, "MiB free")
    assert files_on(site, C, vm) == []


def test_target_disk_full_during_the_copy(site, vm, observe):
    """The free space is taken by something else while the saved state streams to the target."""
    was = before(site, vm)
    filled = []

    def take_the_space(step, info):
        if step == "copying" and not filled and info["done"] >= 1 << 20:
            fill(site, C, leave_mib=1)
            filled.append(info["path"])

    observe(take_the_space)
    try:
        result = site.run("move", "host", "vm", vm, C)
    finally:
        unfill(site, C)
    assert filled, f"the copy never started: {result.err}"
    put_back(site, vm, was, result, "No space left on device")
    assert files_on(site, C, vm) == []


# --- the saved state ------------------------------------------------------------------------------------
def test_saved_state_lost_on_the_target(site, vm, observe):
    was = before(site, vm)
    copy = site.host_path(B, f"{CONTAINERS[B][2]}/{vm}.saved")
    observe(lambda step, info: copy.unlink() if step == "restore" else None)
    result = site.run("move", "host", "vm", vm, B)
    put_back(site, vm, was, result, f"reading the saved state {CONTAINERS[B][2]}/{vm}.saved")
    assert "restored from its saved state" in result.err
    assert files_on(site, B, vm) == []


# --- a libvirt daemon dies --------------------------------------------------------------------------------
def test_target_libvirtd_killed_mid_copy(site, vm, observe):
    was = before(site, vm)
    killed = []

    def kill_target(step, info):
        if step == "copying" and not killed and info["done"] >= 4 << 20:
            site.pair.b.kill_libvirtd()
            killed.append(info["path"])

    observe(kill_target)
    try:
        result = site.run("move", "host", "vm", vm, B)
    finally:
        site.pair.b.restart_libvirtd()
    assert killed
    put_back(site, vm, was, result, "failed")
    assert f"on {B} by hand" in result.err  # what could not be removed while b was down is named


def test_source_libvirtd_killed_mid_copy(site, vm, observe):
    """The source's libvirtd dies while the saved state streams out of it and its service manager
    restarts it a second later: the move waits for it to put the VM back."""
    was = before(site, vm)
    restarts = []

    def kill_source(step, info):
        if step == "copying" and not restarts and info["done"] >= 4 << 20:
            site.pair.a.kill_libvirtd()
            restarter = threading.Timer(1.0, site.pair.a.restart_libvirtd)
            restarter.start()
            restarts.append(restarter)

    observe(kill_source)
    result = site.run("move", "host", "vm", vm, B)
    restarts[0].join(timeout=90)
    assert "Waiting for the libvirt of vm-container-0-0 to answer" in result.out
    put_back(site, vm, was, result, "failed")


# --- the target refuses, the description cannot be written --------------------------------------------------
def test_restore_refused_by_the_target(site, vm):
    was = before(site, vm)
    flag = site.pair.b.base / "etc" / "refuse"  # the test hypervisor's hook refuses to start domains
    flag.touch()
    try:
        result = site.run("move", "host", "vm", vm, B)
    finally:
        flag.unlink()
    put_back(site, vm, was, result, "refused by the test's hook")
    assert files_on(site, B, vm) == []


def test_description_not_written(site, vm, monkeypatch):
    """The VM is already restored (paused) on the target when the description cannot be saved:
    it never runs there, and runs on where it was."""
    was = before(site, vm)
    monkeypatch.setenv(FAULT_ENV, "move:commit")
    result = site.run("move", "host", "vm", vm, B)
    monkeypatch.delenv(FAULT_ENV)
    put_back(site, vm, was, result, "injected failure at move step commit")
    assert [d.hypervisor for d in site.libvirt(vm)] == ["a"]
    assert files_on(site, B, vm) == []


# --- the rockscc process killed ---------------------------------------------------------------------------------
def _killed_move(site, vm, step: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rockscc", "-C", str(site.root), "move", "host", "vm", vm, B],
        env=os.environ | {FAULT_ENV: f"move:{step}:kill"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_killed_during_the_copy_is_undone_by_the_next_move(site, vm):
    was = before(site, vm)
    killed = _killed_move(site, vm, "copy-disk")
    assert killed.returncode == -9
    assert not [d for d in site.libvirt(vm) if d.state in (1, 3)]  # saved: running nowhere
    assert files_on(site, B, vm) == [f"{vm}.saved"]  # the state copied before the kill
    result = site.ok("move", "host", "vm", vm, A)  # the same command, or any move of it, settles it
    assert "Undoing the interrupted move" in result.out and "restored from its saved state" in result.out
    assert "Saving" not in result.out  # nothing moved: it was asked to stay on A
    runs_as_before(site, vm, was)
    assert files_on(site, B, vm) == []


def test_killed_after_the_restore_is_finished_by_the_next_move(site, vm):
    was = before(site, vm)
    killed = _killed_move(site, vm, "commit")
    assert killed.returncode == -9
    # between restore and commit: paused on the target, the description still says A
    assert [(d.hypervisor, d.state) for d in site.libvirt(vm) if d.state in (1, 3)] == [("b", 3)]
    assert (site.root / "cluster.toml").read_bytes() == was.toml
    refused = site.run("start", "host", "vm", vm)
    assert refused.rc == 1 and "was interrupted" in refused.err
    assert "was interrupted" in site.run("list", "host", "vm", vm).err
    result = site.ok("move", "host", "vm", vm, B)
    assert "Finishing the interrupted move" in result.out and "Saving" not in result.out
    view = site.agree(vm)
    assert view["container"] == B and view["status"] == "active"
    lines = site.wait_console(vm, B, lambda lines: any(b[:2] > was.top for b in beats(lines)))
    assert all(b[2] == "ok" and b[0] == was.top[0] for b in beats(lines))
    assert not (site.root / ".rockscc-moves" / f"{vm}.json").exists()
    assert files_on(site, A, vm) == [f"{vm}.vda"]  # the old disk (kept, as in Rocks); the saved state is gone


# --- live migration -----------------------------------------------------------------------------------------------
def test_live_migration_between_two_daemons(site, vm):
    was = before(site, vm)
    there = A if was.container == B else B
    source_image = site.host_path(was.container, site.rockscc(vm)["disks"][0])
    result = site.ok("move", "host", "vm", vm, there, "live=yes")
    assert "Migrating the running VM" in result.out, result.out
    view = site.agree(vm)
    assert view["container"] == there and view["disks"] == [f"{CONTAINERS[there][2]}/{vm}.vda"]
    assert [d.hypervisor for d in site.libvirt(vm)] == [CONTAINERS[there][0]]
    lines = site.wait_console(vm, there, lambda lines: any(b[:2] > was.top for b in beats(lines)))
    assert all(b[0] == was.top[0] and b[2] == "ok" for b in beats(lines))  # never stopped: the same run
    target_image = site.host_path(there, view["disks"][0])
    assert target_image.stat().st_blocks <= source_image.stat().st_blocks * 1.1  # holes kept


def test_live_migration_failing_at_the_commit_goes_back(site, vm, monkeypatch):
    was = before(site, vm)
    there = A if was.container == B else B
    monkeypatch.setenv(FAULT_ENV, "move:commit")
    result = site.run("move", "host", "vm", vm, there, "live=yes")
    monkeypatch.delenv(FAULT_ENV)
    put_back(site, vm, was, result, "injected failure at move step commit")
    assert [d.hypervisor for d in site.libvirt(vm) if d.state in (1, 3)] == [CONTAINERS[was.container][0]]


def test_saved_state_lost_before_the_copy(site, vm, observe):
    """Without its saved memory the VM cannot resume: it boots again from its own disk, the one the
    description names, its data intact."""
    was = before(site, vm)
    there = A if was.container == B else B
    state = site.host_path(was.container, f"{CONTAINERS[was.container][2]}/{vm}.saved")
    observe(lambda step, info: state.unlink() if step == "copy-state" else None)
    result = site.run("move", "host", "vm", vm, there)
    put_back(site, vm, was, result, "no such file", rebooted=True)
    assert "booted again from its disk" in result.err
    assert files_on(site, there, vm) == []


# --- shutdown and reboot --------------------------------------------------------------------------------------------
def test_reboot_then_shutdown(site, vm):
    was = before(site, vm)
    site.ok("reboot", "host", "vm", vm)
    site.wait_console(vm, was.container, lambda lines: any(b[0] == was.top[0] + 1 for b in beats(lines)))
    assert site.agree(vm)["status"] == "active"
    assert site.disk_state(vm).payload_ok
    site.ok("shutdown", "host", "vm", vm, "timeout=60")
    assert site.agree(vm)["status"] is None
    assert "power button" in site.console(vm, was.container)


def test_shutdown_of_a_guest_that_ignores_acpi(site):
    """A VM with nothing to boot ignores the power button: shutdown says so after the timeout and
    leaves it running; stop pulls the cord."""
    blank = site.new_vm(None, container=A, mem=64)
    site.ok("create", "host", "vm", blank)
    result = site.run("shutdown", "host", "vm", blank, "timeout=2")
    assert result.rc == 1 and f"{blank} did not power off within 2 s" in result.err and "stop host vm" in result.err
    assert site.agree(blank)["status"] == "active"
    site.ok("stop", "host", "vm", blank)
    assert site.agree(blank)["status"] is None
    site.ok("remove", "host", "vm", blank)
