"""A private network for tests that run real daemons and guests: a network namespace the test
creates, holding a bridge with the server's address and the tap and veth devices of its
clients. Nothing is created outside it. Names carry the test process's pid (unique per run);
`close()` stops every process the test started in it (by pid) and deletes the namespace."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

_serial = itertools.count()


def require_root_and_tools(*tools: str) -> None:
    """Skip without root (namespaces need it); fail when a tool setup installs is missing."""
    if os.geteuid() != 0:
        pytest.skip("needs root: creates a network namespace")
    missing = [t for t in ("ip", *tools) if shutil.which(t) is None and not Path("/usr/sbin", t).exists()]
    if missing:
        pytest.fail(f"needs {', '.join(missing)}: run scripts/setup")


class PrivateNet:
    def __init__(self, address: str = "10.1.1.1/16") -> None:
        tag = f"{os.getpid()}{next(_serial)}"
        self.name = f"rockscc-test-{tag}"
        self.bridge = f"rbr{tag}"[:15]
        self.tag = tag
        self.address = address.split("/")[0]
        self.procs: list[subprocess.Popen] = []
        self.devices = itertools.count()
        self._scratch: Path | None = None
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        try:
            for argv in (
                ["ip", "link", "set", "lo", "up"],
                ["ip", "link", "add", self.bridge, "type", "bridge"],
                ["ip", "addr", "add", address, "dev", self.bridge],
                ["ip", "link", "set", self.bridge, "up"],
            ):
                self.run(argv)
        except Exception:
            self.close()
            raise

    def advertise_ipv6_router(self) -> None:
        """Router advertisements on the bridge (a test-owned dnsmasq, RA only): iPXE configures
        IPv6 beside DHCP and waits seconds for a router before it boots when none answers."""
        self.run(["ip", "-6", "addr", "add", "fd18::1/64", "dev", self.bridge])
        # its own pid and lease files: dnsmasq replaces and deletes them (never name a device here)
        state = self.scratch()
        (state / "empty.conf").write_text("")
        self.popen(
            [
                "dnsmasq",
                "--keep-in-foreground",
                f"--conf-file={state}/empty.conf",
                "--port=0",
                "--enable-ra",
                f"--interface={self.bridge}",
                "--bind-interfaces",
                "--dhcp-range=fd18::,ra-only",
                f"--pid-file={state}/ra.pid",
                f"--dhcp-leasefile={state}/ra.leases",
                "--user=root",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def scratch(self) -> Path:
        """A directory of the test's own, deleted with the namespace."""
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        return self._scratch

    def run(self, argv: list[str], **kw) -> subprocess.CompletedProcess:
        kw.setdefault("check", True)
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("timeout", 60)
        return subprocess.run(["ip", "netns", "exec", self.name, *argv], **kw)

    def popen(self, argv: list[str], **kw) -> subprocess.Popen:
        proc = subprocess.Popen(["ip", "netns", "exec", self.name, *argv], **kw)
        self.procs.append(proc)
        return proc

    def tap(self) -> str:
        """A tap device on the bridge, for a QEMU guest."""
        name = f"rtp{self.tag}{next(self.devices)}"[-15:]
        self.run(["ip", "tuntap", "add", name, "mode", "tap"])
        self.run(["ip", "link", "set", name, "master", self.bridge, "up"])
        return name

    def veth(self, mac: str | None = None) -> str:
        """A client interface (one end of a veth pair whose other end is on the bridge)."""
        index = next(self.devices)
        client, port = f"rvc{self.tag}{index}"[-15:], f"rvb{self.tag}{index}"[-15:]
        self.run(["ip", "link", "add", client, "type", "veth", "peer", "name", port])
        self.run(["ip", "link", "set", port, "master", self.bridge, "up"])
        if mac:
            self.run(["ip", "link", "set", client, "address", mac])
        self.run(["ip", "link", "set", client, "up"])
        return client

    def set_mac(self, interface: str, mac: str) -> None:
        self.run(["ip", "link", "set", interface, "down"])
        self.run(["ip", "link", "set", interface, "address", mac])
        self.run(["ip", "link", "set", interface, "up"])

    def pids(self) -> list[str]:
        """The processes running in the namespace (asked from outside it)."""
        return subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True).stdout.split()

    def stop(self, proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        """Stop one process the test started (its pid), waiting for it."""
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def close(self) -> None:
        for proc in self.procs:
            self.stop(proc)
        leftover = self.pids()
        for pid in leftover:  # children of the test's own processes, in the test's own namespace
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while leftover and time.monotonic() < deadline and self.pids():
            time.sleep(0.1)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> PrivateNet:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def wait_for(predicate, timeout: float, interval: float = 0.2):
    """The predicate's first true value within `timeout` seconds, else None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate() or None
