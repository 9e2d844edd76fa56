"""A real network boot: QEMU (software emulation) boots over PXE from its built-in TFTP/BOOTP
server, from a directory holding rockscc's build output, Debian's pxelinux and a Debian kernel.

The host's action decides what happens: an install-style action must reach the kernel with its
arguments (the serial console's `Command line:`), `os` must make pxelinux boot the local disk."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

PXELINUX = Path("/usr/lib/PXELINUX/pxelinux.0")
LDLINUX = Path("/usr/lib/syslinux/modules/bios/ldlinux.c32")
KERNEL = REPO / ".cache" / "pxe" / "vmlinuz"  # scripts/fetch-pxe-kernel (run by scripts/setup)
QEMU = shutil.which("qemu-system-x86_64")

pytestmark = pytest.mark.qemu


def _require() -> None:
    missing = [str(p) for p in (PXELINUX, LDLINUX, KERNEL) if not p.is_file()]
    if QEMU is None:
        missing.append("qemu-system-x86_64")
    if missing:
        pytest.fail(f"network-boot test needs {', '.join(missing)}: run scripts/setup")


def boot(tftp: Path, serial: Path, until: tuple[str, ...], timeout: float = 120) -> str:
    """Boot the guest, return the serial console once any `until` text shows up (or on timeout)."""
    command = [
        QEMU,
        "-machine",
        "accel=tcg",
        "-m",
        "256",
        "-nographic",
        "-no-reboot",
        "-monitor",
        "none",
        "-netdev",
        f"user,id=n0,tftp={tftp},bootfile=pxelinux.0",
        "-device",
        "e1000,netdev=n0",
        "-boot",
        "n",
        "-serial",
        f"file:{serial}",
        "-display",
        "none",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    text = ""
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            text = _plain(serial.read_text(errors="replace")) if serial.exists() else ""
            if any(marker in text for marker in until):
                break
    finally:
        proc.kill()
        proc.wait()
    return _plain(serial.read_text(errors="replace") if serial.exists() else text)


_ESCAPE = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|c)")


def _plain(console: str) -> str:
    """The console without terminal escapes: the firmware may move the cursor in the middle of
    a line pxelinux is printing ("Booting from local \x1b[25;19Hdisk...")."""
    return _ESCAPE.sub("", console)


def test_pxe_boot_reaches_the_kernel_with_the_actions_args_then_localboot(rockscc, cluster_dir, tmp_path):
    _require()
    # the guest's address under QEMU user networking is 10.0.2.15 (file 0A00020F)
    assert rockscc("set network private subnet=10.0.0.0 netmask=255.0.0.0").rc == 0
    assert rockscc("add host compute-0-0 ip=10.0.2.15").rc == 0
    assert (
        rockscc(
            'add host pxeaction compute-0-0 action="install ucsd" command="kernel vmlinuz" '
            'args="append console=ttyS0 ucsd=rocks panic=-1"'
        ).rc
        == 0
    )
    assert rockscc('set host pxeboot compute-0-0 action="install ucsd"').rc == 0
    assert rockscc("build").rc == 0
    tftp = tmp_path / "tftp"
    shutil.copytree(cluster_dir / "build" / "tftp" / "pxelinux.cfg", tftp / "pxelinux.cfg")
    for source in (PXELINUX, LDLINUX, KERNEL):
        shutil.copy(source, tftp / source.name)
    assert (tftp / "pxelinux.cfg" / "0A00020F").is_file()

    console = boot(tftp, tmp_path / "serial-install.log", until=("Command line:",))
    line = next((text for text in console.splitlines() if "Command line:" in text), "")
    assert "ucsd=rocks" in line and "console=ttyS0" in line, console[-2000:]

    assert rockscc("set host pxeboot compute-0-0 action=os").rc == 0
    assert rockscc("build").rc == 0
    shutil.copy(cluster_dir / "build" / "tftp" / "pxelinux.cfg" / "0A00020F", tftp / "pxelinux.cfg" / "0A00020F")
    console = boot(tftp, tmp_path / "serial-os.log", until=("Booting from local disk",), timeout=90)
    assert "Booting from local disk" in console, console[-2000:]
    assert "Command line:" not in console
