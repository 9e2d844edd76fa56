"""`rockscc restore host vm`."""

from __future__ import annotations

from rockscc.commands._vm import StateFileCommand


class RestoreHostVm(StateFileCommand):
    """Restore VMs from the state saved by save host vm.
    The file defaults to <vm_disk_dir>/<vm>.saved on the container; file= only with one VM."""

    name = "restore host vm"
    action = "restore"
    examples = ["rockscc restore host vm compute-0-0-0"]
