"""`rockscc reboot host vm`."""

from __future__ import annotations

from rockscc.commands._vm import VmActionCommand


class RebootHostVm(VmActionCommand):
    """Reboot VMs cleanly: the guest is asked through its ACPI power button (Xen paravirtual
    guests: the paravirtual request) and libvirt starts it again once it has powered off. The
    request returns at once; a guest that ignores it keeps running (stop host vm, then start
    host vm)."""

    name = "reboot host vm"
    action = "reboot"
    examples = ["rockscc reboot host vm compute-0-0-0"]
