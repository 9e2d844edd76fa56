"""Specs: everything an artifact depends on, read from the description as plain data. The build
fingerprints a spec job by its spec, and the backends render files from it (they never read the
model): a host's boot files, a VM's Xen and libvirt configs, the cluster's network files and
service configs, the TFTP tree."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rockscc.backends import tftp
from rockscc.backends.pxe import EFI_VARIANTS, parse_action
from rockscc.errors import RocksccError
from rockscc.model import Cluster, Host
from rockscc.model.alloc import hex_ip, network_of
from rockscc.model.boot import actions_for, boot_action
from rockscc.model.cluster import truthy
from rockscc.model.names import check_path, check_word
from rockscc.model.services import basedir, discovery_range, dns_domain, dns_servers, host_flag, kickstart_server
from rockscc.model.vms import hypervisor_of

if TYPE_CHECKING:
    from rockscc.pipeline.hostfacts import Facts

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
    server = cluster.attr(host, "Kickstart_PrivateKickstartHost")
    if not server:
        return None
    path = basedir(cluster.attr(host, "Kickstart_PrivateKickstartBasedir"))
    return f"http://{kickstart_server(server)}/{path}/sbin/kickstart.cgi"


def network_spec(cluster: Cluster, outdir: Path, facts: dict[str, Facts] | None = None) -> dict[str, Any]:
    """Everything the network files depend on (hosts, dhcpd.conf, dnsmasq, DNS zones, nginx).
    Without a private network or a kickstart host there is nothing to serve: hosts and
    dhcpd.conf only (next_server "", network None). `facts`: each host's, as hostfacts.py keeps
    them (None: read from the records)."""
    private = cluster.networks.get("private")
    server = cluster.attrs.get("Kickstart_PrivateKickstartHost")
    if facts is None:
        hosts = host_entries(cluster)
    else:
        hosts = [entry for name in sorted(facts) if (entry := facts[name].entry()) is not None]
    return {
        "outdir": str(outdir),
        "next_server": kickstart_server(server) if server else "",
        "dns_servers": dns_servers(cluster.attrs.get("Kickstart_PrivateDNSServers")),
        "domain": dns_domain(cluster),
        "network": str(network_of(private)) if private else None,
        "discovery": discovery_range(cluster),
        "basedir": basedir(cluster.attrs.get("Kickstart_PrivateKickstartBasedir")),
        "tree": cluster.attrs.get("install_tree") or None,
        "frontend": cluster.attrs.get("Kickstart_PrivateHostname") or None,
        "hosts": hosts,
    }


def host_entries(cluster: Cluster) -> list[dict[str, Any]]:
    """Hosts with a private address, by name: name, ip, mac (or None), hexip, ipxe."""
    ipxe = host_flag(cluster, "pxe_ipxe", default=True)
    entries = (host_entry(cluster, name, cluster.hosts[name], ipxe) for name in sorted(cluster.hosts))
    return [entry for entry in entries if entry is not None]


def host_entry(cluster: Cluster, name: str, host: Host, ipxe) -> dict[str, Any] | None:
    """A host's entry of the network files (None without a private address); `ipxe`: the
    host_flag of pxe_ipxe."""
    iface = cluster.private_interface(host)
    if iface is None or not iface.ip:
        return None
    return {"name": name, "ip": iface.ip, "mac": iface.mac, "hexip": hex_ip(iface.ip), "ipxe": ipxe(host)}


def tftp_spec(cluster: Cluster, host_boots: list[str] | None = None) -> dict[str, Any]:
    """What the TFTP tree's shared files are made of: the identity of each source (loaders,
    grub, the site's tftpboot/ files) and the files the PXE actions boot. `host_boots`: the
    files of the hosts' own actions, as hostfacts.py keeps them (None: read from the records)."""
    return {**tftp.sources_spec(cluster.root / tftp.SITE_DIR), "needed": needed_files(cluster, host_boots)}


def needed_files(cluster: Cluster, host_boots: list[str] | None = None) -> list[str]:
    """The kernels and initrds the PXE actions (global and per host) load from the tree."""
    names = set(action_files(cluster.pxeactions.values()))
    if host_boots is None:
        for host in cluster.hosts.values():
            names.update(action_files(host.pxeactions.values()))
    else:
        names.update(host_boots)
    return sorted(names)


def action_files(actions) -> list[str]:
    """The files of the TFTP tree that PXE actions load (their EFI variants too), sorted."""
    names: set[str] = set()
    for action in actions:
        spec = parse_action(action.command, action.args)
        for name in (spec.kernel, spec.initrd):
            if name and "/" not in name and "://" not in name:
                names.add(name)
                if name in EFI_VARIANTS:
                    names.add(EFI_VARIANTS[name])
    return sorted(names)


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
        "bridge": _word(
            container,
            "vm_bridge",
            c_attrs.get("vm_bridge", "xenbr{index}" if hypervisor == "xen" else "br{index}"),
            lambda kind, v: check_word(kind, v.replace("{index}", "0")),
        ),
        "disks": [
            {"type": d.vbd_type, "path": d.path, "device": d.device, "mode": d.mode, "size": d.size} for d in vm.disks
        ],
        "install": {
            "kernel": _word(container, "xen_install_kernel", c_attrs.get("xen_install_kernel", XEN_KERNEL), check_path),
            "ramdisk": _word(
                container, "xen_install_ramdisk", c_attrs.get("xen_install_ramdisk", XEN_RAMDISK), check_path
            ),
            "args": install_args(cluster, host, attrs),
        },
        "bootloader": _word(
            container,
            "xen_bootloader",
            c_attrs.get("xen_bootloader", "pygrub"),
            lambda kind, v: check_path(kind, v) if v.startswith("/") else check_word(kind, v),
        ),
        "serial_log": _word(
            container,
            "vm_serial_log",
            c_attrs.get("vm_serial_log", ""),
            lambda kind, v: v and check_path(kind, v.replace("{name}", "x")),
        ),
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
