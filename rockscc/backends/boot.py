"""The boot files of one host as build artifacts: spec (what they depend on) and render."""

from __future__ import annotations

from typing import Any

from rockscc.backends import pxe
from rockscc.model import Cluster, Host
from rockscc.model.alloc import hex_ip
from rockscc.model.boot import boot_action
from rockscc.model.cluster import truthy

TFTP = "tftp"  # the TFTP tree in the build directory: boot files and loaders (provision/tftp.py)


def boot_spec(cluster: Cluster, host: Host) -> dict[str, Any] | None:
    chosen = boot_action(cluster, host)
    ip = cluster.private_ip(host)
    if chosen is None or not ip:
        return None  # no action (or no address to name the file by): no file, as in Rocks
    label, action = chosen
    iface = cluster.private_interface(host)
    return {
        "ks_url": kickstart_url(cluster, host),
        "frontend": cluster.is_frontend(host),
        "host": host.name,
        "hexip": hex_ip(ip),
        "mac": iface.mac if iface and truthy(cluster.attr(host, "pxe_mac_files")) else None,
        "label": label,
        "command": action.command,
        "args": action.args,
        "efi_linux": truthy(cluster.attr(host, "uefi_linuxefi")),
    }


def kickstart_url(cluster: Cluster, host: Host) -> str | None:
    """Where a physical host's installer fetches its kickstart: Rocks' kickstart.cgi on the
    kickstart host, which answers each address with that host's own kickstart (`rockscc serve`,
    or the nginx config the build writes). One URL for every host, so the boot files of all
    hosts of one action carry the same command line. None without a kickstart host."""
    from rockscc.provision.spec import basedir, kickstart_server

    server = cluster.attr(host, "Kickstart_PrivateKickstartHost")
    if not server:
        return None
    path = basedir(cluster.attr(host, "Kickstart_PrivateKickstartBasedir"))
    return f"http://{kickstart_server(server)}/{path}/sbin/kickstart.cgi"


def with_kickstart_url(args: str | None, url: str | None) -> str | None:
    """Rocks' install actions say a bare `ks` (its patched loader asked the DHCP server's
    kickstart.cgi): a stock installer needs the URL, `ks=URL`. Other words are kept as they are."""
    if not args or not url or "ks" not in args.split():
        return args
    return " ".join(f"ks={url}" if word == "ks" else word for word in args.split(" "))


def render_boot(spec: dict[str, Any]) -> list:
    from rockscc.build.kinds import text_output

    args = with_kickstart_url(spec["args"], spec["ks_url"])
    parsed = pxe.parse_action(spec["command"], args)
    bios = pxe.pxelinux(spec["command"], args)
    uefi = pxe.grub(spec["label"], parsed, efi=spec["efi_linux"])
    names = ["default"] if spec["frontend"] else [spec["hexip"]]
    if spec["mac"]:
        names.append("01-" + spec["mac"].replace(":", "-"))
    outputs = [text_output(f"{TFTP}/pxelinux.cfg/{n}", bios, 0o664) for n in names]
    if not spec["frontend"]:
        outputs += [text_output(f"{TFTP}/uefi/grub.cfg-{n}", uefi, 0o664) for n in names]
        outputs.append(text_output(f"{TFTP}/ipxe/{spec['host']}.ipxe", pxe.ipxe(spec["label"], parsed), 0o664))
    else:
        outputs.append(text_output(f"{TFTP}/uefi/grub.cfg", uefi, 0o664))
    return outputs
