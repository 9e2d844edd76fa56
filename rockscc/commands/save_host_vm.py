"""`rockscc save host vm`."""

from __future__ import annotations

from rockscc.commands._vm import StateFileCommand


class SaveHostVm(StateFileCommand):
    """Save running VMs' state to a file on their container and release their memory and CPUs.
    The file defaults to <vm_disk_dir>/<vm>.saved on the container; file= only with one VM. An
    existing file is never replaced (it may be a disk image or another VM's saved state)."""

    name = "save host vm"
    action = "save"
    examples = ["rockscc save host vm compute-0-0-0"]
