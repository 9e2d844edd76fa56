"""The TFTP tree's shared files (build/tftp/): loaders taken from Debian's packages, grub's EFI
image built with grub-mkimage, a placeholder pxeflash image, and the site's own files.

- BIOS: pxelinux.0 and ldlinux.c32 (pxelinux, syslinux-common); memdisk (the pxeflash action);
  memtest86+'s BIOS image as `memtest` (Rocks' `kernel memtest`).
- UEFI: bootx64.efi, grub built with its network modules; it reads uefi/grub.cfg-01-<mac>, then
  uefi/grub.cfg-<HEXIP> and its prefixes, then uefi/grub.cfg. memtest86+'s UEFI image as
  `memtest.efi` (the grub and iPXE files name it for the memtest action).
- pxeflash.img: Rocks built a FreeDOS floppy with the site's flash tools; without one, a floppy
  whose boot sector says so, so that the action still boots to a clear message.
- <description>/tftpboot/: the site's files, copied over all of the above: the installer's
  vmlinuz and initrd.img (what the install actions boot), its own pxeflash.img, a signed shim...

The job's spec (pipeline/specs.py: tftp_spec) is the identity (path, size, mtime) of every source, so the tree is rebuilt when
a package is upgraded or a site file changes, and not otherwise."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rockscc.backends.boot import TFTP
from rockscc.errors import RocksccError
from rockscc.model.overlay import racy, stat_identity

SITE_DIR = "tftpboot"


@dataclass(frozen=True)
class Loader:
    """A boot loader the TFTP tree copies from the build machine, and the Debian package that has it."""

    name: str  # its name in the tree
    sources: tuple[str, ...]  # where Debian installs it (first found wins)
    package: str
    needed_by: str


LOADERS = (
    Loader("pxelinux.0", ("/usr/lib/PXELINUX/pxelinux.0",), "pxelinux", "BIOS network boot"),
    Loader("ldlinux.c32", ("/usr/lib/syslinux/modules/bios/ldlinux.c32",), "syslinux-common", "pxelinux"),
    Loader("memdisk", ("/usr/lib/syslinux/memdisk",), "syslinux-common", "the pxeflash action"),
    Loader("memtest", ("/boot/memtest86+x64.bin", "/boot/memtest86+.bin"), "memtest86+", "the memtest action"),
    Loader("memtest.efi", ("/boot/memtest86+x64.efi",), "memtest86+", "the memtest action on UEFI"),
)

GRUB_IMAGE = "bootx64.efi"
GRUB_PREFIX = "(tftp)/uefi"  # where grub looks for grub.cfg-*: the boot files' uefi/ directory
GRUB_MODULE_DIR = Path("/usr/lib/grub/x86_64-efi")
GRUB_MODULES = (
    "normal",
    "configfile",
    "linux",
    "linuxefi",
    "chain",
    "efinet",
    "tftp",
    "http",
    "net",
    "echo",
    "test",
    "sleep",
    "reboot",
    "halt",
    "all_video",
)
PXEFLASH = "pxeflash.img"


def sources_spec(site_dir: Path) -> dict[str, Any]:
    """The identity of every source the tree is made of: each loader's file (or its absence),
    grub-mkimage and its modules, the site's files (pipeline/specs.py: tftp_spec adds what the
    actions need)."""
    return {
        "loaders": [_identify(loader) for loader in LOADERS],
        "grub": _grub_identity(),
        "site": _site_files(site_dir),
    }


def render_tftp(spec: dict[str, Any]) -> tuple[list[tuple[str, bytes]], list[str]]:
    """((path under the build directory, data) of each file, warnings): every loader found, grub's
    image, pxeflash, the site's files, a README; a warning for each file an action needs that the
    tree will not have."""
    files: dict[str, bytes] = {}
    warnings = []
    for name, source, package, needed_by, _identity in spec["loaders"]:
        if source is None:
            warnings.append(
                f"{TFTP}/{name}: not in the tree: {package} is not installed "
                f"(apt-get install {package}; needed by {needed_by})"
            )
        else:
            files[name] = _read(source)
    grub = spec["grub"]
    if grub.get("missing"):
        warnings.append(f"{TFTP}/{GRUB_IMAGE}: not in the tree: {grub['missing']} (needed by UEFI network boot)")
    else:
        files[GRUB_IMAGE] = build_grub_image(grub["mkimage"], grub["modules"])
    files[PXEFLASH] = placeholder_floppy()
    for name, source, _source_id in spec["site"]:
        files[name] = _read(source)
    missing = [name for name in spec["needed"] if name not in files]
    if missing:
        warnings.append(
            f"{TFTP}/: the PXE actions boot {', '.join(missing)}, which the tree lacks: put "
            f"them in the description's {SITE_DIR}/ directory (the installer's kernel and initrd)"
        )
    readme = _readme(sorted(files)).encode()
    return [(f"{TFTP}/{name}", data) for name, data in sorted(files.items())] + [(f"{TFTP}/README", readme)], warnings


def build_grub_image(mkimage: str, modules: list[str]) -> bytes:
    """grub for x86-64 UEFI network boot, its prefix the tree's uefi/ directory."""
    import subprocess  # here: every build reads this module for the tree's spec, few make the image
    import tempfile

    with tempfile.TemporaryDirectory(prefix="rockscc-grub-") as scratch:
        target = Path(scratch) / GRUB_IMAGE
        argv = [mkimage, "-O", "x86_64-efi", "-d", str(GRUB_MODULE_DIR), "-p", GRUB_PREFIX, "-o", str(target), *modules]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RocksccError(f"{TFTP}/{GRUB_IMAGE}: grub-mkimage failed: {result.stderr.strip()[:300]}")
        return target.read_bytes()


def placeholder_floppy(
    message: str = "rockscc pxeflash: no flash image installed. Put your own "
    "(a FreeDOS floppy with the flash tools) in the description's tftpboot/pxeflash.img "
    "and rebuild.",
) -> bytes:
    """A 1.44 MB floppy image whose boot sector prints `message` (BIOS teletype) and halts:
    16-bit code written out by hand, ds:si walking the text after it."""
    text = b"\r\n" + message.encode("ascii") + b"\r\n\0"
    start = 0x7C00 + 0x19  # where the text lands: after the 25 bytes of code below
    code = bytes(
        [
            0x31,
            0xC0,  # xor ax, ax
            0x8E,
            0xD8,  # mov ds, ax
            0xBE,
            start & 0xFF,
            start >> 8,  # mov si, text
            0xFC,  # cld
            0xAC,  # next: lodsb
            0x84,
            0xC0,  # test al, al
            0x74,
            0x09,  # jz done
            0xB4,
            0x0E,  # mov ah, 0Eh (teletype)
            0xBB,
            0x07,
            0x00,  # mov bx, 7
            0xCD,
            0x10,  # int 10h
            0xEB,
            0xF2,  # jmp next
            0xF4,  # done: hlt
            0xEB,
            0xFD,  # jmp done
        ]
    )
    sector = code + text
    if len(sector) > 510:
        raise ValueError("pxeflash placeholder message too long for a boot sector")
    sector += b"\0" * (510 - len(sector)) + b"\x55\xaa"
    return sector + b"\0" * (1474560 - 512)


def _identify(loader: Loader) -> list:
    """[name, source or None, package, needed by, (size, mtime) of the source]."""
    for source in loader.sources:
        try:
            st = os.stat(source)
        except OSError:
            continue
        return [loader.name, source, loader.package, loader.needed_by, _identity(source, st)]
    return [loader.name, None, loader.package, loader.needed_by, None]


def _grub_identity() -> dict[str, Any]:
    mkimage = shutil.which("grub-mkimage")
    if mkimage is None:
        return {"missing": "grub-mkimage is not installed (apt-get install grub-common)"}
    kernel = GRUB_MODULE_DIR / "kernel.img"
    try:
        st = kernel.stat()
    except OSError:
        return {"missing": f"{GRUB_MODULE_DIR} has no grub (apt-get install grub-efi-amd64-bin)"}
    modules = [m for m in GRUB_MODULES if (GRUB_MODULE_DIR / f"{m}.mod").is_file()]
    return {"mkimage": mkimage, "modules": modules, "sig": [st.st_size, st.st_mtime_ns]}


def _identity(path: str, st: os.stat_result) -> list:
    """What identifies a source in the spec: its stat identity, and its content's digest while
    that is racily recent (a same-sized rewrite within one clock tick keeps it: model/overlay.py)."""
    if racy(st):
        return [*stat_identity(st), hashlib.sha256(_read(path)).hexdigest()]
    return list(stat_identity(st))


def _site_files(directory: Path) -> list[list]:
    """(name, path, identity) of each regular file (or link to one) at the directory's top."""
    found = []
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    linked = directory.is_symlink()
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_file():
            continue
        st = entry.stat()
        if (linked or entry.is_symlink()) and not st.st_mode & stat.S_IROTH:
            _refuse_private(entry.path, st)
        found.append([entry.name, entry.path, _identity(entry.path, st)])
    return found


def _refuse_private(path: str, st: os.stat_result) -> None:
    """The tree is served to anyone on the network (and written 0644): a file reached through a
    link is copied only when everyone on this machine may read it already, so that a link to
    /etc/shadow — planted by whoever can write the description — never publishes it."""
    raise RocksccError(
        f"{path}: a link to {os.path.realpath(path)}, which not everyone may read (mode "
        f"{stat.S_IMODE(st.st_mode):04o}): the TFTP tree is public, so a file reached through a link "
        "must be readable by everyone (copy the file in if it is meant to be served)"
    )


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise RocksccError(f"{path}: cannot read: {exc.strerror}") from None


def _readme(names: list[str]) -> str:
    return (
        "Generated by rockscc: the TFTP (and HTTP) root of the cluster's network boot.\n"
        "Per-host boot files: pxelinux.cfg/ (BIOS), uefi/ (grub), ipxe/ (iPXE scripts).\n"
        "Shared files: " + ", ".join(names) + "\n"
        f"Put site files (the installer's vmlinuz and initrd.img) in the description's {SITE_DIR}/.\n"
    )
