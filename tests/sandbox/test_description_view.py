"""The description's view in the sandbox (an `<eval>` naming `rocks` gets it) holds the description's
trees and its rolls, and nothing of the build host beyond them: a roll path in cluster.toml that
names the host's root, and a file system mounted below a real roll, stay out. The probe is a host
Unix socket anyone may connect to (as /run/dbus's is): reaching it is reaching the host."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.sandbox.conftest import node_with_eval

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox's cgroups need root on this machine kind")

VIEW_ROLL = "/opt/rockscc/description/rolls/outside"


class Listener:
    """A Unix socket on the host (mode 0777 in a 0755 directory); `accepted` counts connections."""

    def __init__(self, path: Path) -> None:
        self.accepted = 0
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(str(path))
        os.chmod(path, 0o777)
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                self.sock.accept()[0].close()
                self.accepted += 1
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


def connect_eval(site: Path, inside: str) -> str:
    """An eval that names `rocks` (so it gets the view) and connects to `inside`."""
    node_with_eval(
        site / "nodes" / "extend-compute.xml",
        "# rocks\nimport socket\ns = socket.socket(socket.AF_UNIX)\ntry:\n"
        f"    s.connect({inside!r})\n    print('PROBE CONNECTED')\n"
        "except OSError as exc:\n    print('PROBE REFUSED', exc.errno)\n",
    )
    result = run_cli("-C", str(site), "list", "host", "profile", "compute-0-0")
    assert result.rc == 0, result.err
    return result.out


def add_roll_record(site: Path, path: str) -> None:
    """What an attacker who can edit cluster.toml writes (no `add roll`, which checks the path)."""
    with open(site / "cluster.toml", "a") as fh:
        fh.write(f'\n[rolls.outside]\npath = "{path}"\n')


def socket_unreached(site, roll_path: str, sock: Path, seen_as: str) -> None:
    """With a roll at `roll_path`, an eval naming `rocks` tries the socket at `seen_as` in its
    view: the host's listener on `sock` must see nobody."""
    listener = Listener(sock)
    try:
        add_roll_record(site, roll_path)
        out = connect_eval(site, f"{VIEW_ROLL}{seen_as}")
        assert "PROBE REFUSED" in out, out[-2000:]
        assert listener.accepted == 0
    finally:
        listener.close()


def _roll_at_root(site) -> str:
    return "/"


def _roll_linked_to_root(site) -> str:
    (site / "rolls").mkdir(exist_ok=True)
    (site / "rolls" / "outside").symlink_to("/")
    return "rolls/outside"


@pytest.mark.parametrize("roll_path", [_roll_at_root, _roll_linked_to_root], ids=["path", "link"])
def test_a_roll_naming_the_host_root_brings_nothing_of_the_host(site, roll_path):
    """A roll path of `/` in cluster.toml, or a rolls/ link to it: an eval naming `rocks` must not
    reach a socket listening on the host."""
    directory = Path(tempfile.mkdtemp(prefix="rockscc-host-", dir="/tmp"))
    try:
        directory.chmod(0o755)
        socket_unreached(site, roll_path(site), directory / "s.sock", f"{directory}/s.sock")
    finally:
        for entry in directory.iterdir():
            entry.unlink()
        directory.rmdir()


def test_a_file_system_mounted_below_a_roll_stays_out(site, tmp_path):
    """A real roll (it has nodes/) with a tmpfs mounted inside it: the view binds the roll's own
    directory, not the mounts below it."""
    roll = tmp_path / "roll"
    (roll / "nodes").mkdir(parents=True)
    (roll / "mnt").mkdir()
    roll.chmod(0o755)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(roll / "mnt")], check=True)
    try:
        socket_unreached(site, str(roll), roll / "mnt" / "s.sock", "/mnt/s.sock")
    finally:
        subprocess.run(["umount", str(roll / "mnt")], check=True)
