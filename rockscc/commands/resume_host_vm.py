"""`rockscc resume host vm`."""

from __future__ import annotations

from rockscc.commands._vm import VmActionCommand


class ResumeHostVm(VmActionCommand):
    """Resume paused VMs."""

    name = "resume host vm"
    action = "resume"
    examples = ["rockscc resume host vm compute-0-0-0"]
