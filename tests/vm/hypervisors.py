"""Two real hypervisor hosts on one machine, for the real-hypervisor tests: each a system libvirtd
(with its virtlogd) driving QEMU under software emulation, in its own network namespace and its
own mount namespace, where /run/libvirt, /var/lib/libvirt, /etc/libvirt, /var/log/libvirt and
/var/cache/libvirt are private directories of the test. The two are joined by a veth pair, so a
live migration crosses a network, and a file on one is not a file on the other: exactly as two VM
containers. The client reaches each daemon through its socket (qemu+unix:///system?socket=…).

Only this module starts libvirt daemons in the test suite. Everything it starts it stops by pid,
in bounded time, and the namespaces are deleted.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CAPS_CACHE = REPO / ".cache" / "libvirt-qemu-caps"  # QEMU capability probes (~8 s each) kept between runs
PRIVATE = {
    "/run/libvirt": "run",
    "/var/lib/libvirt": "lib",
    "/etc/libvirt": "etc",
    "/var/log/libvirt": "log",
    "/var/cache/libvirt": "cache",
}
QEMU_CONF = """# test daemon: no cgroups (two daemons would share the host's), no confinement, QEMU as root and
# in the daemon's own mount namespace (a private /dev per QEMU fails here once the machine is busy)
cgroup_controllers = [ ]
namespaces = [ ]
security_driver = "none"
user = "root"
group = "root"
dynamic_ownership = 0
"""
# libvirt runs /etc/libvirt/hooks/qemu before starting any domain; a non-zero exit refuses it. The
# tests make a daemon refuse restores (and starts) by creating /etc/libvirt/refuse.
HOOK = """#!/bin/sh
[ "$2" = prepare ] && [ -e /etc/libvirt/refuse ] && { echo "refused by the test's hook" >&2; exit 1; }
exit 0
"""
TIMEOUT = 60


class Hypervisor:
    """One libvirtd in its own namespaces."""

    def __init__(self, base: Path, netns: str, addresses: list[str]) -> None:
        self.base, self.netns, self.addresses = base, netns, addresses
        self.uri = f"qemu+unix:///system?socket={base / 'run' / 'libvirt-sock'}"

    # --- paths ---------------------------------------------------------------------------------------
    def host_path(self, path: str) -> Path:
        """Where a path of this hypervisor's file system is, seen from the test."""
        for inside, mine in PRIVATE.items():
            if path == inside or path.startswith(inside + "/"):
                return self.base / mine / path[len(inside) :].lstrip("/")
        raise ValueError(f"{path} is not in a private directory of the test hypervisor")

    def pid(self, daemon: str) -> int | None:
        with contextlib.suppress(OSError, ValueError):
            pid = int((self.base / "run" / f"{daemon}.pid").read_text())
            os.kill(pid, 0)
            return pid
        return None

    # --- life ----------------------------------------------------------------------------------------
    def prepare(self) -> None:
        for mine in PRIVATE.values():
            (self.base / mine).mkdir(parents=True, exist_ok=True)
        self.base.chmod(0o755)
        (self.base / "log" / "qemu").mkdir(exist_ok=True)
        etc = self.base / "etc"
        (etc / "libvirtd.conf").write_text(
            f'host_uuid = "{uuid.uuid4()}"\nlog_outputs = "3:file:/var/log/libvirt/libvirtd.log"\n'
        )
        (etc / "qemu.conf").write_text(QEMU_CONF)
        (etc / "hooks").mkdir(exist_ok=True)
        (etc / "hooks" / "qemu").write_text(HOOK)
        (etc / "hooks" / "qemu").chmod(0o755)
        caps = self.base / "cache" / "qemu" / "capabilities"
        if CAPS_CACHE.is_dir():
            shutil.copytree(CAPS_CACHE, caps, dirs_exist_ok=True)

    def start(self) -> None:
        """Start virtlogd and libvirtd inside the namespaces (the mount namespace is made here)."""
        binds = " && ".join(
            f"mkdir -p {inside} && mount --bind {self.base / mine} {inside}" for inside, mine in PRIVATE.items()
        )
        script = f"{binds} && {self._daemons_cmd(virtlogd=True)}"
        _run(["ip", "netns", "exec", self.netns, "unshare", "--mount", "--propagation", "private", "sh", "-c", script])
        self.wait_until_answering()

    def restart_libvirtd(self) -> None:
        """Start libvirtd again in the namespaces virtlogd still holds (after a test killed it)."""
        holder = self.pid("virtlogd")
        assert holder, "virtlogd is gone: the namespaces cannot be entered again"
        _run(["nsenter", "-t", str(holder), "-m", "-n", "sh", "-c", self._daemons_cmd(virtlogd=False)])
        self.wait_until_answering()

    def inside(self, *argv: str) -> subprocess.CompletedProcess:
        """Run a command in the hypervisor's namespaces."""
        holder = self.pid("virtlogd")
        return subprocess.run(
            ["nsenter", "-t", str(holder), "-m", "-n", *argv], capture_output=True, text=True, timeout=TIMEOUT
        )

    def kill_libvirtd(self) -> None:
        pid = self.pid("libvirtd")
        if pid:
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid)
        with contextlib.suppress(FileNotFoundError):
            (self.base / "run" / "libvirtd.pid").unlink()

    def wait_until_answering(self) -> None:
        deadline = time.monotonic() + TIMEOUT
        while True:
            done = subprocess.run(["virsh", "-c", self.uri, "version"], capture_output=True, timeout=TIMEOUT)
            if done.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"libvirtd in {self.netns} did not answer: {done.stderr.decode()}\n{self.log_tail()}"
                )
            time.sleep(0.2)

    def stop(self) -> None:
        """Destroy every domain, stop the daemons by pid, kill any QEMU left over."""
        if self.pid("libvirtd"):
            names = subprocess.run(
                ["virsh", "-c", self.uri, "list", "--name"], capture_output=True, text=True, timeout=TIMEOUT
            ).stdout.split()
            for name in names:
                subprocess.run(["virsh", "-c", self.uri, "destroy", name], capture_output=True, timeout=TIMEOUT)
        for daemon in ("libvirtd", "virtlogd"):
            pid = self.pid(daemon)
            if pid:
                os.kill(pid, signal.SIGTERM)
                if not _wait_gone(pid, 15):
                    os.kill(pid, signal.SIGKILL)
                    _wait_gone(pid)
        for pid_file in (self.base / "run" / "qemu").glob("*.pid"):
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return (self.base / "log" / "libvirtd.log").read_text()[-3000:]
        return ""

    def _daemons_cmd(self, virtlogd: bool) -> str:
        libvirtd = "libvirtd --daemon --pid-file /run/libvirt/libvirtd.pid --config /etc/libvirt/libvirtd.conf"
        return ("virtlogd --daemon --pid-file /run/libvirt/virtlogd.pid && " if virtlogd else "") + libvirtd


class HypervisorPair:
    """Hypervisors a (10.99.0.1) and b (10.99.0.2 and .3) on a veth pair between their network namespaces."""

    def __init__(self, base: Path) -> None:
        tag = f"rockscc{os.getpid()}"
        self.netns = [f"{tag}a", f"{tag}b"]
        self.a = Hypervisor(base / "a", self.netns[0], ["10.99.0.1"])
        self.b = Hypervisor(base / "b", self.netns[1], ["10.99.0.2", "10.99.0.3"])
        self.veth = [f"r{os.getpid() % 10**7}a", f"r{os.getpid() % 10**7}b"]

    def start(self) -> None:
        for ns in self.netns:
            _run(["ip", "netns", "add", ns])
        _run(
            [
                "ip",
                "link",
                "add",
                self.veth[0],
                "netns",
                self.netns[0],
                "type",
                "veth",
                "peer",
                "name",
                self.veth[1],
                "netns",
                self.netns[1],
            ]
        )
        for hv, ns, dev in ((self.a, self.netns[0], self.veth[0]), (self.b, self.netns[1], self.veth[1])):
            for address in hv.addresses:
                _run(["ip", "-n", ns, "addr", "add", f"{address}/24", "dev", dev])
            _run(["ip", "-n", ns, "link", "set", dev, "up"])
            _run(["ip", "-n", ns, "link", "set", "lo", "up"])
        self.a.prepare()
        self.a.start()  # probes QEMU's capabilities when none are cached: b then reuses a's
        caps = self.a.base / "cache" / "qemu" / "capabilities"
        if caps.is_dir():
            shutil.copytree(caps, CAPS_CACHE, dirs_exist_ok=True)
        self.b.prepare()
        self.b.start()

    def stop(self) -> None:
        errors = []
        for hv in (self.a, self.b):
            try:
                hv.stop()
            except Exception as exc:  # keep going: the namespaces must go too
                errors.append(f"{hv.netns}: {exc}")
        for ns in self.netns:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=TIMEOUT)
        if errors:
            raise RuntimeError("; ".join(errors))


def missing_tools() -> list[str]:
    return [
        t
        for t in ("libvirtd", "virtlogd", "virsh", "qemu-system-x86_64", "ip", "unshare", "nsenter")
        if shutil.which(t) is None
    ]


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")


def _wait_gone(pid: int, seconds: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True  # a zombie nobody reaps is gone for our purposes
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.05)
    return False
