"""VM lifecycle over libvirt: create (install), start (boot), stop, shutdown, reboot, pause, resume,
save, restore and status — each from the domain XML `rockscc build` compiled."""

from __future__ import annotations

import os
import time

from rockscc.errors import RocksccError
from rockscc.runtime.connection import connect, libvirt_errors
from rockscc.runtime.storage import pool_for, store_for, volume_xml

# libvirt domain states → Rocks' STATUS words (xm list: r/b active, p paused, s shutdown, c crashed);
# shut off (5) and no state (0, a domain being defined) show as not running
STATES = {1: "active", 2: "active", 3: "paused", 4: "shutdown", 6: "crashed", 7: "paused"}
GB = 10**9  # Rocks sized VM disks in GB
POLL = 0.2  # seconds between looks at a VM being shut down


def status_of(state: int) -> str | None:
    return STATES.get(state)


class VMRuntime:
    """One VM of the description, on its container."""

    def __init__(self, cluster, host) -> None:
        if host.vm is None:
            raise RocksccError(f'host "{host.name}" is not a VM')
        self.cluster, self.host = cluster, host
        self.container = cluster.hosts[host.vm.container]
        self.name = host.name

    @property
    def conn(self):
        return connect(self.cluster, self.container)

    def errors(self, action: str):
        return libvirt_errors(self.name, self.container.name, action)

    # --- looking ---------------------------------------------------------------------------------
    def domain(self):
        import libvirt

        try:
            return self.conn.lookupByName(self.name)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise RocksccError(
                f"looking for VM {self.name} on {self.container.name}: {exc.get_error_message()}"
            ) from None

    def status(self) -> str | None:
        dom = self.domain()
        if dom is None:
            return None
        with self.errors("reading the state of"):
            return status_of(dom.state()[0])

    @property
    def paravirtual(self) -> bool:
        from rockscc.model.vms import hypervisor_of

        return hypervisor_of(self.cluster, self.container) == "xen" and self.host.vm.virt_type == "para"

    # --- starting --------------------------------------------------------------------------------
    def ensure_disks(self) -> None:
        """Create each missing file disk as a sparse volume through libvirt's storage API, so it
        works on a remote container too."""
        for disk in self.host.vm.disks:
            if disk.vbd_type == "phy":
                continue
            with self.errors(f"creating disk {disk.path} for"):
                pool = pool_for(self.conn, os.path.dirname(disk.path))
                pool.refresh(0)
                if os.path.basename(disk.path) not in pool.listVolumes():
                    pool.createXML(volume_xml(os.path.basename(disk.path), disk.size * GB), 0)

    def check_startable(self):
        """The domain, if defined, when the VM may be started afresh: not running, and not saved
        (booting would drop the saved memory, and restoring it later would pair that memory with
        a disk that has moved on)."""
        dom = self.domain()
        if dom is not None and dom.isActive():
            raise RocksccError(f"VM {self.name} is already running on {self.container.name} (stop host vm first)")
        state = default_state_file(self.cluster, self.host, self.container)
        if store_for(self.cluster, self.container).exists(state):
            raise RocksccError(
                f"VM {self.name} is saved in {state} on {self.container.name}: restore host vm {self.name} "
                "resumes it (delete that file to start it afresh)"
            )
        return dom

    def run(self, xml: str, action: str) -> None:
        """Define the domain from `xml` (replacing an inactive definition) and start it."""
        dom = self.check_startable()
        with self.errors(action):
            if dom is not None:  # the other mode's definition: replace it (a new XML has no uuid)
                dom.undefine()
            dom = self.conn.defineXML(xml)
            dom.create()

    # --- stopping --------------------------------------------------------------------------------
    def stop(self) -> None:
        dom = self._active("stop")
        with self.errors("stopping"):
            dom.destroy()

    def request_shutdown(self):
        """Press the VM's power button (ACPI; the paravirtual request for Xen para guests)."""
        import libvirt

        dom = self._active("shut down")
        flags = 0 if self.paravirtual else libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN
        with self.errors("shutting down"):
            dom.shutdownFlags(flags)
        return dom

    def reboot(self) -> None:
        """Ask the guest to reboot: ACPI power button, then libvirt starts it again."""
        import libvirt

        dom = self._active("reboot")
        flags = 0 if self.paravirtual else libvirt.VIR_DOMAIN_REBOOT_ACPI_POWER_BTN
        with self.errors("rebooting"):
            dom.reboot(flags)

    def pause(self) -> None:
        with self.errors("pausing"):
            self._active("pause").suspend()

    def resume(self) -> None:
        with self.errors("resuming"):
            self._active("resume").resume()

    # --- saved states ------------------------------------------------------------------------------
    def save(self, path: str) -> None:
        """Save the running VM's state to `path`, which must not exist: libvirt would overwrite it,
        and it may be a disk image or another VM's only saved state."""
        dom = self._active("save")
        if store_for(self.cluster, self.container).exists(path):
            raise RocksccError(
                f"{path} already exists on {self.container.name}: a saved state never replaces a file "
                "(remove it, or give another file=)"
            )
        with self.errors(f"saving the state of {self.name} to {path} for"):
            dom.save(path)

    def restore(self, path: str) -> str | None:
        """Restore from `path`, then delete it: restoring the same state again later would pair
        old memory with a disk that has moved on, and corrupt the guest's file systems. A warning
        when the file could not be deleted."""
        dom = self.domain()
        if dom is not None and dom.isActive():
            raise RocksccError(f"VM {self.name} is already running on {self.container.name}")
        self._check_state_file(path)
        with self.errors(f"restoring from {path}"):
            self.conn.restore(path)
        try:
            store_for(self.cluster, self.container).remove(path)
        except RocksccError as exc:
            return f"VM {self.name} was restored, but its state file stays: {exc}"
        return None

    def _check_state_file(self, path: str) -> None:
        """Refuse a state file saved from another VM: libvirt would restore (and we delete) the VM
        named inside the file, leaving this one off and the other's only state gone."""
        from lxml import etree

        with self.errors(f"reading the state file {path} for"):
            xml = self.conn.saveImageGetXMLDesc(path, 0)
        owner = etree.fromstring(xml.encode()).findtext("name")
        if owner != self.name:
            raise RocksccError(
                f"{path} on {self.container.name} holds the saved state of VM {owner}, not of {self.name}"
            )

    def _active(self, verb: str):
        dom = self.domain()
        if dom is None or not dom.isActive():
            raise RocksccError(f"cannot {verb} VM {self.name}: it is not running on {self.container.name}")
        return dom

    def remove(self) -> None:
        """Undefine the domain if the container knows it (disk images are kept, as in Rocks)."""
        dom = self.domain()
        if dom is None:
            return
        with self.errors("removing"):
            if dom.isActive():
                dom.destroy()
            dom.undefine()


def shutdown(runtimes: list[VMRuntime], timeout: float) -> list[str]:
    """Press every VM's power button, then wait up to `timeout` seconds for all of them to power
    off. The names of those still running."""
    waiting = {rt.name: rt.request_shutdown() for rt in runtimes}
    deadline = time.monotonic() + timeout
    while waiting:
        for name, dom in list(waiting.items()):
            with libvirt_errors(name, "its container", "watching the shutdown of"):
                if not dom.isActive():
                    del waiting[name]
        if not waiting or time.monotonic() >= deadline:
            break
        time.sleep(POLL)
    return sorted(waiting)


def default_state_file(cluster, vm_host, container) -> str:
    from rockscc.model.vms import disk_dir

    return f"{disk_dir(cluster, container)}/{vm_host.name}.saved"


__all__ = ["VMRuntime", "default_state_file", "shutdown", "status_of"]
