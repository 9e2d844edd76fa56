"""Network-boot files from one action: pxelinux (BIOS), grub2 (UEFI) and iPXE.

Rocks stored actions in pxelinux syntax (`kernel vmlinuz` + `append ks initrd=initrd.img …`).
The UEFI and iPXE files are derived from that same pair, so every firmware gets the same kernel,
initrd and arguments and the files cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rockscc.errors import RocksccError

# Loaders whose UEFI build is another file of the TFTP tree (rockscc's tree holds memtest86+'s
# BIOS image as `memtest` and its UEFI image as `memtest.efi`).
EFI_VARIANTS = {"memtest": "memtest.efi"}

# The loaders DHCP hands out, by client (netfiles.py, dnsmasq_conf.py; the TFTP tree holds them)
BIOS_LOADER = "pxelinux.0"
UEFI_LOADER = "bootx64.efi"  # grub, built by backends/tftp.py
IPXE_SCRIPT_URL = "http://{server}/ipxe/${{hostname}}.ipxe"  # iPXE expands ${hostname} (DHCP option 12)


@dataclass(frozen=True)
class BootSpec:
    """An action reduced to what every loader needs."""

    kind: str  # kernel | localboot | memdisk
    kernel: str = ""
    initrd: str = ""
    args: str = ""  # kernel command line, initrd= removed


def parse_action(command: str, args: str | None) -> BootSpec:
    words = command.split()
    if not words or words[0] == "localboot":
        return BootSpec("localboot")
    kernel = words[1] if words[0] == "kernel" and len(words) > 1 else words[-1]
    extra = words[2:] if words[0] == "kernel" else []
    tokens = (args or "").split()
    if tokens and tokens[0] == "append":
        tokens = tokens[1:]
    initrd = next((t.split("=", 1)[1] for t in tokens if t.startswith("initrd=")), "")
    rest = " ".join(extra + [t for t in tokens if not t.startswith("initrd=")])
    kind = "memdisk" if kernel == "memdisk" else "kernel"
    return BootSpec(kind, kernel, initrd, rest)


def pxelinux(command: str, args: str | None) -> str:
    """Rocks 5.0's file, byte for byte: the args line only when there are args. The model made
    `command` and `args` single lines starting with a label's keywords (names.check_pxe_action),
    so they are this label's lines and nothing else."""
    lines = ["default rocks", "prompt 0", "label rocks", f"\t{_one_line(command)}"]
    if args:
        lines.append(f"\t{_one_line(args)}")
    return "\n".join(lines) + "\n"


def tree_path(name: str) -> str:
    """A file of the TFTP tree as grub and iPXE name it: from the tree's root (grub wants a
    leading slash; iPXE resolves a relative name against the script's own directory)."""
    return name if name.startswith(("/", "(")) or "://" in name else "/" + name


def grub(label: str, spec: BootSpec, *, efi: bool = False) -> str:
    """grub.cfg for UEFI network boot: linux/initrd (the grub image of rockscc's TFTP tree), or
    linuxefi/initrdefi for RHEL's shim-signed grub."""
    linux, initrd = ("linuxefi", "initrdefi") if efi else ("linux", "initrd")
    head = ["set default=0", "set timeout=0", f"menuentry {_grub_quoted('rocks ' + label)} {{"]
    if spec.kind == "localboot":
        body = ["\texit"]  # back to the firmware, which boots the next device: the local disk
    elif spec.kind == "memdisk":
        body = [
            f"\techo {_grub_quoted(f'action {label} boots a disk image with memdisk: BIOS only')}",
            "\tsleep 5",
            "\texit",
        ]
    else:
        kernel = tree_path(EFI_VARIANTS.get(spec.kernel, spec.kernel))
        body = [" ".join(["\t" + linux, *map(_grub_word, [kernel, *spec.args.split()])])]
        if spec.initrd:
            body.append(f"\t{initrd} {_grub_word(tree_path(spec.initrd))}")
    return "\n".join(head + body + ["}"]) + "\n"


def ipxe(label: str, spec: BootSpec) -> str:
    """An iPXE script; BIOS and UEFI iPXE share it (`${platform}` picks a loader's UEFI build,
    and memdisk images, BIOS-only, are refused on UEFI as the grub file does)."""
    lines = ["#!ipxe", f"# rocks action: {_one_line(label)}"]
    if spec.kind == "localboot":
        return "\n".join(lines + ["exit"]) + "\n"
    efi_kernel = EFI_VARIANTS.get(spec.kernel)
    if spec.kind == "memdisk" or efi_kernel:
        lines.append("iseq ${platform} efi && goto efi ||")
    lines += _ipxe_boot(spec.kernel, spec)
    if spec.kind == "memdisk":
        # the label stays out: iPXE would read ${…}, #, ||, && and ; in it
        lines += [":efi", "echo this action boots a disk image with memdisk: BIOS only", "sleep 5", "exit"]
    elif efi_kernel:
        lines += [":efi", *_ipxe_boot(efi_kernel, spec)]
    return "\n".join(lines) + "\n"


def _ipxe_boot(kernel: str, spec: BootSpec) -> list[str]:
    lines = [" ".join(["kernel", *map(_ipxe_word, [tree_path(kernel), *spec.args.split()])])]
    if spec.initrd:
        lines.append(f"initrd {_ipxe_word(tree_path(spec.initrd))}")
    return lines + ["boot"]


# --- each loader's own syntax -------------------------------------------------------------------
# pxelinux takes a label's lines as they are; grub.cfg is a shell-like script (quoting); iPXE
# splits a line at whitespace and has no quoting at all, so what it would read otherwise is refused.
_GRUB_PLAIN = re.compile(r"^[A-Za-z0-9_./:=,+@%^~-]+$")
_IPXE_SPECIAL = ("||", "&&", ";")


def _one_line(value: str) -> str:
    if not value.isprintable():
        raise RocksccError(f"boot file value {value!r} is not one line of printable text")
    return value


def _grub_word(value: str) -> str:
    """One grub.cfg word with exactly this value: single quotes keep every character but the
    single quote itself, which is written as '\\''."""
    if _GRUB_PLAIN.match(_one_line(value)):
        return value
    return "'" + value.replace("'", "'\\''") + "'"


def _grub_quoted(text: str) -> str:
    """A double-quoted grub.cfg string (menu titles): \\, " and $ escaped."""
    return '"' + re.sub(r'([\\"$])', r"\\\1", _one_line(text)) + '"'


def _ipxe_word(value: str) -> str:
    if value.startswith("#") or value in _IPXE_SPECIAL or "${" in value or not value.isprintable():
        raise RocksccError(
            f"iPXE cannot pass {value!r} as it is (it would read a comment, a command separator "
            "or a setting there): change the PXE action's kernel or arguments"
        )
    return value
