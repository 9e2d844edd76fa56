"""The records a cluster description is made of. Plain dataclasses: no I/O, no rendering."""

from __future__ import annotations

from dataclasses import dataclass, field

from rockscc.model.hardware import ExistingPartition, Hardware


@dataclass
class Interface:
    """A host's network interface: device, MAC, address on a network."""

    device: str  # eth0
    mac: str | None = None
    ip: str | None = None
    subnet: str | None = None  # network name
    name: str | None = None  # host name on that network
    module: str | None = None
    vlan: int | None = None


@dataclass
class Network:
    """A named network: subnet, netmask, MTU, DNS zone."""

    subnet: str
    netmask: str
    mtu: int = 1500
    dnszone: str | None = None


@dataclass
class Appliance:
    """An appliance: its membership name and the graph node its hosts' profiles start from."""

    membership: str  # "Compute"
    node: str  # graph root node
    short_name: str = ""
    schedulable: bool = True
    public: bool = False
    graph: str = "default"
    os: str = "linux"
    roll: str | None = None  # the roll that added it, None for built-in/site
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class PxeAction:
    """A PXE action: the boot loader command and its arguments."""

    command: str
    args: str | None = None


@dataclass
class VMDisk:
    """A disk of a virtual machine, as Rocks' Xen roll described it."""

    vbd_type: str  # file, tap:aio, phy
    path: str
    device: str  # hda, xvda
    mode: str = "w"
    size: int = 36  # GB (10**9 bytes), as Rocks

    def spec(self) -> str:
        return f"{self.vbd_type}:{self.path},{self.device},{self.mode}"


@dataclass
class VM:
    """A host's virtual-machine record: its container, slice, memory and disks."""

    container: str  # the physical VM-container host
    slice: int
    mem: int = 1024  # MB
    virt_type: str = "para"  # para | hvm
    disks: list[VMDisk] = field(default_factory=list)


@dataclass
class Host:
    """A host's record (hosts/<name>.toml)."""

    membership: str
    rack: int = 0
    rank: int = 0
    cpus: int = 1
    os: str = "linux"
    arch: str = "x86_64"
    comment: str | None = None
    interfaces: list[Interface] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)
    pxeboot: str | None = None  # current PXE action label
    pxeactions: dict[str, PxeAction] = field(default_factory=dict)  # host overrides
    bootflags: str | None = None
    hwprofile: str | None = None
    hardware: Hardware | None = None
    partitions: list[ExistingPartition] = field(default_factory=list)  # recorded at install
    vm: VM | None = None
    name: str = field(default="", metadata={"key": True})  # the table key, filled on load


@dataclass
class Roll:
    """A roll of the description: where it is, whether it is enabled."""

    path: str  # directory (absolute or relative to the description), "pkg:<module>" or "builtin:<name>"
    enabled: bool = True
    version: str = ""
    name: str = field(default="", metadata={"key": True})


@dataclass
class Settings:
    """cluster.toml's [cluster] table: the graph, the built-in base, the cluster's name."""

    graph: str = "default"
    bare: bool = False  # no built-in base overlay: only the site's (and rolls') files
    name: str = "cluster"
