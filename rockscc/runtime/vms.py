"""VM lifecycle over libvirt: create (install), start (boot), stop, pause, resume, save, restore,
status and move — each from the domain XML `rockscc build` compiled."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from xml.sax.saxutils import escape

from rockscc.errors import RocksccError
from rockscc.runtime.connection import connect, libvirt_errors, uri_for

STATES = {0: "active", 1: "active", 2: "active", 3: "paused", 4: "shutdown", 5: "shutdown", 6: "crashed", 7: "paused"}
GB = 10**9  # Rocks sized VM disks in GB


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
        except libvirt.libvirtError:
            return None

    def status(self) -> str | None:
        dom = self.domain()
        if dom is None:
            return None
        with self.errors("reading the state of"):
            state, _ = dom.state()
        return STATES.get(state, "unknown") if dom.isActive() or state in (3, 7) else None

    # --- starting --------------------------------------------------------------------------------
    def ensure_disks(self) -> None:
        """Create each missing file disk as a sparse volume through libvirt's storage API, so it
        works on a remote container too."""
        for disk in self.host.vm.disks:
            if disk.vbd_type == "phy":
                continue
            with self.errors(f"creating disk {disk.path} for"):
                pool = self._pool_for(os.path.dirname(disk.path))
                pool.refresh(0)
                if os.path.basename(disk.path) not in pool.listVolumes():
                    pool.createXML(_volume_xml(os.path.basename(disk.path), disk.size * GB), 0)

    def _pool_for(self, directory: str):
        for pool in self.conn.listAllStoragePools():
            if _pool_path(pool) == directory:
                if not pool.isActive():
                    pool.create(0)
                return pool
        name = "rockscc-" + directory.strip("/").replace("/", "-")
        pool = self.conn.storagePoolDefineXML(
            f"<pool type='dir'><name>{escape(name)}</name><target><path>{escape(directory)}</path></target></pool>", 0)
        pool.build(0)
        pool.create(0)
        pool.setAutostart(1)
        return pool

    def run(self, xml: str, action: str) -> None:
        """Define the domain from `xml` (replacing an inactive definition) and start it."""
        dom = self.domain()
        if dom is not None and dom.isActive():
            raise RocksccError(f"VM {self.name} is already running on {self.container.name} (stop host vm first)")
        with self.errors(action):
            if dom is not None:  # the other mode's definition: replace it (a new XML has no uuid)
                dom.undefine()
            dom = self.conn.defineXML(xml)
            dom.create()

    def stop(self) -> None:
        dom = self._active("stop")
        with self.errors("stopping"):
            dom.destroy()

    def pause(self) -> None:
        with self.errors("pausing"):
            self._active("pause").suspend()

    def resume(self) -> None:
        with self.errors("resuming"):
            self._active("resume").resume()

    def save(self, path: str) -> None:
        dom = self._active("save")
        with self.errors(f"saving the state of {self.name} to {path} for"):
            dom.save(path)

    def restore(self, path: str) -> None:
        with self.errors(f"restoring from {path}"):
            self.conn.restore(path)

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


def _pool_path(pool) -> str:
    from lxml import etree

    return (etree.fromstring(pool.XMLDesc(0).encode()).findtext("target/path") or "").rstrip("/")


def _volume_xml(name: str, capacity: int) -> str:
    return (f"<volume><name>{escape(name)}</name><capacity unit='bytes'>{capacity}</capacity>"
            "<allocation unit='bytes'>0</allocation><target><format type='raw'/></target></volume>")


def default_state_file(cluster, vm_host, container) -> str:
    from rockscc.model.vms import disk_dir

    return f"{disk_dir(cluster, container)}/{vm_host.name}.saved"


def is_local(uri: str) -> bool:
    """Whether paths on the container are paths here (test driver, qemu:///…, xen:///…)."""
    return uri.startswith("test:") or "://" in uri and uri.split("://", 1)[1].startswith("/")


def copy_file(source_conn_uri: str, target_conn_uri: str, source: str, target: str) -> None:
    if is_local(source_conn_uri) and is_local(target_conn_uri):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return
    raise RocksccError(f"moving between remote containers ({source_conn_uri} → {target_conn_uri}) needs libvirt "
                       "migration or storage streams, which these connections do not offer")


__all__ = ["VMRuntime", "copy_file", "default_state_file", "is_local", "uri_for"]
