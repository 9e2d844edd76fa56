"""Every VM command of the seed deck, replayed against two real libvirtd + QEMU hosts (software
emulation; tests/vm/hypervisors.py), with a real guest (tests/vm/guest.py). After every step
libvirt's account of the VM — domain state, disks in its domain XML, MACs, memory — must equal what
`list host vm` and `dump host vm` say, and the VM never runs twice."""

from __future__ import annotations

import pytest

from tests.vm.guest import DiskState
from tests.vm.site import beats

pytestmark = pytest.mark.qemu
A, B = "vm-container-0-0", "vm-container-1-0"


def test_seed_deck_replay(site, guest_disk):
    # add: the deck's command line and its answer
    result = site.ok('add host vm vm-container-0-0 membership="Compute"')
    assert result.out.startswith('added VM on node "vm-container-0-0" slice "')
    vm = result.out.rsplit('"', 2)[1]
    # the deck's set: what the test guest needs (96 MB, a virtio disk)
    site.ok(f'set host vm {vm} mem=96 disk="file:/var/lib/libvirt/images/c00/{vm}.vda,vda,w"')
    site.place_disk(vm, guest_disk)
    assert site.agree(vm)["status"] is None
    # report: the configs the container gets
    config = site.ok("report", "host", "vm", "config", vm).out
    assert '<boot dev="network"/>' in config and f"/var/lib/libvirt/images/c00/{vm}.vda" in config
    assert f"name = '{vm}'" in site.ok("report", "host", "vm", vm).out

    site.ok(f"create host vm {vm}")
    view = site.agree(vm)
    assert view["status"] == "active" and view["container"] == A
    [dom] = site.libvirt(vm)
    assert "<boot dev='network'/>" in dom.xml  # the install variant

    for command, status in (
        (f"pause host vm {vm}", "paused"),
        (f"resume host vm {vm}", "active"),
        (f"stop host vm {vm}", None),
    ):
        site.ok(command)
        assert site.agree(vm)["status"] == status, command

    site.ok(f"set host vm {vm} mem=112")
    assert site.agree(vm)["mem"] == 112
    site.ok(f"start host vm {vm}")
    [dom] = site.libvirt(vm)
    assert dom.mem_mib == 112 and "<boot dev='network'/>" not in dom.xml  # the boot variant, the new memory
    assert site.agree(vm)["status"] == "active"
    site.wait_console(vm, A, lambda lines: any(b[:2] == (1, 1) for b in beats(lines)))
    first = site.disk_state(vm)
    assert first.payload_sum and first.payload_ok and first.boots == 1

    site.ok(f"save host vm {vm}")
    assert site.agree(vm)["status"] is None
    saved = site.host_path(A, f"/var/lib/libvirt/images/c00/{vm}.saved")
    assert saved.stat().st_size > 0
    site.ok(f"restore host vm {vm}")
    assert site.agree(vm)["status"] == "active"
    assert not saved.exists()  # restoring it twice would pair old memory with a newer disk

    site.wait_console(vm, A, lambda lines: len(beats(lines)) >= 3)
    source_image = site.host_path(A, f"/var/lib/libvirt/images/c00/{vm}.vda")
    result = site.ok(f"move host vm {vm} {B}")
    assert result.out.splitlines() == [
        "Saving the VM's current state.",
        f"Copying the VM's current state to {B}.",
        f"Moving virtual disk (/var/lib/libvirt/images/c00/{vm}.vda) to {B}",
        f"Restarting the VM on {B}.",
    ]
    view = site.agree(vm)
    assert view["container"] == B and view["disks"] == [f"/var/lib/libvirt/images/c10/{vm}.vda"]
    assert [d.hypervisor for d in site.libvirt(vm)] == ["b"]  # the old definition is gone from a
    target_image = site.host_path(B, view["disks"][0])
    assert target_image.stat().st_size == source_image.stat().st_size == 36 * 10**9
    assert target_image.stat().st_blocks <= source_image.stat().st_blocks  # holes kept: ~16 MiB of 36 GB
    # the guest goes on where it was, on the new disk: same boot, next beats, its payload verified there
    moved_beats = beats(site.wait_console(vm, B, lambda lines: len(beats(lines)) >= 2))
    assert {b[0] for b in moved_beats} == {1} and all(b[2] == "ok" for b in moved_beats)

    site.ok(f"stop host vm {vm}")
    assert site.agree(vm)["status"] is None
    after, before = DiskState.read(target_image), DiskState.read(source_image)
    assert after.payload_sum == first.payload_sum and after.payload_ok
    assert after.beat[1] >= moved_beats[-1][1] > before.beat[1]  # written after the move: on the target only

    site.ok(f"start host vm {vm}")
    assert site.agree(vm)["status"] == "active"
    dumped = site.ok(f"dump host vm {vm}").out
    assert f"physnode={B}" in dumped and f"/var/lib/libvirt/images/c10/{vm}.vda" in dumped

    site.ok(f"remove host vm {vm}")
    assert site.libvirt(vm) == []
    assert site.run(f"list host vm {vm}").rc != 0
    assert target_image.exists()  # the disk image is kept, as in Rocks
