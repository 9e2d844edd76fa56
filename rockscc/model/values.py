"""The checks every value of the description passes, whether a command set it or cluster.toml
was edited by hand (Cluster.validate calls them; errors name the key path, which the store turns
into `cluster.toml:LINE`).

Every string is already one line of printable text (codec.py). Here: values that end up as one
word of some other syntax (kickstart options, pxelinux and grub lines, xl configs, dhcpd.conf)
must be a word there; numbers must be in range; names from fixed sets must be in them. The name
checks remember what passed (names.py), so ten thousand hosts with the same OS cost one check.
"""

from __future__ import annotations

from rockscc.errors import RocksccError
from rockscc.model import names
from rockscc.model.codec import SchemaError
from rockscc.model.hardware import ExistingPartition, Hardware
from rockscc.model.records import VM, Appliance, Host, Interface, Network, PxeAction

MIB = 1024**2
MAX_DISK = 1024**6  # 1 EiB: larger is no disk (the planner's sparse images go that far)
MAX_POSITION = 2**31 - 1  # a rack or rank: Rocks' INT column; the host index keeps them as SQLite integers


def at(path: tuple, check, *args) -> None:
    """Run one check; its RocksccError becomes a SchemaError at `path`."""
    try:
        check(*args)
    except RocksccError as exc:
        raise SchemaError(path, exc.message) from None


def in_range(kind: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise RocksccError(f"{kind} {value} is out of range ({low} to {high})")


def one_of(kind: str, value, choices: tuple) -> None:
    if value not in choices:
        raise RocksccError(f'{kind} "{value}" is not one of {", ".join(map(str, choices))}')


def check_host(path: tuple, host: Host) -> None:
    at(path + ("rack",), in_range, "rack", host.rack, 0, MAX_POSITION)
    at(path + ("rank",), in_range, "rank", host.rank, 0, MAX_POSITION)
    at(path + ("os",), names.check_word, "os", host.os)
    at(path + ("arch",), names.check_word, "arch", host.arch)
    at(path + ("cpus",), in_range, "cpus", host.cpus, 1, 1 << 16)
    for i, iface in enumerate(host.interfaces):
        check_interface(path + ("interfaces", i), iface)
    for label, action in host.pxeactions.items():
        check_pxe_action(path + ("pxeactions", label), action)
    if host.hardware is not None:
        check_hardware(path + ("hardware",), host.hardware)
    for i, part in enumerate(host.partitions):
        check_partition(path + ("partitions", i), part)
    if host.vm is not None:
        check_vm(path + ("vm",), host.vm)


def check_interface(path: tuple, iface: Interface) -> None:
    at(path + ("device",), names.check_word, "interface", iface.device)
    if iface.name:  # the host's name on that network: what a host name may be
        at(path + ("name",), names.check_host_name, iface.name)
    if iface.module:
        at(path + ("module",), names.check_word, "module", iface.module)
    if iface.vlan is not None:
        at(path + ("vlan",), in_range, "vlan", iface.vlan, 0, 4094)


def check_pxe_action(path: tuple, action: PxeAction) -> None:
    at(path, names.check_label, "PXE action label", path[-1])
    at(path, names.check_pxe_action, action.command, action.args)


def check_hardware(path: tuple, hardware: Hardware) -> None:
    for i, disk in enumerate(hardware.disks):
        where = path + ("disks", i)
        at(where + ("name",), names.check_word, "disk", disk.name.replace("/", "_"))  # cciss/c0d0
        at(where + ("size",), in_range, "disk size (bytes)", disk.size, 16 * MIB, MAX_DISK)
        at(where + ("sector_size",), one_of, "sector size", disk.sector_size, (512, 4096))
        for j, part in enumerate(disk.partitions):
            check_partition(where + ("partitions", j), part)
    for i, raid in enumerate(hardware.raids):
        where = path + ("raids", i)
        at(where + ("name",), names.check_word, "raid", raid.name)
        at(where + ("level",), one_of, "raid level", raid.level, (0, 1, 5, 6, 10))
        for j, member in enumerate(raid.members):
            at(where + ("members", j), names.check_word, "raid member", member)
        at(where + ("fstype",), names.check_word, "file system", raid.fstype)
        if raid.mountpoint:
            at(where + ("mountpoint",), _mountpoint, raid.mountpoint)


def check_partition(path: tuple, part: ExistingPartition) -> None:
    at(path + ("device",), names.check_word, "partition", part.device.replace("/", "_"))
    at(path + ("start",), in_range, "partition start (sector)", part.start, 0, MAX_DISK)
    at(path + ("size",), in_range, "partition size (bytes)", part.size, 0, MAX_DISK)
    if part.fstype:
        at(path + ("fstype",), names.check_word, "file system", part.fstype)
    if part.mountpoint:
        at(path + ("mountpoint",), _mountpoint, part.mountpoint)


def _mountpoint(value: str) -> None:
    if value != "swap":
        names.check_path("mount point", value)


def check_vm(path: tuple, vm: VM) -> None:
    at(path + ("slice",), in_range, "slice", vm.slice, 0, 1 << 16)
    at(path + ("mem",), in_range, "mem (MB)", vm.mem, 64, 1 << 30)
    at(path + ("virt_type",), one_of, "virt_type", vm.virt_type, ("para", "hvm"))
    for i, disk in enumerate(vm.disks):
        where = path + ("disks", i)
        at(where + ("vbd_type",), one_of, "disk type", disk.vbd_type, ("file", "tap:aio", "phy"))
        at(where + ("path",), names.check_path, "disk path", disk.path)
        at(where + ("device",), names.check_word, "disk device", disk.device)
        at(where + ("mode",), one_of, "disk mode", disk.mode, ("w", "r", "w!"))
        at(where + ("size",), in_range, "disk size (GB)", disk.size, 1, 1 << 30)


def check_appliance(path: tuple, appliance: Appliance) -> None:
    at(path + ("membership",), names.check_label, "membership", appliance.membership)
    at(path + ("node",), names.check_path_safe, "node", appliance.node)
    at(path + ("graph",), names.check_path_safe, "graph", appliance.graph)
    at(path + ("os",), names.check_word, "os", appliance.os)
    if appliance.short_name:
        at(path + ("short_name",), names.check_word, "short name", appliance.short_name)


def check_network(path: tuple, network: Network) -> None:
    at(path + ("mtu",), in_range, "mtu", network.mtu, 68, 65535)
    if network.dnszone:
        at(path + ("dnszone",), names.check_dns_name, "dnszone", network.dnszone)
