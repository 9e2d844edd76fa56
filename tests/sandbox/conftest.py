"""Fixtures for the hostile-program suite: host-side listeners a sandboxed program must not
reach, and the three ways user code runs at build time (an <eval>, a %pre in a build, `test
partition`)."""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import run_cli


@dataclass
class HostSockets:
    unix_path: str  # a Unix socket on the host's file system
    abstract: str  # an abstract Unix socket (the host's network namespace)
    tcp_port: int  # a TCP listener on the host's loopback
    connections: list  # what reached them


@pytest.fixture
def host_sockets(tmp_path):
    """Listeners on the host, named after this test process; closed afterwards."""
    connections: list = []
    unix_path = str(tmp_path / f"host-{os.getpid()}.sock")
    listeners = [socket.socket(socket.AF_UNIX), socket.socket(socket.AF_UNIX), socket.socket()]
    listeners[0].bind(unix_path)
    abstract = f"rockscc-test-{os.getpid()}"
    listeners[1].bind("\0" + abstract)
    listeners[2].bind(("127.0.0.1", 0))
    for listener in listeners:
        listener.listen(8)
        listener.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            for listener in listeners:
                try:
                    conn, _ = listener.accept()
                    connections.append(listener.getsockname())
                    conn.close()
                except OSError:
                    pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield HostSockets(unix_path, abstract, listeners[2].getsockname()[1], connections)
    stop.set()
    thread.join(timeout=5)
    for listener in listeners:
        listener.close()


def node_with_pre(path: Path, body: str, python: bool = True) -> Path:
    arg = ' arg="--interpreter /opt/rocks/bin/python"' if python else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<kickstart>\n<pre{arg}><![CDATA[\n{body}\n]]></pre>\n</kickstart>\n")
    return path


def node_with_eval(path: Path, body: str, shell: str = "python") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'<kickstart>\n<post>\nEVAL-BEGIN\n<eval shell="{shell}"><![CDATA[\n{body}\n]]></eval>\nEVAL-END\n'
        "</post>\n</kickstart>\n"
    )
    return path


@pytest.fixture
def site(cluster_dir):
    """A description with a one-disk compute host whose site node files the test writes."""
    for line in (
        "add hwprofile d disks=sda:80G",
        "add host compute-0-0",
        "add host compute-0-1",
        "set host hwprofile compute-0-0 d",
        "set host hwprofile compute-0-1 d",
    ):
        assert run_cli("-C", str(cluster_dir), *line.split()).rc == 0
    return cluster_dir
