"""A host's network-boot files from its boot spec (pipeline/specs.py): pxelinux for BIOS,
grub for UEFI and an iPXE script, all from the same action, under the names each loader asks for."""

from __future__ import annotations

from typing import Any

from rockscc.backends import pxe


def render_boot(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """(path under the build directory, text) of each boot file."""
    parsed = pxe.parse_action(spec["command"], spec["args"])
    bios = pxe.pxelinux(spec["command"], spec["args"])
    uefi = pxe.grub(spec["label"], parsed, efi=spec["efi_linux"])
    names = ["default"] if spec["frontend"] else [spec["hexip"]]
    if spec["mac"]:
        names.append("01-" + spec["mac"].replace(":", "-"))
    files = [(f"pxelinux.cfg/{n}", bios) for n in names]
    if not spec["frontend"]:
        files += [(f"uefi/grub.cfg-{n}", uefi) for n in names]
        files.append((f"ipxe/{spec['host']}.ipxe", pxe.ipxe(spec["label"], parsed)))
    else:
        files.append(("uefi/grub.cfg", uefi))
    return files
