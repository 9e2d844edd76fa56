"""A tiny guest for the real-hypervisor tests, built here from pieces scripts/setup fetches: the
Debian kernel (.cache/pxe/vmlinuz), its virtio and ACPI modules and a static busybox in an initrd,
on a sparse 36 GB disk image that SeaBIOS boots (MBR + syslinux on a small FAT partition).

What the guest does, so a test can check that a VM's data survives whatever happens to it: on its
first boot it writes a random payload and its SHA-256 into a data area of its disk; on every boot
it verifies the payload and counts the boot; then, twice a second, it writes a heartbeat and
re-reads the payload from the disk (page cache dropped first), printing the result on its serial
console. A test reads the same area from the image file (`DiskState.read`). The ACPI power button
powers it off (busybox poweroff -f), so `shutdown host vm` and `reboot host vm` can be exercised.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KERNEL = REPO / ".cache" / "pxe" / "vmlinuz"  # scripts/fetch-pxe-kernel (run by scripts/setup)
MODULES = REPO / ".cache" / "pxe" / "modules"
LOAD_ORDER = (
    "virtio_ring",
    "virtio",
    "virtio_pci_legacy_dev",
    "virtio_pci_modern_dev",
    "virtio_pci",
    "virtio_blk",
    "button",
    "evdev",
)
BUSYBOX = Path("/bin/busybox")  # busybox-static
MBR = Path("/usr/lib/syslinux/mbr/mbr.bin")  # syslinux-common

SECTOR = 512
DISK_BYTES = 36 * 10**9  # add host vm's default disksize=36 (Rocks sizes in GB)
BOOT_START = 2048  # sector of the FAT partition
BOOT_SECTORS = 48 * 2048  # 48 MiB: the kernel, the initrd, syslinux
HEADER, BOOTS, BEAT, PAYLOAD = 131072, 131073, 131074, 131080  # the data area, 64 MiB in
PAYLOAD_SECTORS = 512  # 256 KiB

INIT = f"""#!/bin/busybox sh
export PATH=/bin
/bin/busybox --install -s /bin
mount -t devtmpfs dev /dev
mount -t proc proc /proc
mount -t sysfs sys /sys
for m in {" ".join(LOAD_ORDER)}; do insmod /lib/modules/$m.ko; done
say() {{ echo "rockscc-guest: $*" > /dev/ttyS0; }}
disk=/dev/vda
i=0; while [ ! -b $disk ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
[ -b $disk ] || {{ say "no virtio disk (vda)"; while :; do sleep 60; done; }}
rd() {{ echo 3 > /proc/sys/vm/drop_caches; dd if=$disk bs=512 skip=$1 count=${{2:-1}} 2>/dev/null; }}
wr() {{ dd of=$disk bs=512 seek=$1 conv=sync,notrunc,fsync 2>/dev/null; }}
payload_sum() {{ rd {PAYLOAD} {PAYLOAD_SECTORS} | sha256sum | cut -d' ' -f1; }}
set -- $(rd {HEADER} | tr -d '\\0')
if [ "$1" = rockscc-payload ]; then
  sum=$2
  [ "$(payload_sum)" = "$sum" ] && say "payload ok $sum" || say "payload BAD"
else
  head -c {PAYLOAD_SECTORS * SECTOR} /dev/urandom > /tmp/payload
  wr {PAYLOAD} < /tmp/payload
  sum=$(payload_sum)
  echo "rockscc-payload $sum" | wr {HEADER}
  say "payload wrote $sum"
fi
set -- $(rd {BOOTS} | tr -d '\\0')
boots=$(( ${{2:-0}} + 1 ))
echo "boots $boots" | wr {BOOTS}
say "boot $boots"
for ev in /sys/class/input/event*; do
  grep -q "Power Button" $ev/device/name 2>/dev/null || continue
  (dd if=/dev/input/${{ev##*/}} bs=24 count=1 of=/dev/null 2>/dev/null; say "power button"; sync; poweroff -f) &
done
n=0
while :; do
  n=$((n+1))
  echo "beat $boots $n" | wr {BEAT}
  [ "$(payload_sum)" = "$sum" ] && s=ok || s=BAD
  say "beat $boots $n $s"
  sleep 0.5
done
"""

SYSLINUX_CFG = """DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL vmlinuz
  INITRD initrd.gz
  APPEND console=ttyS0 quiet panic=-1
"""


def missing_tools() -> list[str]:
    """What building the guest needs and this machine lacks (scripts/setup installs all of it)."""
    needed = [str(p) for p in (KERNEL, *(MODULES / f"{m}.ko" for m in LOAD_ORDER), BUSYBOX, MBR) if not p.exists()]
    return needed + [t for t in ("mkfs.fat", "mcopy", "syslinux") if shutil.which(t) is None]


# --- the initrd ------------------------------------------------------------------------------------
def _cpio_entry(name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0), ino: int = 0) -> bytes:
    encoded = name.encode() + b"\0"
    fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(encoded), 0)
    head = b"070701" + b"".join(b"%08X" % f for f in fields) + encoded
    head += b"\0" * (-len(head) % 4)
    return head + data + b"\0" * (-len(data) % 4)


def initrd_bytes() -> bytes:
    """A gzip'd newc cpio: /init, a static busybox, the modules and /dev/console."""
    entries = [
        ("dev", 0o40755, b""),
        ("proc", 0o40755, b""),
        ("sys", 0o40755, b""),
        ("tmp", 0o41777, b""),
        ("bin", 0o40755, b""),
        ("lib", 0o40755, b""),
        ("lib/modules", 0o40755, b""),
        ("init", 0o100755, INIT.encode()),
        ("bin/busybox", 0o100755, BUSYBOX.read_bytes()),
    ]
    entries += [(f"lib/modules/{m}.ko", 0o100644, (MODULES / f"{m}.ko").read_bytes()) for m in LOAD_ORDER]
    out = io.BytesIO()
    for ino, (name, mode, data) in enumerate(entries, start=1):
        out.write(_cpio_entry(name, mode, data, ino=ino))
    out.write(_cpio_entry("dev/console", 0o20600, rdev=(5, 1), ino=len(entries) + 1))
    out.write(_cpio_entry("TRAILER!!!", 0))
    return gzip.compress(out.getvalue(), compresslevel=6, mtime=0)


# --- the disk --------------------------------------------------------------------------------------
def build_disk(path: Path, work: Path, size: int = DISK_BYTES) -> None:
    """A sparse image of `size` bytes: syslinux's MBR, one active FAT16 partition holding the kernel and
    the initrd, and an empty data area the guest fills on its first boot."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "initrd.gz").write_bytes(initrd_bytes())
    (work / "syslinux.cfg").write_text(SYSLINUX_CFG)
    with open(path, "wb") as fh:
        fh.truncate(size)
        entry = struct.pack("<B3sB3sII", 0x80, b"\xfe\xff\xff", 0x06, b"\xfe\xff\xff", BOOT_START, BOOT_SECTORS)
        fh.seek(0)
        fh.write(MBR.read_bytes()[:440])
        fh.seek(446)
        fh.write(entry)
        fh.seek(510)
        fh.write(b"\x55\xaa")
    offset = BOOT_START * SECTOR
    _run("mkfs.fat", "-F", "16", "-n", "ROCKSCC", "--offset", str(BOOT_START), str(path), str(BOOT_SECTORS // 2))
    image = f"{path}@@{offset}"
    _run("mcopy", "-i", image, str(KERNEL), "::vmlinuz")
    _run("mcopy", "-i", image, str(work / "initrd.gz"), str(work / "syslinux.cfg"), "::")
    _run("syslinux", "--offset", str(offset), "--install", str(path))


def _run(*argv: str) -> None:
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=120, env=os.environ | {"MTOOLS_SKIP_CHECK": "1"}
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip() or done.stdout.strip()}")


# --- reading what the guest wrote ------------------------------------------------------------------
@dataclass
class DiskState:
    payload_sum: str | None  # the checksum the guest recorded
    payload_ok: bool  # the payload on disk still has that checksum
    boots: int
    beat: tuple[int, int] | None  # (boot, n) of the last heartbeat written

    @classmethod
    def read(cls, image: Path) -> DiskState:
        with open(image, "rb") as fh:

            def sector(n: int, count: int = 1) -> bytes:
                fh.seek(n * SECTOR)
                return fh.read(count * SECTOR)

            header = sector(HEADER).rstrip(b"\0").split()
            recorded = header[1].decode() if header[:1] == [b"rockscc-payload"] else None
            actual = hashlib.sha256(sector(PAYLOAD, PAYLOAD_SECTORS)).hexdigest()
            boots = sector(BOOTS).rstrip(b"\0").split()
            beat = sector(BEAT).rstrip(b"\0").split()
        return cls(
            recorded,
            recorded == actual,
            int(boots[1]) if len(boots) == 2 else 0,
            (int(beat[1]), int(beat[2])) if len(beat) == 3 else None,
        )


def console_lines(log: Path) -> list[str]:
    """The guest's own lines on its serial console log (kernel noise and firmware escapes dropped)."""
    try:
        text = log.read_bytes().decode(errors="replace")
    except FileNotFoundError:
        return []
    return [line.split("rockscc-guest: ", 1)[1].strip() for line in text.splitlines() if "rockscc-guest: " in line]
