"""`rockscc pause host vm`."""

from __future__ import annotations

from rockscc.commands._vm import VmActionCommand


class PauseHostVm(VmActionCommand):
    """Pause running VMs: they stay in memory, stopped (libvirt suspend; Xen's xm pause)."""

    name = "pause host vm"
    action = "pause"
    examples = ["rockscc pause host vm compute-0-0-0"]
