"""QEMU guests (software emulation) on a tap device of a test's private network: BIOS (SeaBIOS,
whose network boot is the NIC's iPXE ROM) or UEFI (OVMF; without the NIC's ROM, OVMF's own PXE
client boots). Their serial console goes to a file the test reads."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.netns import PrivateNet, wait_for

QEMU = shutil.which("qemu-system-x86_64")
OVMF = Path("/usr/share/ovmf/OVMF.fd")
_ESCAPE = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|c)")


def require_qemu(*files: Path) -> None:
    missing = [str(f) for f in (OVMF, *files) if not f.is_file()] + ([] if QEMU else ["qemu-system-x86_64"])
    if missing:
        pytest.fail(f"network-boot test needs {', '.join(missing)}: run scripts/setup")


class Guest:
    def __init__(
        self,
        net: PrivateNet,
        name: str,
        mac: str,
        serial: Path,
        *,
        uefi: bool = False,
        reboot: bool = False,
        memory: int = 128,
        disk: Path | None = None,
    ) -> None:
        self.name, self.mac, self.serial = name, mac, serial
        device = f"virtio-net-pci,netdev=n0,mac={mac}" + (",romfile=" if uefi else "")
        argv = [
            QEMU,
            "-machine",
            "accel=tcg",
            "-m",
            str(memory),
            "-nographic",
            "-monitor",
            "none",
            "-display",
            "none",
            "-netdev",
            f"tap,id=n0,ifname={net.tap()},script=no,downscript=no",
            "-device",
            device,
            "-boot",
            ("order=nc" if disk else "n") + (",reboot-timeout=1000" if reboot else ""),
            "-serial",
            f"file:{serial}",
        ]
        if not reboot:
            argv.append("-no-reboot")
        if disk is not None:  # the network boots first; a boot file saying localboot hands over to the disk
            argv += ["-drive", f"file={disk},if=virtio,format=raw"]
        if uefi:
            argv += ["-bios", str(OVMF)]
        self.net = net
        self.seconds: float | None = None
        self.proc = net.popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def console(self) -> str:
        """The serial console so far, without terminal escapes (firmware moves the cursor)."""
        try:
            return _ESCAPE.sub("", self.serial.read_text(errors="replace")).replace("\r", "")
        except FileNotFoundError:
            return ""

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        self.net.stop(self.proc)


def run_until(guests: dict[Guest, str], timeout: float) -> dict[Guest, str]:
    """Let the guests run in parallel; each is stopped as soon as its console shows its marker
    (or it powers off). Returns each guest's console; `guest.seconds` is how long it ran."""
    started = time.monotonic()
    deadline = started + timeout
    waiting = dict(guests)
    while waiting and time.monotonic() < deadline:
        for guest, marker in list(waiting.items()):
            if marker in guest.console() or not guest.running():
                guest.stop()
                guest.seconds = time.monotonic() - started
                del waiting[guest]
        time.sleep(0.5)
    for guest in waiting:
        guest.stop()
    return {guest: guest.console() for guest in guests}


def serve_in(net: PrivateNet, root: Path, log: Path) -> subprocess.Popen:
    """`rockscc serve` for the description, in the private network, logging to `log`."""
    proc = net.popen(
        [sys.executable, "-m", "rockscc", "-C", str(root), "serve"], stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    if (
        not wait_for(lambda: "Ctrl-C stops" in log.read_text() or proc.poll() is not None, 30)
        or proc.poll() is not None
    ):
        pytest.fail(f"serve did not start:\n{log.read_text()}")
    return proc
