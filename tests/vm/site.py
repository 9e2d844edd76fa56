"""A cluster description whose VM containers are the two test hypervisors (tests/vm/hypervisors.py),
and the two views a test compares after every step: what rockscc says (`list host vm`, `dump host
vm`) and what libvirt reports (domain state, disks in the domain XML, MACs, memory)."""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from tests.conftest import run_cli
from tests.vm import guest

# container → (hypervisor, its address, disk directory there). Two containers share hypervisor b: the
# second's disk directory is a small tmpfs (a target that fills up).
CONTAINERS = {
    "vm-container-0-0": ("a", "10.99.0.1", "/var/lib/libvirt/images/c00"),
    "vm-container-1-0": ("b", "10.99.0.2", "/var/lib/libvirt/images/c10"),
    "vm-container-2-0": ("b", "10.99.0.3", "/var/lib/libvirt/small"),
}
SMALL_MIB = 128  # holds a test VM's disk and saved state (~100 MiB), little more
SERIAL_LOG = "/var/log/libvirt/qemu/{name}.console"
# libvirt domain state → STATUS of list host vm (Rocks: xm list's r/b active, p paused)
STATUS = {1: "active", 2: "active", 3: "paused", 4: "shutdown", 6: "crashed", 7: "paused"}


@dataclass
class Domain:
    hypervisor: str
    state: int
    disks: dict[str, str]  # target dev → source path
    macs: list[str]
    mem_mib: int
    xml: str
    config_disks: dict[str, str] | None  # the disks of its definition (None: a transient domain)


class Site:
    def __init__(self, root: Path, pair) -> None:
        self.root, self.pair = root, pair
        self._conns: dict[str, object] = {}

    # --- the description ---------------------------------------------------------------------------
    def run(self, *argv: str):
        """`rockscc argv…`; one string is split as a shell would (the seed deck's command lines)."""
        if len(argv) == 1:
            argv = tuple(shlex.split(argv[0]))
        return run_cli("-C", str(self.root), *argv)

    def ok(self, *argv: str):
        result = self.run(*argv)
        assert result.rc == 0, (argv, result.out, result.err)
        return result

    def setup(self) -> None:
        for name, (hv_name, address, directory) in CONTAINERS.items():
            hv = self.hv_named(hv_name)
            self.ok("add", "host", name)
            self.ok("set", "host", "interface", name, "eth0", f"ip={address}")
            for attr, value in (
                ("libvirt_uri", hv.uri),
                ("vm_hypervisor", "qemu"),
                ("vm_network", "user"),
                ("vm_disk_dir", directory),
                ("vm_serial_log", SERIAL_LOG),
            ):
                self.ok("set", "host", "attr", name, attr, f"value={value}")
            hv.host_path(directory).mkdir(parents=True, exist_ok=True)
        small = self.pair.b.inside(
            "mount", "-t", "tmpfs", "-o", f"size={SMALL_MIB}m", "tmpfs", CONTAINERS["vm-container-2-0"][2]
        )
        assert small.returncode == 0, small.stderr

    def hv_named(self, name: str):
        return self.pair.a if name == "a" else self.pair.b

    def hv(self, container: str):
        return self.hv_named(CONTAINERS[container][0])

    def host_path(self, container: str, path: str) -> Path:
        return self.hv(container).host_path(path)

    def new_vm(self, image: Path | None, container: str = "vm-container-0-0", mem: int = 96) -> str:
        """Add a VM as the seed deck does, then give it mem MB and a virtio disk (the guest has no
        IDE driver) holding the test guest (image None: an empty disk, nothing boots); its name."""
        out = self.ok(f'add host vm {container} membership="Compute"').out
        name = out.rsplit('"', 2)[1]
        self.purge(name)
        self.ok(f'set host vm {name} mem={mem} disk="file:{CONTAINERS[container][2]}/{name}.vda,vda,w"')
        if image is not None:
            self.place_disk(name, image)
        return name

    def purge(self, vm: str) -> None:
        """Delete what an earlier VM of the same name left on the hypervisors (disks, consoles)."""
        for container, (_hv_name, _, directory) in CONTAINERS.items():
            for place in (directory, SERIAL_LOG.rsplit("/", 1)[0]):
                self.hv(container).inside("sh", "-c", f"rm -f {place}/{vm}.*")

    def place_disk(self, vm: str, image: Path) -> Path:
        view = self.rockscc(vm)
        target = self.host_path(view["container"], view["disks"][0])
        target.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "--sparse=always", str(image), str(target)], check=True, timeout=60)
        return target

    # --- the two views --------------------------------------------------------------------------------
    def rockscc(self, vm: str) -> dict:
        """What rockscc says: list host vm (STATUS, MACs, container) and dump host vm (disks, memory)."""
        rows = json.loads(self.ok("list", "host", "vm", vm, "output-format=json").out)
        dump = dict(word.split("=", 1) for word in shlex.split(self.ok("dump", "host", "vm", vm).out)[5:])
        return {
            "status": rows[0]["status"],
            "container": rows[0]["host"],
            "macs": [r["mac"] for r in rows if r["mac"]],
            "physnode": dump["physnode"],
            "disks": [spec.split(":", 1)[1].rsplit(",", 2)[0] for spec in dump["disk"].split()],
            "mem": int(dump["mem"]),
        }

    def libvirt(self, vm: str) -> list[Domain]:
        """Every domain named `vm` on the two hypervisors, as libvirt reports it."""
        import libvirt

        found = []
        for name in ("a", "b"):
            try:
                dom = self._conn(name).lookupByName(vm)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                    continue
                self._conns.pop(name, None)  # the daemon was restarted since: ask a new connection
                try:
                    dom = self._conn(name).lookupByName(vm)
                except libvirt.libvirtError:
                    continue
            xml = dom.XMLDesc(0)
            root = etree.fromstring(xml.encode())
            macs = [m.get("address") for m in root.iterfind("devices/interface/mac")]
            config = _disks(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)) if dom.isPersistent() else None
            found.append(
                Domain(
                    name, dom.state()[0], _disks(xml), macs, int(root.findtext("currentMemory")) // 1024, xml, config
                )
            )
        return found

    def agree(self, vm: str) -> dict:
        """Assert that libvirt and rockscc tell the same story about `vm`; rockscc's view."""
        mine = self.rockscc(vm)
        assert mine["physnode"] == mine["container"]
        domains = self.libvirt(vm)
        running = [d for d in domains if d.state in STATUS and d.state not in (4, 5)]
        assert len(running) <= 1, f"{vm} runs twice: {domains}"
        if mine["status"] is None:
            assert not running, f"rockscc lists {vm} as not running, libvirt runs it: {running}"
            return mine
        assert len(running) == 1, f"rockscc lists {vm} as {mine['status']}, libvirt does not run it: {domains}"
        dom = running[0]
        assert dom.hypervisor == CONTAINERS[mine["container"]][0], (mine, dom.hypervisor)
        assert STATUS[dom.state] == mine["status"]
        assert sorted(dom.disks.values()) == sorted(mine["disks"]), (dom.disks, mine["disks"])
        if dom.config_disks is not None:  # its definition too: a later start must use the same disks
            assert sorted(dom.config_disks.values()) == sorted(mine["disks"]), (dom.config_disks, mine["disks"])
        assert all(path.startswith(CONTAINERS[mine["container"]][2] + "/") for path in dom.disks.values())
        assert dom.macs == mine["macs"]
        assert dom.mem_mib == mine["mem"]
        return mine

    def _conn(self, name: str):
        import libvirt

        conn = self._conns.get(name)
        if conn is None or not conn.isAlive():
            conn = self._conns[name] = libvirt.open(self.hv_named(name).uri)
        return conn

    def forget(self) -> None:
        self._conns.clear()

    # --- the guest ----------------------------------------------------------------------------------------
    def console(self, vm: str, container: str) -> list[str]:
        return guest.console_lines(self.host_path(container, SERIAL_LOG.format(name=vm)))

    def wait_console(self, vm: str, container: str, predicate, timeout: float = 120) -> list[str]:
        """Wait until the guest's console lines satisfy `predicate`; the lines."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.console(vm, container)
            if predicate(lines):
                return lines
            assert time.monotonic() < deadline, f"guest {vm} on {container}: waited {timeout} s, console: {lines[-5:]}"
            time.sleep(0.2)

    def disk_state(self, vm: str) -> guest.DiskState:
        view = self.rockscc(vm)
        return guest.DiskState.read(self.host_path(view["container"], view["disks"][0]))

    def allocated(self, container: str, path: str) -> int:
        return self.host_path(container, path).stat().st_blocks * 512


def _disks(xml: str) -> dict[str, str]:
    root = etree.fromstring(xml.encode())
    return {d.find("target").get("dev"): d.find("source").get("file") for d in root.iterfind("devices/disk")}


def beats(lines: list[str]) -> list[tuple[int, int, str]]:
    """(boot, n, ok|BAD) of the guest's heartbeat lines."""
    out = []
    for line in lines:
        words = line.split()
        if len(words) == 4 and words[0] == "beat":
            out.append((int(words[1]), int(words[2]), words[3]))
    return out
