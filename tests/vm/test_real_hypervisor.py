"""The VM lifecycle on a real hypervisor stack: libvirtd with QEMU under software emulation,
driven by the rockscc command line from the compiled libvirt XML. The daemons are started here
when none runs, and stopped by pid afterwards."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from rockscc.runtime.connection import forget_connections
from tests.conftest import run_cli

pytestmark = pytest.mark.qemu
URI = "qemu:///system"


def _alive() -> bool:
    done = subprocess.run(["virsh", "-c", URI, "version"], capture_output=True, timeout=30)
    return done.returncode == 0


@pytest.fixture(scope="module")
def libvirtd(tmp_path_factory):
    for tool in ("libvirtd", "virtlogd", "virsh", "qemu-system-x86_64"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: run scripts/setup")
    if _alive():
        yield None
        return
    run_dir = tmp_path_factory.mktemp("libvirtd")
    pids = []
    for daemon in ("virtlogd", "libvirtd"):
        pid_file = run_dir / f"{daemon}.pid"
        subprocess.run([daemon, "--daemon", "--pid-file", str(pid_file)], check=True, timeout=60)
        deadline = time.monotonic() + 30
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        pids.append(int(pid_file.read_text()))
    deadline = time.monotonic() + 60
    while not _alive():
        if time.monotonic() > deadline:
            pytest.fail("libvirtd did not answer within 60 s")
        time.sleep(0.5)
    yield pids
    forget_connections()
    for pid in reversed(pids):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def test_lifecycle_with_qemu(libvirtd, cluster_dir):
    disks = Path(f"/var/lib/libvirt/images/rockscc-test-{os.getpid()}")
    run = lambda *argv: run_cli("-C", str(cluster_dir), *argv)  # noqa: E731
    vm = "compute-0-0-0"
    try:
        for cmd in (["add", "host", "vm-container-0-0"],
                    ["set", "host", "attr", "vm-container-0-0", "libvirt_uri", URI],
                    ["set", "host", "attr", "vm-container-0-0", "vm_hypervisor", "qemu"],
                    ["set", "host", "attr", "vm-container-0-0", "vm_network", "user"],
                    ["set", "host", "attr", "vm-container-0-0", "vm_disk_dir", str(disks)],
                    ["add", "host", "vm", "vm-container-0-0", "membership=Compute", "mem=256", "disksize=1"]):
            result = run(*cmd)
            assert result.rc == 0, (cmd, result.err)
        xml = (run("report", "host", "vm", "config", vm).out)
        assert "<domain type=\"qemu\">" in xml and '<boot dev="network"/>' in xml
        steps = [(["create", "host", "vm", vm], "active"), (["pause", "host", "vm", vm], "paused"),
                 (["resume", "host", "vm", vm], "active"), (["save", "host", "vm", vm], None),
                 (["restore", "host", "vm", vm], "active"), (["stop", "host", "vm", vm], None),
                 (["start", "host", "vm", vm], "active"), (["stop", "host", "vm", vm], None)]
        for argv, expected in steps:
            result = run(*argv)
            assert result.rc == 0, (argv, result.err)
            row = run("list", "host", "vm", vm).out.splitlines()[1].split()
            assert row[-1] == (expected or "-" * len("STATUS")), (argv, row)
        assert (disks / f"{vm}.hda").exists()
    finally:
        subprocess.run(["virsh", "-c", URI, "destroy", vm], capture_output=True)
        subprocess.run(["virsh", "-c", URI, "undefine", vm], capture_output=True)
        pool = "rockscc-" + str(disks).strip("/").replace("/", "-")
        subprocess.run(["virsh", "-c", URI, "pool-destroy", pool], capture_output=True)
        subprocess.run(["virsh", "-c", URI, "pool-undefine", pool], capture_output=True)
        shutil.rmtree(disks, ignore_errors=True)
        forget_connections()
