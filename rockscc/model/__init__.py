"""The cluster description: records, attribute resolution, storage."""

from rockscc.model.cluster import ATTR_LEVELS, Cluster, host_sort_key
from rockscc.model.hardware import Disk, ExistingPartition, Hardware, Raid, format_size, parse_size
from rockscc.model.records import VM, Appliance, Host, Interface, Network, PxeAction, Roll, Settings, VMDisk
from rockscc.model.store import find_cluster_dir, load, save, transaction

__all__ = [
    "ATTR_LEVELS",
    "Appliance",
    "Cluster",
    "Disk",
    "ExistingPartition",
    "Hardware",
    "Host",
    "Interface",
    "Network",
    "PxeAction",
    "Raid",
    "Roll",
    "Settings",
    "VM",
    "VMDisk",
    "find_cluster_dir",
    "format_size",
    "host_sort_key",
    "load",
    "parse_size",
    "save",
    "transaction",
]
