"""The boot files of one host as build artifacts: spec (what they depend on) and render."""

from __future__ import annotations

from typing import Any

from rockscc.backends import pxe
from rockscc.model import Cluster, Host
from rockscc.model.alloc import hex_ip
from rockscc.model.boot import boot_action
from rockscc.model.cluster import truthy



def boot_spec(cluster: Cluster, host: Host) -> dict[str, Any] | None:
    chosen = boot_action(cluster, host)
    ip = cluster.private_ip(host)
    if chosen is None or not ip:
        return None  # no action (or no address to name the file by): no file, as in Rocks
    label, action = chosen
    iface = cluster.private_interface(host)
    return {
        "frontend": cluster.is_frontend(host),
        "host": host.name,
        "hexip": hex_ip(ip),
        "mac": iface.mac if iface and truthy(cluster.attr(host, "pxe_mac_files")) else None,
        "label": label,
        "command": action.command,
        "args": action.args,
        "efi_linux": truthy(cluster.attr(host, "uefi_linuxefi") or "yes"),
    }


def render_boot(spec: dict[str, Any]) -> list:
    from rockscc.pipeline.deps import text_output

    parsed = pxe.parse_action(spec["command"], spec["args"])
    bios = pxe.pxelinux(spec["command"], spec["args"])
    uefi = pxe.grub(spec["label"], parsed, efi=spec["efi_linux"])
    names = ["default"] if spec["frontend"] else [spec["hexip"]]
    if spec["mac"]:
        names.append("01-" + spec["mac"].replace(":", "-"))
    outputs = [text_output(f"pxelinux.cfg/{n}", bios, 0o664) for n in names]
    if not spec["frontend"]:
        outputs += [text_output(f"uefi/grub.cfg-{n}", uefi, 0o664) for n in names]
        outputs.append(text_output(f"ipxe/{spec['host']}.ipxe", pxe.ipxe(spec["label"], parsed), 0o664))
    else:
        outputs.append(text_output("uefi/grub.cfg", uefi, 0o664))
    return outputs
