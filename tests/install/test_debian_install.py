"""An unattended Debian install from rockscc's artifacts (kickstart_dialect=debian12), for real: a
QEMU guest (software emulation) with an empty virtual disk PXE-boots the Debian installer from
`rockscc serve` in a private network namespace; the installer fetches the preseed rockscc compiled
for the guest's address, installs from the offline mirror scripts/debian-mirror assembled (served
as the install tree), calls back (install-done), reboots from its disk, and its serial console
shows a login prompt. Then, on the powered-off disk image: the partition table is the one
`list host partition plan` printed (order, sizes within partman's 1 MiB alignment), grub's kernel
line carries the host's boot flags, and a <file> and a <post> of the test's node files are there
with their contents and modes.

Stage one (the installer boots from serve, loads the preseed, finds the mirror and starts
loading its components from it: d-i's own log, sent to a syslog listener of the test) runs
wherever QEMU does. The install itself needs every udeb the installer loads in the mirror: when
the Debian archive reachable from here refused some (scripts/debian-mirror lists them in
.cache/debian12/missing), the test says so and skips the rest rather than pretend.

Stage one is marked `netboot` and runs with the rest of the suite (about ten minutes under TCG
here); the install is marked `install`, which the default test run leaves out (pyproject's addopts):
.venv/bin/python -m pytest -m install -s tests/install runs it (tens of minutes under TCG).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rockscc.model.defaults import DEBIAN12_INSTALL_ARGS, DEBIAN12_INSTALL_COMMAND
from tests.boot.guests import Guest, require_qemu, serve_in
from tests.conftest import REPO, run_cli
from tests.netns import PrivateNet, require_root_and_tools, wait_for

pytestmark = [pytest.mark.qemu]
CACHE = REPO / ".cache" / "debian12"
MAC = "52:54:00:19:00:01"
FLAGS = "console=ttyS0,115200 rockscc.installed=yes"
SYSLOG_PORT = 5140
DISTRIBUTION = "rocks-dist/lan/x86_64"  # the intrinsic attribute Node_Distribution of an x86_64 host


def tree_of(link: Path) -> Path:
    return Path(str(link)[: -len(DISTRIBUTION) - 1])


DISK = 16 * 1024**3
NODE = """<?xml version="1.0"?>
<kickstart>
<package>less</package>
<post>
<file name="/etc/rockscc-test/hello.txt" perms="0640">
installed by rockscc for &hostname;
</file>
echo "post ran on $(cat /etc/hostname)" &gt; /root/rockscc-post.txt
chmod 0600 /root/rockscc-post.txt
</post>
</kickstart>
"""


def cli(root: Path, command: str):
    result = run_cli("-C", str(root), *shlex.split(command))
    assert result.rc == 0, (command, result.err)
    return result


def describe(root: Path, mirror: Path) -> None:
    """A description with one debian12 compute node on a 16 GiB virtio disk, installing from the
    offline mirror (the install tree serve exports, at /install/rocks-dist/lan/x86_64)."""
    assert run_cli("init", str(root), "password=secret", "xen=no").rc == 0
    (root / "nodes").mkdir(exist_ok=True)
    (root / "nodes" / "extend-compute.xml").write_text(NODE)
    for line in (
        f"add host compute-0-0 mac={MAC}",
        "add hwprofile vm disks=vda:16G",
        "set host hwprofile compute-0-0 vm",
        f"set host bootflags compute-0-0 flags='{FLAGS}'",
        "set appliance attr compute kickstart_dialect debian12",
        "set appliance attr compute debian_allow_unauthenticated yes",
        f"set attr install_tree {tree_of(mirror)}",
        f'add host pxeaction action="install debian12" command="{DEBIAN12_INSTALL_COMMAND}" '
        f'args="{DEBIAN12_INSTALL_ARGS} console=ttyS0,115200 log_host=10.1.1.1 log_port={SYSLOG_PORT}"',
        "set host pxeboot compute-0-0 action=install",
    ):
        cli(root, line)
    subprocess.run(
        [str(REPO / "scripts" / "debian-mirror"), "--netboot-only", "--tftpboot", str(root / "tftpboot")],
        check=True,
        capture_output=True,
    )
    cli(root, "build")


def syslog_listener(net: PrivateNet, log: Path) -> subprocess.Popen:
    program = (
        "import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
        f"s.bind(('10.1.1.1',{SYSLOG_PORT}))\nf=open(sys.argv[1],'ab',0)\n"
        "while True:\n d=s.recv(65536)\n f.write(d.rstrip(b'\\n')+b'\\n')\n"
    )
    return net.popen([sys.executable, "-c", program, str(log)])


def mirror_for(root: Path) -> tuple[Path, list[str]]:
    """The offline mirror with what the host's preseed asks pkgsel for; the udebs upstream refused."""
    preseed = (root / "build" / "kickstart" / "compute-0-0.ks").read_text()
    include = re.search(r"^d-i pkgsel/include string (.*)$", preseed, re.M)[1].split()
    done = subprocess.run(
        [str(REPO / "scripts" / "debian-mirror"), *include], capture_output=True, text=True, timeout=3600
    )
    assert done.returncode in (0, 3), done.stderr
    missing = (CACHE / "missing").read_text().split() if done.returncode == 3 else []
    return CACHE / "mirror", missing


@pytest.fixture(scope="module")
def install(tmp_path_factory, request):
    require_root_and_tools("dnsmasq", "sfdisk", "debugfs")
    require_qemu(CACHE.parent / "pxe" / "vmlinuz")
    tmp = tmp_path_factory.mktemp("install")
    link = tmp / "tree" / DISTRIBUTION  # Node_Distribution: where <url> (nodes/base.xml) points
    link.parent.mkdir(parents=True)
    root = tmp / "cluster"
    describe(root, link)
    mirror, missing = mirror_for(root)
    # serve refuses links out of the tree: a copy of hard links
    subprocess.run(["cp", "-al", str(mirror), str(link)], check=True)
    disk = tmp / "vda.img"
    with disk.open("wb") as fh:
        fh.truncate(DISK)
    times: dict[str, float] = {}
    started = time.monotonic()
    with PrivateNet() as net:
        syslog, serve_log, console = tmp / "d-i.log", tmp / "serve.log", tmp / "console.log"
        syslog.touch()
        syslog_listener(net, syslog)
        server = serve_in(net, root, serve_log)
        guest = Guest(net, "compute-0-0", MAC, console, memory=1024, disk=disk, reboot=True)

        def seen(pattern: str) -> bool:
            return re.search(pattern, syslog.read_text(errors="replace")) is not None

        assert wait_for(lambda: seen(r"successfully loaded preseed file") or not guest.running(), 900, 2), (
            f"the installer did not load its preseed:\n{syslog.read_text()[-3000:]}\n{serve_log.read_text()[-2000:]}"
        )
        times["preseed loaded"] = time.monotonic() - started
        udeb = re.compile(r"GET /install/rocks-dist/lan/x86_64/pool/udeb/\S+\.udeb 200")
        assert wait_for(lambda: udeb.search(serve_log.read_text()) or not guest.running(), 900, 2), (
            f"the installer did not load components from the mirror:\n{syslog.read_text()[-3000:]}"
        )
        times["components from the mirror"] = time.monotonic() - started
        stage_one = {"syslog": syslog.read_text(errors="replace"), "serve": serve_log.read_text(), "times": dict(times)}
        full = any(item.get_closest_marker("install") for item in request.session.items)
        if missing or not full:
            guest.stop()
            net.stop(server)
            return {"stage_one": stage_one, "missing": missing}
        # the install: partitioning, base system, packages, grub, the late command (install-done),
        # the reboot, and the installed system's login prompt on the serial console
        assert wait_for(lambda: "install done" in serve_log.read_text() or not guest.running(), 5400, 10), (
            f"no install-done callback:\n{syslog.read_text()[-4000:]}"
        )
        times["install-done callback"] = time.monotonic() - started
        assert wait_for(lambda: re.search(r"compute-0-0 login:", guest.console()) or not guest.running(), 900, 5), (
            f"no login prompt after the reboot:\n{guest.console()[-3000:]}"
        )
        times["login prompt"] = time.monotonic() - started
        guest.stop()
        net.stop(server)
    plan = json.loads(cli(root, "list host partition plan compute-0-0 output-format=json").out)
    return {
        "stage_one": stage_one,
        "missing": [],
        "disk": disk,
        "plan": plan,
        "root": root,
        "times": times,
        "syslog": syslog.read_text(errors="replace"),
        "serve": serve_log.read_text(),
    }


@pytest.mark.netboot
def test_the_installer_boots_from_serve_and_loads_the_preseed_compiled_for_the_guest(install):
    stage = install["stage_one"]
    print(f"\ninstall stage one: {stage['times']}")
    assert re.search(r"http 10\.1\.\d+\.\d+ \(compute-0-0\) GET /install/sbin/kickstart\.cgi 200", stage["serve"])
    assert "successfully loaded preseed file from http://10.1.1.1/install/sbin/kickstart.cgi" in stage["syslog"]
    assert re.search(r"GET /install/rocks-dist/lan/x86_64/dists/bookworm/Release 200", stage["serve"])
    assert re.search(r"GET /install/rocks-dist/lan/x86_64/pool/udeb/\S+\.udeb 200", stage["serve"])
    assert re.search(r"anna\[\d+\]: DEBUG: retrieving", stage["syslog"])
    # the preseed's answers reached the installer: its locale, and the host name DHCP gave it
    assert "Preseeded debian-installer/locale = 'en_US.UTF-8'" in stage["syslog"]


@pytest.mark.install
def test_the_guest_installs_and_its_disk_holds_what_the_description_says(install):
    if install["missing"]:
        pytest.skip(
            f"the Debian archive reachable here refused {len(install['missing'])} of the installer's udebs "
            f"({', '.join(install['missing'][:6])}…): the mirror cannot carry an install"
        )
    print(f"\ninstall: {install['times']}")
    disk = install["disk"]
    table = json.loads(subprocess.run(["sfdisk", "-J", str(disk)], capture_output=True, text=True, check=True).stdout)
    made = {int(re.search(r"(\d+)$", p["node"])[1]): p for p in table["partitiontable"]["partitions"]}
    planned = {int(re.search(r"(\d+)$", p["device"])[1]): p for p in install["plan"]}
    assert sorted(made) == sorted(planned)  # the same partitions, numbered (so ordered) the same
    last = max(n for n, p in planned.items() if p["mountpoint"])
    for number, want in planned.items():  # sectors within partman's 1 MiB alignment
        got = made[number]
        assert abs(got["start"] - want["start"]) <= 2048, (got, want)
        if number != last and want["mountpoint"]:
            assert abs(got["size"] - (want["end"] - want["start"] + 1)) <= 2048, (got, want)
    root = next(n for n, p in planned.items() if p["mountpoint"] == "/")
    root_start = made[root]["start"] * 512
    grub = _debugfs(disk, root_start, "cat /boot/grub/grub.cfg")
    kernel_lines = [line for line in grub.splitlines() if line.strip().startswith("linux")]
    assert kernel_lines and all(FLAGS in line for line in kernel_lines), kernel_lines
    hello = _debugfs(disk, root_start, "cat /etc/rockscc-test/hello.txt")
    assert hello == "installed by rockscc for compute-0-0\n"
    assert "Mode:  0640" in _debugfs(disk, root_start, "stat /etc/rockscc-test/hello.txt")
    assert _debugfs(disk, root_start, "cat /root/rockscc-post.txt").startswith("post ran on compute-0-0")
    assert "Mode:  0600" in _debugfs(disk, root_start, "stat /root/rockscc-post.txt")


def _debugfs(disk: Path, offset: int, request: str) -> str:
    done = subprocess.run(
        ["debugfs", "-R", request, f"{disk}?offset={offset}"], capture_output=True, text=True, timeout=60
    )
    return done.stdout
