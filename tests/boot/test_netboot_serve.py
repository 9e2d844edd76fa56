"""Real network boots from `rockscc serve`: QEMU guests (software emulation) on taps of a
private network namespace the test creates, booting from dnsmasq's DHCP/TFTP and serve's HTTP.

One parallel run, five guests: a BIOS guest (pxelinux), a UEFI guest (OVMF, grub) and an iPXE
guest (its iPXE script) on the same `install` action, whose kernel is Debian's and whose initrd
(built here, small) fetches the kickstart the command line names, prints its checksum, asks for
compute-0-0's kickstart by name, and calls the install-done callback; a BIOS guest on `memtest`
(memtest86+) and one on `pxeflash` (memdisk and the placeholder floppy). Then: insert-ethers
names three guests with random MACs, powered on one after another, compute-0-0, -1, -2, and each
fetches its own iPXE script."""

from __future__ import annotations

import hashlib
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rockscc.model import load
from tests.boot.guests import Guest, require_qemu, run_until, serve_in
from tests.boot.initrd import build_initrd
from tests.conftest import REPO, run_cli
from tests.netns import PrivateNet, require_root_and_tools, wait_for

pytestmark = [pytest.mark.qemu, pytest.mark.netboot]
KERNEL = REPO / ".cache" / "pxe" / "vmlinuz"  # scripts/fetch-pxe-kernel (run by scripts/setup)
MODULES = REPO / ".cache" / "pxe" / "modules"
SERVER = "http://10.1.1.1"
INSTALL_ARGS = (
    f"append ks initrd=initrd.img console=ttyS0 panic=-1 rockscc_probe={SERVER}/install/kickstart/"
    f"compute-0-0.ks rockscc_done={SERVER}/install/sbin/public/setPxeboot.cgi"
)
LOADER_WORDS = ("BOOT_IMAGE=", "initrd=")  # what pxelinux and grub add to a command line themselves


def random_mac(rng: random.Random) -> str:
    return "52:54:00:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(3))


def cli(root: Path, command: str) -> None:
    result = run_cli("-C", str(root), *__import__("shlex").split(command))
    assert result.rc == 0, (command, result.err)


def new_cluster(root: Path, initrd_dir: Path) -> None:
    assert run_cli("init", str(root), "password=secret", "xen=no").rc == 0
    site = root / "tftpboot"
    site.mkdir()
    shutil.copy(KERNEL, site / "vmlinuz")
    build_initrd(MODULES, site / "initrd.img")


@pytest.fixture(scope="module")
def boots(tmp_path_factory):
    """The five guests of one parallel run; what the tests read afterwards."""
    require_root_and_tools("dnsmasq", "busybox")
    require_qemu(KERNEL, MODULES / "virtio_net.ko")
    tmp = tmp_path_factory.mktemp("netboot")
    root = tmp / "cluster"
    new_cluster(root, tmp)
    rng = random.Random()
    macs = {f"compute-0-{i}": random_mac(rng) for i in range(5)}
    for name, mac in macs.items():
        cli(root, f"add host {name} mac={mac}")
    cli(root, f'add host pxeaction action=install command="kernel vmlinuz" args="{INSTALL_ARGS}"')
    for name in ("compute-0-0", "compute-0-3", "compute-0-4"):  # BIOS guests that load pxelinux from their iPXE ROM
        cli(root, f"set host attr {name} pxe_ipxe no")
    cli(
        root,
        'add host pxeaction compute-0-3 action=memtest command="kernel memtest" args="append console=ttyS0,115200"',
    )
    cli(root, "set host pxeboot compute-0-3 action=memtest")
    cli(root, "set host pxeboot compute-0-4 action=pxeflash")
    cli(root, "build")
    kickstarts = {
        name: hashlib.sha256((root / "build" / "kickstart" / f"{name}.ks").read_bytes()).hexdigest() for name in macs
    }
    with PrivateNet() as net:
        net.advertise_ipv6_router()
        log = tmp / "serve.log"
        serve = serve_in(net, root, log)
        started = time.monotonic()
        guests = {
            "bios": Guest(net, "compute-0-0", macs["compute-0-0"], tmp / "bios.log"),
            "uefi": Guest(net, "compute-0-1", macs["compute-0-1"], tmp / "uefi.log", uefi=True, memory=256),
            "ipxe": Guest(net, "compute-0-2", macs["compute-0-2"], tmp / "ipxe.log"),
            # memtest86+ prepares all of the guest's memory before it first draws (slow under emulation)
            "memtest": Guest(net, "compute-0-3", macs["compute-0-3"], tmp / "memtest.log", memory=48),
            "pxeflash": Guest(net, "compute-0-4", macs["compute-0-4"], tmp / "pxeflash.log", memory=48),
        }
        markers = {
            "bios": "ROCKSCC-END",
            "uefi": "ROCKSCC-END",
            "ipxe": "ROCKSCC-END",
            "memtest": "Memtest86+",
            "pxeflash": "no flash image installed",
        }
        consoles = run_until({guests[k]: markers[k] for k in guests}, timeout=240)
        seconds = time.monotonic() - started
        assert net.stop(serve) == 0
    each = ", ".join(f"{kind} {guest.seconds or 0:.0f} s" for kind, guest in guests.items())
    print(f"\nnetboot: five guests in parallel, {seconds:.0f} s ({each})")
    return {
        "root": root,
        "macs": macs,
        "kickstarts": kickstarts,
        "log": log.read_text(),
        "seconds": seconds,
        "consoles": {kind: consoles[guest] for kind, guest in guests.items()},
    }


def command_line(console: str) -> list[str]:
    line = next((text for text in console.splitlines() if "Command line:" in text), None)
    assert line is not None, console[-3000:]
    return line.split("Command line:", 1)[1].split()


def test_bios_uefi_and_ipxe_guests_reach_the_kernel_with_one_actions_command_line(boots):
    lines = {kind: command_line(boots["consoles"][kind]) for kind in ("bios", "uefi", "ipxe")}
    own = {kind: [w for w in words if not w.startswith(LOADER_WORDS)] for kind, words in lines.items()}
    assert own["bios"] == own["uefi"] == own["ipxe"], lines
    expected = INSTALL_ARGS.replace("append ks ", f"ks={SERVER}/install/sbin/kickstart.cgi ").split()
    assert own["bios"] == [w for w in expected if not w.startswith("initrd=")]
    # and each came its own way: pxelinux, grub, the host's iPXE script
    assert "PXELINUX" in boots["consoles"]["bios"]
    assert "sent" in boots["log"] and "bootx64.efi to 10.1.255.253" in boots["log"]
    assert "http 10.1.255.252 (compute-0-2) GET /ipxe/compute-0-2.ipxe 200" in boots["log"]


def test_each_guest_fetches_its_own_kickstart_over_http(boots):
    for kind, name in (("bios", "compute-0-0"), ("uefi", "compute-0-1"), ("ipxe", "compute-0-2")):
        fetched = re.search(r"ROCKSCC-KS (\S+) (\S*)", boots["consoles"][kind])
        assert fetched is not None, boots["consoles"][kind][-2000:]
        assert fetched.groups() == ("200", boots["kickstarts"][name]), kind


def test_a_guest_asking_for_another_hosts_kickstart_gets_403(boots):
    probe = "install/kickstart/compute-0-0.ks"
    for kind, status in (("bios", "200"), ("uefi", "403"), ("ipxe", "403")):
        assert re.search(rf"ROCKSCC-PROBE \S*{probe} {status}\b", boots["consoles"][kind]), kind
    for asker, ip in (("compute-0-1", "10.1.255.253"), ("compute-0-2", "10.1.255.252")):
        assert (
            f"http {ip} ({asker}) GET /{probe} 403 " in boots["log"]
            and f"refused: the kickstart of compute-0-0, asked from the address of {asker}" in boots["log"]
        )


def test_the_install_done_callback_switches_each_guest_to_os(boots):
    root = boots["root"]
    cluster = load(root)
    for kind, name, hexip in (
        ("bios", "compute-0-0", "0A01FFFE"),
        ("uefi", "compute-0-1", "0A01FFFD"),
        ("ipxe", "compute-0-2", "0A01FFFC"),
    ):
        assert re.search(r"ROCKSCC-DONE \S+ 200\b", boots["consoles"][kind]), kind
        assert cluster.hosts[name].pxeboot == "os"
        assert (root / "build" / "tftp" / "pxelinux.cfg" / hexip).read_text().endswith("\tlocalboot 0\n")
        assert (root / "build" / "tftp" / "ipxe" / f"{name}.ipxe").read_text().endswith("exit\n")
        assert f"install done: {name}: next boot os" in boots["log"]


def test_memtest_boots_memtest86(boots):
    assert "Memtest86+" in boots["consoles"]["memtest"], boots["consoles"]["memtest"][-2000:]
    assert "/tftp/memtest to 10.1.255.251" in boots["log"]


def test_pxeflash_boots_memdisk_and_its_floppy(boots):
    console = boots["consoles"]["pxeflash"]
    assert "MEMDISK" in console and "no flash image installed" in console, console[-2000:]


def test_insert_ethers_names_guests_in_power_on_order_and_each_boots_its_own_file(tmp_path):
    require_root_and_tools("dnsmasq", "busybox")
    require_qemu(KERNEL)
    root = tmp_path / "cluster"
    assert run_cli("init", str(root), "password=secret", "xen=no").rc == 0
    cli(root, "build --eval=no")
    rng = random.Random()
    macs = [random_mac(rng) for _ in range(3)]
    with PrivateNet() as net:
        net.advertise_ipv6_router()
        serve_log, insert_log = tmp_path / "serve.log", tmp_path / "insert.log"
        serve = serve_in(net, root, serve_log)
        insert = net.popen(
            [sys.executable, "-m", "rockscc", "-C", str(root), "insert-ethers", "appliance=Compute", "count=3"],
            stdout=insert_log.open("w"),
            stderr=subprocess.STDOUT,
        )
        assert wait_for(lambda: "watching DHCP requests" in insert_log.read_text(), 30), insert_log.read_text()
        started = time.monotonic()
        guests = []
        for index, mac in enumerate(macs):  # power on one after another, as an administrator would
            guests.append(Guest(net, f"compute-0-{index}", mac, tmp_path / f"guest{index}.log", reboot=True))
            added = wait_for(lambda expected=f"compute-0-{index}\t{mac}": expected in insert_log.read_text(), 120)
            assert added, insert_log.read_text() + serve_log.read_text()[-3000:]
        fetched = {}
        for index, guest in enumerate(guests):
            line = f"http 10.1.255.{254 - index} (compute-0-{index}) GET /ipxe/compute-0-{index}.ipxe 200"
            fetched[index] = wait_for(lambda expected=line: expected in serve_log.read_text(), 120)
            guest.stop()
        seconds = time.monotonic() - started
        assert insert.wait(30) == 0
        assert net.stop(serve) == 0
    print(f"\ninsert-ethers: three guests discovered and booted in {seconds:.0f} s")
    assert all(fetched.values()), serve_log.read_text()[-3000:]
    cluster = load(root)
    assert [cluster.hosts[f"compute-0-{i}"].interfaces[0].mac for i in range(3)] == macs
    assert [cluster.hosts[f"compute-0-{i}"].interfaces[0].ip for i in range(3)] == [
        "10.1.255.254",
        "10.1.255.253",
        "10.1.255.252",
    ]
