"""A host's network-boot files from its boot spec (pipeline/specs.py): pxelinux for BIOS,
grub for UEFI and an iPXE script, all from the same action, under the names each loader asks for,
in the build's TFTP tree."""

from __future__ import annotations

from typing import Any

from rockscc.backends import pxe

TFTP = "tftp"  # the TFTP tree in the build directory: boot files and loaders (backends/tftp.py)


def with_kickstart_url(args: str | None, url: str | None) -> str | None:
    """Rocks' install actions say a bare `ks` (its patched loader asked the DHCP server's
    kickstart.cgi): a stock installer needs the URL, `ks=URL`; the Debian installer's actions say
    `preseed`, which becomes `url=URL`. Other words are kept as they are."""
    if not args or not url or not {"ks", "preseed"} & set(args.split()):
        return args
    named = {"ks": f"ks={url}", "preseed": f"url={url}"}  # d-i's preseed URL is `url=` (preseed/url)
    return " ".join(named.get(word, word) for word in args.split(" "))


def render_boot(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """(path under the build directory, text) of each boot file."""
    args = with_kickstart_url(spec["args"], spec["ks_url"])
    parsed = pxe.parse_action(spec["command"], args)
    bios = pxe.pxelinux(spec["command"], args)
    uefi = pxe.grub(spec["label"], parsed, efi=spec["efi_linux"])
    names = ["default"] if spec["frontend"] else [spec["hexip"]]
    if spec["mac"]:
        names.append("01-" + spec["mac"].replace(":", "-"))
    files = [(f"{TFTP}/pxelinux.cfg/{n}", bios) for n in names]
    if not spec["frontend"]:
        files += [(f"{TFTP}/uefi/grub.cfg-{n}", uefi) for n in names]
        files.append((f"{TFTP}/ipxe/{spec['host']}.ipxe", pxe.ipxe(spec["label"], parsed)))
    else:
        files.append((f"{TFTP}/uefi/grub.cfg", uefi))
    return files
