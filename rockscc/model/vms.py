"""VMs in the description (Rocks' vm_nodes and vm_disks): naming, slices, MACs and disks of new
VMs, and the questions the backends and runtime ask about them."""

from __future__ import annotations

from rockscc.errors import RocksccError
from rockscc.model import alloc
from rockscc.model.cluster import Cluster
from rockscc.model.records import VM, Host, VMDisk

DEFAULT_DISK_DIR = "/state/partition1/xen/disks"


def check_container(cluster: Cluster, host: Host) -> Host:
    if host.vm is not None:
        raise RocksccError(f'host "{host.name}" is a VM, not a VM container')
    if not cluster.is_vm_container(host):
        raise RocksccError(
            f'host "{host.name}" is not a VM container (its appliance is '
            f'"{cluster.appliance_name(host)}"; VMs live on hosts of a vm-container appliance)'
        )
    return host


def guests(cluster: Cluster, container: str) -> list[Host]:
    """The VMs on a container, by slice (found through the host index: no other record is read)."""
    table = cluster.host_table()
    names = [n for (where, _slot), vms in table.vm_slots().items() if where == container for n in vms]
    return sorted((table[n] for n in names), key=lambda h: h.vm.slice)


def next_slice(cluster: Cluster, container: str) -> int:
    """The lowest slice no VM on the container uses (Rocks 5.0 restarted at 0 and collided)."""
    used = {g.vm.slice for g in guests(cluster, container)}
    return next(i for i in range(len(used) + 1) if i not in used)


def vm_name(cluster: Cluster, appliance: str, container: Host, slice_: int) -> str:
    return f"{appliance}-{container.rack}-{container.rank}-{slice_}"


def hypervisor_of(cluster: Cluster, container: Host) -> str:
    """What runs the container's VMs: its vm_hypervisor attribute (xen, kvm or qemu), Xen by default."""
    return (cluster.resolve_attrs(container).get("vm_hypervisor") or "xen").lower()


def disk_dir(cluster: Cluster, container: Host) -> str:
    """Where the container keeps VM disks: its vm_disk_dir attribute (Rocks: the largest
    partition's xen/disks)."""
    return cluster.resolve_attrs(container).get("vm_disk_dir") or DEFAULT_DISK_DIR


def parse_disk(spec: str, size: int) -> VMDisk:
    """`<vbd_type>:<path>,<device>,<mode>` (vbd_type may hold ':', as in tap:aio)."""
    try:
        head, device, mode = spec.rsplit(",", 2)
        vbd, path = head.rsplit(":", 1)
    except ValueError:
        raise RocksccError(f'disk "{spec}" is not <type>:<path>,<device>,<mode> (e.g. file:/x/vm.hda,hda,w)') from None
    if vbd not in ("file", "tap:aio", "phy"):
        raise RocksccError(f'disk "{spec}": type {vbd!r} is not file, tap:aio or phy')
    if not path.startswith("/") or ".." in path.split("/"):
        raise RocksccError(f'disk "{spec}": the path must be absolute, without ".."')
    if mode not in ("w", "r", "w!"):
        raise RocksccError(f'disk "{spec}": mode {mode!r} is not w or r')
    if size < 1:
        raise RocksccError(f"disksize {size} must be at least 1 (GB)")
    return VMDisk(vbd, path, device, mode, size)


def new_vm(container: Host, slice_: int, mem: int, disks: list[VMDisk]) -> VM:
    if mem < 64:
        raise RocksccError(f"mem={mem}: a VM needs at least 64 MB")
    return VM(container=container.name, slice=slice_, mem=mem, disks=disks)


def next_mac(cluster: Cluster) -> str:
    return alloc.next_xen_mac(cluster.used_macs())


def mode_of(cluster: Cluster, host: Host) -> str:
    """install or boot: Rocks booted a VM's OS only when its action was `os`."""
    return "boot" if host.pxeboot == "os" else "install"
