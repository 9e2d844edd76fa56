"""`rockscc add host vm`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.errors import RocksccError
from rockscc.model import Host, Interface
from rockscc.model.names import check_host_name, check_ip, normalize_mac
from rockscc.model.vms import check_container, disk_dir, new_vm, next_mac, next_slice, parse_disk, vm_name


class AddHostVm(Command):
    """Add a VM on each named VM container, as Rocks' Xen roll did: named
    <appliance>-<container rack>-<container rank>-<slice>, the next free slice on that container,
    MACs from 00:16:3e (highest + 1), the next free private IP counting down from broadcast-1, and
    a disk file:<vm_disk_dir>/<name>.hda,hda,w of disksize GB. A new VM installs on first start."""

    name = "add host vm"
    args = [Arg("container", kind="host", repeat=True, help="VM container hosts")]
    params = [
        Param("membership", required=True),
        Param("name"),
        Param("ip"),
        Param("subnet", default="private"),
        Param("mem", kind="int", default=1024, help="MB"),
        Param("cpus", kind="int", default=1),
        Param("slice", kind="int"),
        Param("mac"),
        Param("num-macs", kind="int", default=1),
        Param("disk", help="<type>:<path>,<device>,<mode>"),
        Param("disksize", kind="int", default=36, help="GB"),
        Param("virt-type", default="para", choices=("para", "hvm")),
    ]
    examples = [
        'rockscc add host vm vm-container-0-0 membership="Compute"',
        "rockscc add host vm vm-container-0-0 vm-container-0-1 membership=Compute mem=2048",
    ]
    mutates = True

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        containers = [check_container(cluster, c) for c in opts.container]
        if len(containers) > 1 and any(v is not None for v in (opts.name, opts.ip, opts.slice, opts.mac, opts.disk)):
            raise RocksccError("name=, ip=, slice=, mac= and disk= apply to one VM: name one container")
        app_name, appliance = cluster.appliance_by_membership(opts.membership)
        cluster.check_appliance_enabled(appliance)
        if opts.subnet not in cluster.networks:
            raise RocksccError(f'network "{opts.subnet}" is not defined')
        if opts.cpus < 1 or not 1 <= opts.num_macs <= 8:
            raise RocksccError("cpus must be at least 1 and num-macs between 1 and 8")
        for container in containers:
            self._add_one(ctx, cluster, container, app_name, appliance, opts)

    def _add_one(self, ctx, cluster, container, app_name, appliance, opts) -> None:
        slice_ = opts.slice if opts.slice is not None else next_slice(cluster, container.name)
        if any(g.vm.slice == slice_ for g in cluster.hosts.values() if g.vm and g.vm.container == container.name):
            raise RocksccError(f'slice {slice_} of "{container.name}" is already used')
        name = check_host_name(opts.name or vm_name(cluster, app_name, container, slice_))
        if name in cluster.hosts:
            raise RocksccError(f'host "{name}" already exists')
        path = opts.disk or f"file:{disk_dir(cluster, container)}/{name}.hda,hda,w"
        vm = new_vm(container, slice_, opts.mem, [parse_disk(path, opts.disksize)])
        vm.virt_type = opts.virt_type
        host = Host(
            name=name,
            membership=appliance.membership,
            rack=container.rack,
            rank=container.rank,
            cpus=opts.cpus,
            os=container.os,
            arch=container.arch,
            vm=vm,
            pxeboot="install",
        )
        cluster.hosts[name] = host  # before allocating, so the next MAC/IP sees this VM's
        ip = check_ip(opts.ip) if opts.ip else cluster.next_ip(opts.subnet)
        for index in range(opts.num_macs):
            mac = normalize_mac(opts.mac) if opts.mac and index == 0 else next_mac(cluster)
            iface = Interface(device=f"eth{index}", mac=mac, module="xennet")
            if index == 0:
                iface.ip, iface.subnet, iface.name = ip, opts.subnet, name
            host.interfaces.append(iface)
        ctx.out(f'added VM on node "{container.name}" slice "{slice_}" with vm_name "{name}"')
