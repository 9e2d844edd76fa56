"""`rockscc stop host vm`."""

from __future__ import annotations

from rockscc.commands._vm import VmActionCommand


class StopHostVm(VmActionCommand):
    """Stop VMs at once, like pulling the power cord (libvirt destroy; the definition stays)."""

    name = "stop host vm"
    action = "stop"
    examples = ["rockscc stop host vm compute-0-0-0"]
