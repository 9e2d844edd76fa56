"""`rockscc serve` as a real process on the loopback, with no daemon (dhcp=none tftp=no): what
it does when the description or the build changes under it. Unprivileged-ish: no namespace,
a high port on 127.0.0.1 (the hosts on 127.x addresses, so a test can connect as each)."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def served(cluster_dir, rockscc, tmp_path):
    """(root, port, log file) of a serve started on 127.0.0.1 and stopped after the test."""
    assert rockscc("set network private subnet=127.0.0.0 netmask=255.0.0.0").rc == 0
    assert rockscc("add host compute-0-0 ip=127.1.255.254").rc == 0
    assert rockscc("build --eval=no").rc == 0
    port = free_port()
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "rockscc", "-C", str(cluster_dir), "serve", "address=127.0.0.1"]
    with open(log, "w") as out:
        proc = subprocess.Popen([*command, f"port={port}", "dhcp=none", "tftp=no"], stdout=out, stderr=out)
    try:
        assert wait_for(lambda: "Ctrl-C stops" in log.read_text() or proc.poll() is not None), log.read_text()
        yield proc, port, log
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)


def get(port: int, source: str, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    connection.request("GET", path)
    status = connection.getresponse().status
    connection.close()
    return status


def test_hosts_dir_replaced_by_hand_keeps_serve_running(served, cluster_dir):
    """hosts/ moved away and a file put in its place (a sloppy admin, mid-edit) made serve exit
    with `error - …/hosts: cannot read: Not a directory`, stopping every machine's services; it
    keeps the hosts it has, says so once, and reads them again when hosts/ is back."""
    proc, port, log = served
    hosts = cluster_dir / "hosts"
    os.rename(hosts, cluster_dir / "hosts.moved")
    hosts.write_text("")
    assert wait_for(lambda: "cannot be read" in log.read_text() or proc.poll() is not None), log.read_text()
    time.sleep(1)
    assert proc.poll() is None, log.read_text()
    assert log.read_text().count("cannot be read") == 1
    assert get(port, "127.1.255.254", "/install/sbin/kickstart.cgi") == 200  # the hosts it had
    hosts.unlink()
    shutil.copytree(cluster_dir / "hosts.moved", hosts)
    (hosts / "compute-0-0.toml").write_text(
        (hosts / "compute-0-0.toml").read_text().replace("127.1.255.254", "127.1.255.250")
    )
    assert wait_for(lambda: "hosts reloaded" in log.read_text()), log.read_text()
    assert get(port, "127.1.255.254", "/install/sbin/kickstart.cgi") == 403  # the files as they are now
    assert get(port, "127.1.255.250", "/install/sbin/kickstart.cgi") == 200
