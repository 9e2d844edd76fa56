"""A host's network-boot files from its boot spec (pipeline/specs.py): pxelinux for BIOS,
grub for UEFI and an iPXE script, all from the same action, under the names each loader asks for,
in the build's TFTP tree."""

from __future__ import annotations

from functools import lru_cache
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
    bios, uefi = _loader_texts(spec["command"], spec["args"], spec["ks_url"], spec["label"], spec["efi_linux"])
    names = ["default"] if spec["frontend"] else [spec["hexip"]]
    if spec["mac"]:
        names.append("01-" + spec["mac"].replace(":", "-"))
    files = [(f"{TFTP}/pxelinux.cfg/{n}", bios) for n in names]
    if not spec["frontend"]:
        files += [(f"{TFTP}/uefi/grub.cfg-{n}", uefi) for n in names]
        files.append(
            (
                f"{TFTP}/ipxe/{spec['host']}.ipxe",
                _ipxe_text(spec["command"], spec["args"], spec["ks_url"], spec["label"]),
            )
        )
    else:
        files.append((f"{TFTP}/uefi/grub.cfg", uefi))
    return files


# The texts are pure functions of the action, the kickstart URL (one for every host) and the
# label: the hosts of one action share them (thousands of hosts, a handful of actions). A
# refusal raises again for each host (lru_cache keeps only what returned), and the iPXE script
# is made only for hosts that get one, as before.
@lru_cache(maxsize=256)
def _loader_texts(command: str, args: str | None, ks_url: str | None, label: str, efi: bool) -> tuple[str, str]:
    """(pxelinux file, grub.cfg) of an action."""
    args = with_kickstart_url(args, ks_url)
    return pxe.pxelinux(command, args), pxe.grub(label, pxe.parse_action(command, args), efi=efi)


@lru_cache(maxsize=256)
def _ipxe_text(command: str, args: str | None, ks_url: str | None, label: str) -> str:
    return pxe.ipxe(label, pxe.parse_action(command, with_kickstart_url(args, ks_url)))
