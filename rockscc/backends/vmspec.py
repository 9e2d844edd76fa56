"""Everything a VM's configs depend on, as plain data (the build's spec for a VM job): what the
Xen config and the libvirt domain XML are rendered from, in install and boot variants."""

from __future__ import annotations

from typing import Any

from rockscc.backends.pxe import parse_action
from rockscc.errors import RocksccError
from rockscc.model import Cluster, Host
from rockscc.model.boot import actions_for
from rockscc.model.names import check_path, check_word

XEN_KERNEL = "/boot/kickstart/xen/vmlinuz"
XEN_RAMDISK = "/boot/kickstart/xen/initrd-xen.iso.gz"
FALLBACK_ARGS = "client kssendmac ks ksdevice=eth0 selinux=0 ramdisk_size=150000 noipv6"


def vm_spec(cluster: Cluster, host: Host) -> dict[str, Any]:
    vm = host.vm
    container = cluster.hosts[vm.container]
    c_attrs = cluster.resolve_attrs(container)
    attrs = cluster.resolve_attrs(host)
    hypervisor = (c_attrs.get("vm_hypervisor") or "xen").lower()
    return {
        "name": host.name,
        "container": container.name,
        "hypervisor": hypervisor,  # xen | kvm | qemu
        "virt_type": vm.virt_type if hypervisor == "xen" else "hvm",
        "mem": vm.mem,
        "cpus": host.cpus,
        "macs": [i.mac for i in host.interfaces if i.mac],
        "network": c_attrs.get("vm_network", "bridge"),  # bridge | user
        "bridge": _word(container, "vm_bridge", c_attrs.get("vm_bridge", "xenbr{index}" if hypervisor == "xen" else "br{index}"),
                        lambda kind, v: check_word(kind, v.replace("{index}", "0"))),
        "disks": [{"type": d.vbd_type, "path": d.path, "device": d.device, "mode": d.mode, "size": d.size}
                  for d in vm.disks],
        "install": {"kernel": _word(container, "xen_install_kernel", c_attrs.get("xen_install_kernel", XEN_KERNEL), check_path),
                    "ramdisk": _word(container, "xen_install_ramdisk", c_attrs.get("xen_install_ramdisk", XEN_RAMDISK),
                                     check_path),
                    "args": install_args(cluster, host, attrs)},
        "bootloader": _word(container, "xen_bootloader", c_attrs.get("xen_bootloader", "pygrub"),
                            lambda kind, v: check_path(kind, v) if v.startswith("/") else check_word(kind, v)),
        "serial_log": _word(container, "vm_serial_log", c_attrs.get("vm_serial_log", ""),
                            lambda kind, v: v and check_path(kind, v.replace("{name}", "x"))),
    }


def _word(container: Host, attr: str, value: str, check) -> str:
    """An attribute value that becomes one word (a path, a bridge) of the Xen and libvirt
    configs: refused, naming the attribute, where it would not be."""
    try:
        check(f"attribute {attr}", value)
    except RocksccError as exc:
        raise RocksccError(f"VM container {container.name}: {exc.message}") from None
    return value


def install_args(cluster: Cluster, host: Host, attrs: dict[str, str]) -> str:
    """The kernel arguments of the host's install action (its own row, else the global one,
    never some other action as Rocks 5.0 did), plus where its kickstart is served."""
    label = host.pxeboot if host.pxeboot and host.pxeboot != "os" else "install"
    action = actions_for(cluster, host).get(label)
    args = parse_action(action.command, action.args).args if action else FALLBACK_ARGS
    server = attrs.get("Kickstart_PrivateKickstartHost", "")
    basedir = attrs.get("Kickstart_PrivateKickstartBasedir", "install")
    return f"{args} ks=http://{server}/{basedir}/kickstart/{host.name}.ks".strip()
