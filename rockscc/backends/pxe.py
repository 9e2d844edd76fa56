"""Network-boot files from one action: pxelinux (BIOS), grub2 (UEFI) and iPXE.

Rocks stored actions in pxelinux syntax (`kernel vmlinuz` + `append ks initrd=initrd.img …`).
The UEFI and iPXE files are derived from that same pair, so every firmware gets the same kernel,
initrd and arguments and the files cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    """Rocks 5.0's file, byte for byte: the args line only when there are args."""
    lines = ["default rocks", "prompt 0", "label rocks", f"\t{command}"]
    if args:
        lines.append(f"\t{args}")
    return "\n".join(lines) + "\n"


def grub(label: str, spec: BootSpec, *, efi: bool = True) -> str:
    """grub.cfg for UEFI network boot (linuxefi/initrdefi, or linux/initrd on newer grub)."""
    linux, initrd = ("linuxefi", "initrdefi") if efi else ("linux", "initrd")
    head = ["set default=0", "set timeout=0", f'menuentry "rocks {label}" {{']
    if spec.kind == "localboot":
        body = ["\texit"]  # back to the firmware, which boots the next device: the local disk
    elif spec.kind == "memdisk":
        body = [f'\techo "action {label} boots a disk image with memdisk: BIOS only"', "\tsleep 5", "\texit"]
    else:
        body = [f"\t{linux} {spec.kernel} {spec.args}".rstrip()]
        if spec.initrd:
            body.append(f"\t{initrd} {spec.initrd}")
    return "\n".join(head + body + ["}"]) + "\n"


def ipxe(label: str, spec: BootSpec) -> str:
    lines = ["#!ipxe", f"# rocks action: {label}"]
    if spec.kind == "localboot":
        lines.append("exit")
    else:
        lines.append(f"kernel {spec.kernel} {spec.args}".rstrip())
        if spec.initrd:
            lines.append(f"initrd {spec.initrd}")
        lines.append("boot")
    return "\n".join(lines) + "\n"
