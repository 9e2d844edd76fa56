"""Specs: everything an artifact depends on, read from the description as plain data. The build
fingerprints a spec job by its spec, and the backends render files from it (they never read the
model): a host's boot files, a VM's Xen and libvirt configs, the cluster's network files."""

from __future__ import annotations

from typing import Any

from rockscc.backends.pxe import parse_action
from rockscc.model import Cluster, Host
from rockscc.model.alloc import hex_ip, network_of
from rockscc.model.boot import actions_for, boot_action
from rockscc.model.cluster import truthy
from rockscc.model.vms import hypervisor_of

XEN_KERNEL = "/boot/kickstart/xen/vmlinuz"
XEN_RAMDISK = "/boot/kickstart/xen/initrd-xen.iso.gz"
FALLBACK_ARGS = "client kssendmac ks ksdevice=eth0 selinux=0 ramdisk_size=150000 noipv6"


def boot_spec(cluster: Cluster, host: Host) -> dict[str, Any] | None:
    """What a host's pxelinux, UEFI and iPXE files are made of (backends/boot.py)."""
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


def netfiles_spec(cluster: Cluster) -> dict[str, Any]:
    """What /etc/hosts and dhcpd.conf are made of: private addresses, names, MACs, the frontend."""
    private = cluster.networks.get("private")
    hosts = []
    for host in sorted(cluster.hosts.values(), key=lambda h: h.name):
        iface = cluster.private_interface(host)
        if iface and iface.ip:
            hosts.append({"name": host.name, "ip": iface.ip, "mac": iface.mac})
    return {
        "domain": cluster.attrs.get("Kickstart_PrivateDNSDomain", "local"),
        "network": str(network_of(private)) if private else None,
        "next_server": cluster.attrs.get("Kickstart_PrivateKickstartHost", ""),
        "hosts": hosts,
    }


def vm_spec(cluster: Cluster, host: Host) -> dict[str, Any]:
    """What a VM's Xen config and libvirt domain XML are made of, in install and boot variants."""
    vm = host.vm
    container = cluster.hosts[vm.container]
    c_attrs = cluster.resolve_attrs(container)
    attrs = cluster.resolve_attrs(host)
    hypervisor = hypervisor_of(cluster, container)
    return {
        "name": host.name,
        "container": container.name,
        "hypervisor": hypervisor,  # xen | kvm | qemu
        "virt_type": vm.virt_type if hypervisor == "xen" else "hvm",
        "mem": vm.mem,
        "cpus": host.cpus,
        "macs": [i.mac for i in host.interfaces if i.mac],
        "network": c_attrs.get("vm_network", "bridge"),  # bridge | user
        "bridge": c_attrs.get("vm_bridge", "xenbr{index}" if hypervisor == "xen" else "br{index}"),
        "disks": [{"type": d.vbd_type, "path": d.path, "device": d.device, "mode": d.mode, "size": d.size}
                  for d in vm.disks],
        "install": {"kernel": c_attrs.get("xen_install_kernel", XEN_KERNEL),
                    "ramdisk": c_attrs.get("xen_install_ramdisk", XEN_RAMDISK),
                    "args": install_args(cluster, host, attrs)},
        "bootloader": c_attrs.get("xen_bootloader", "pygrub"),
        "serial_log": c_attrs.get("vm_serial_log", ""),
    }


def install_args(cluster: Cluster, host: Host, attrs: dict[str, str]) -> str:
    """The kernel arguments of the host's install action (its own row, else the global one,
    never some other action as Rocks 5.0 did), plus where its kickstart is served."""
    label = host.pxeboot if host.pxeboot and host.pxeboot != "os" else "install"
    action = actions_for(cluster, host).get(label)
    args = parse_action(action.command, action.args).args if action else FALLBACK_ARGS
    server = attrs.get("Kickstart_PrivateKickstartHost", "")
    basedir = attrs.get("Kickstart_PrivateKickstartBasedir", "install")
    return f"{args} ks=http://{server}/{basedir}/kickstart/{host.name}.ks".strip()
