"""`rockscc serve` and `rockscc insert-ethers` with their real daemons, in a private network
namespace the test creates (a bridge holding the server's address, veth clients on it):
busybox's DHCP client asks as BIOS, UEFI and iPXE firmware would; dnsmasq and ISC dhcpd must
answer alike; the HTTP rules of serve and of the nginx config the build writes must agree."""

from __future__ import annotations

import hashlib
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rockscc.model import load
from tests.netns import PrivateNet, require_root_and_tools, wait_for

pytestmark = pytest.mark.netns
HELPER = Path(__file__).with_name("dhcp_client.py")
UDHCPC_SCRIPT = """#!/bin/sh
[ "$1" = bound ] && echo "BOUND ip=$ip boot_file=$boot_file siaddr=$siaddr hostname=$hostname"
exit 0
"""
# (vendor class, option 93, user class) of each kind of firmware
FIRMWARE = {
    "bios": ("PXEClient:Arch:00000:UNDI:002001", "0000", None),
    "uefi": ("PXEClient:Arch:00007:UNDI:003001", "0007", None),
    "ipxe": ("PXEClient:Arch:00000:UNDI:002001", "0000", "iPXE"),
    "ipxe-uefi": ("PXEClient:Arch:00007:UNDI:003001", "0007", "iPXE"),
}
IPXE_SCRIPT = "http://10.1.1.1/ipxe/${hostname}.ipxe"


@pytest.fixture
def net():
    require_root_and_tools("dnsmasq", "dhcpd", "busybox", "nginx")
    with PrivateNet() as private:
        yield private


@pytest.fixture
def described(cluster_dir, rockscc):
    for command in (
        "add host compute-0-0 mac=52:54:00:00:00:01",
        "add host compute-0-1 mac=52:54:00:00:00:02",
        "set host attr compute-0-1 pxe_ipxe no",
        "set attr dhcp_discovery_range 10.1.200.1-10.1.200.20",
    ):
        assert rockscc(command).rc == 0, command
    assert rockscc("build --eval=no").rc == 0
    return cluster_dir


def start_serve(net: PrivateNet, root: Path, log: Path, *args: str, **popen) -> subprocess.Popen:
    proc = net.popen(
        [sys.executable, "-m", "rockscc", "-C", str(root), "serve", *args],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        **popen,
    )
    if not wait_for(lambda: "Ctrl-C stops" in log.read_text() or proc.poll() is not None, 30):
        pytest.fail(f"serve did not start:\n{log.read_text()}")
    assert proc.poll() is None, log.read_text()
    return proc


def ask(net: PrivateNet, interface: str, mac: str, firmware: str, tmp_path: Path, tries: int = 4) -> dict | None:
    """One DHCP exchange as `firmware` with `mac`: what the server bound (None: no answer)."""
    script = tmp_path / "udhcpc.sh"
    if not script.exists():
        script.write_text(UDHCPC_SCRIPT)
        script.chmod(0o755)
    net.set_mac(interface, mac)
    vendor, arch, user_class = FIRMWARE[firmware]
    argv = [
        "busybox",
        "udhcpc",
        "-i",
        interface,
        "-n",
        "-q",
        "-t",
        str(tries),
        "-T",
        "2",
        "-s",
        str(script),
        "-V",
        vendor,
        "-x",
        f"0x5d:{arch}",
    ]
    if user_class:
        argv += ["-x", "0x4d:" + user_class.encode().hex()]
    out = net.run(argv, check=False).stdout
    line = next((text for text in out.splitlines() if text.startswith("BOUND ")), None)
    return dict(kv.split("=", 1) for kv in line.split()[1:]) if line else None


def test_ctrl_c_stops_serve_started_with_sigint_ignored(net, described, tmp_path):
    """A shell starts background jobs (`rockscc serve &`, a CI runner) with SIGINT ignored and
    Python then raises no KeyboardInterrupt: serve's own handler must still stop it, daemons too."""
    log = tmp_path / "serve.log"
    serve = start_serve(net, described, log, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    serve.send_signal(signal.SIGINT)
    try:
        assert serve.wait(20) == 0, log.read_text()
    finally:
        net.stop(serve, signal.SIGKILL)
    assert wait_for(lambda: not net.pids(), 10), net.pids()
    assert "stopped" in log.read_text().splitlines()[-1]


@pytest.mark.parametrize("dhcp", ["dnsmasq", "isc"])
def test_each_firmware_gets_its_loader_from_either_server(net, described, tmp_path, dhcp):
    serve = start_serve(net, described, tmp_path / "serve.log", f"dhcp={dhcp}")
    client = net.veth()
    expected = {  # compute-0-0: iPXE gets its script; compute-0-1 has pxe_ipxe=no
        ("52:54:00:00:00:01", "bios"): "pxelinux.0",
        ("52:54:00:00:00:01", "uefi"): "bootx64.efi",
        ("52:54:00:00:00:01", "ipxe"): IPXE_SCRIPT,
        ("52:54:00:00:00:01", "ipxe-uefi"): IPXE_SCRIPT,
        ("52:54:00:00:00:02", "bios"): "pxelinux.0",
        ("52:54:00:00:00:02", "uefi"): "bootx64.efi",
        ("52:54:00:00:00:02", "ipxe"): "pxelinux.0",
        ("52:54:00:00:00:02", "ipxe-uefi"): "bootx64.efi",
    }
    for (mac, firmware), boot_file in expected.items():
        bound = ask(net, client, mac, firmware, tmp_path)
        assert bound is not None, (dhcp, mac, firmware, (tmp_path / "serve.log").read_text()[-2000:])
        ip = "10.1.255.254" if mac.endswith("01") else "10.1.255.253"
        assert (bound["ip"], bound["boot_file"], bound["siaddr"]) == (ip, boot_file, "10.1.1.1"), (dhcp, firmware)
        assert bound["hostname"] == ("compute-0-0" if mac.endswith("01") else "compute-0-1")
    unknown = ask(net, client, "52:54:00:00:00:99", "bios", tmp_path)  # the discovery range: an address, no boot
    assert unknown is not None and unknown["ip"].startswith("10.1.200.") and unknown["boot_file"] == ""
    # TFTP serves the tree
    got = net.run(["busybox", "tftp", "-g", "-r", "pxelinux.0", "-l", str(tmp_path / "got"), "10.1.1.1"], check=False)
    assert got.returncode == 0 and (tmp_path / "got").read_bytes() == Path("/usr/lib/PXELINUX/pxelinux.0").read_bytes()
    assert net.stop(serve, signal.SIGINT) == 0
    assert wait_for(lambda: not net.pids(), 10), net.pids()  # the daemons went with it
    log = (tmp_path / "serve.log").read_text()
    assert "stopped" in log.splitlines()[-1]


def test_without_a_discovery_range_unknown_clients_get_no_answer(net, described, rockscc, tmp_path):
    assert rockscc("remove attr dhcp_discovery_range").rc == 0
    assert rockscc("build --eval=no").rc == 0
    start_serve(net, described, tmp_path / "serve.log")
    client = net.veth()
    assert ask(net, client, "52:54:00:00:00:98", "bios", tmp_path, tries=1) is None
    assert ask(net, client, "52:54:00:00:00:01", "bios", tmp_path) is not None


def test_serve_binds_only_where_told_and_stops_every_daemon(net, described, tmp_path):
    log = tmp_path / "serve.log"
    proc = net.popen(
        [sys.executable, "-m", "rockscc", "-C", str(described), "serve", "address=10.1.9.9"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    assert proc.wait(30) == 1
    assert "address 10.1.9.9 is on no interface here" in log.read_text()
    assert net.pids() == []  # nothing left running
    other = f"rbx{net.tag}"[:15]  # a second network on this machine: serve must not answer there
    for argv in (
        ["ip", "link", "add", other, "type", "bridge"],
        ["ip", "addr", "add", "10.9.0.1/16", "dev", other],
        ["ip", "link", "set", other, "up"],
    ):
        net.run(argv)
    outside = f"rvx{net.tag}"[:15]
    net.run(["ip", "link", "add", outside, "type", "veth", "peer", "name", f"rvy{net.tag}"[:15]])
    net.run(["ip", "link", "set", f"rvy{net.tag}"[:15], "master", other, "up"])
    net.run(["ip", "link", "set", outside, "up"])
    serve = start_serve(net, described, log)
    sockets = net.run(["ss", "-lnup"], check=False).stdout + net.run(["ss", "-lntp"], check=False).stdout
    assert "10.1.1.1:80 " in sockets and "0.0.0.0:80 " not in sockets and "*:80 " not in sockets
    assert "10.1.1.1:69 " in sockets and "10.9.0.1" not in sockets
    assert ask(net, outside, "52:54:00:00:00:01", "bios", tmp_path, tries=2) is None  # a known MAC, the wrong network
    assert len(net.pids()) >= 2  # serve and dnsmasq
    assert net.stop(serve, signal.SIGTERM) == 0
    assert wait_for(lambda: not net.pids(), 10), net.pids()


def test_a_daemon_that_dies_stops_serve_with_an_error(net, described, tmp_path):
    log = tmp_path / "serve.log"
    serve = start_serve(net, described, log)
    pid_file = described / "build" / ".rockscc-serve" / "dnsmasq.pid"
    # dnsmasq writes its pid file once it runs, which may be just after serve says it serves
    assert wait_for(lambda: pid_file.is_file() and pid_file.read_text().strip(), 10), log.read_text()
    pid = int(pid_file.read_text())
    net.run(["kill", "-9", str(pid)])
    assert serve.wait(30) == 1
    assert "dnsmasq exited" in log.read_text() and "a daemon exited" in log.read_text()


# --- the HTTP rules: serve and the nginx config agree ---------------------------------------------
def test_serve_and_the_nginx_config_answer_every_address_alike(net, described, tmp_path):
    for address in ("10.1.255.254", "10.1.255.253", "10.1.200.5"):  # compute-0-0, compute-0-1, no host
        net.run(["ip", "addr", "add", f"{address}/32", "dev", "lo"])
    start_serve(net, described, tmp_path / "serve.log", "dhcp=none", "tftp=no", "port=8080")
    build = described / "build"
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"user root;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\ndaemon off;\n"
        f"events {{}}\nhttp {{ access_log {tmp_path}/access.log; include {build}/net/nginx-rockscc.conf; }}\n"
    )
    net.popen(
        ["nginx", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(main)], stderr=subprocess.DEVNULL
    )
    paths = [
        "/install/sbin/kickstart.cgi",
        "/install/kickstart/compute-0-0.ks",
        "/install/kickstart/compute-0-1.ks",
        "/install/kickstart/nobody.ks",
        "/pxelinux.cfg/0A01FFFE",
        "/pxelinux.cfg/0A01FFFD",
        "/pxelinux.cfg/default",
        "/uefi/grub.cfg",
        "/uefi/grub.cfg-0A01FFFE",
        "/uefi/grub.cfg-0A01FFFD",
        "/ipxe/compute-0-0.ipxe",
        "/ipxe/compute-0-1.ipxe",
        "/pxelinux.0",
        "/bootx64.efi",
        "/no-such-file",
        "/install/rocks-dist/lan/x86_64/",
        "/pxelinux.cfg/../kickstart/compute-0-0.ks",
    ]
    wait_for(
        lambda: (
            net.run(
                ["busybox", "wget", "-q", "-O", "-", "http://10.1.1.1/pxelinux.0"], check=False, text=False
            ).returncode
            == 0
        ),
        10,
    )
    answers = {}
    for port in (8080, 80):
        for source in ("10.1.255.254", "10.1.255.253", "10.1.200.5"):
            out = net.run(
                [sys.executable, str(HELPER), "http", source, *(f"http://10.1.1.1:{port}{p}" for p in paths)]
            ).stdout
            for line, path in zip(out.splitlines(), paths):
                status, digest, _url = line.split()
                answers[(port, source, path)] = (int(status), digest if status == "200" else "")

    def agree(a, b, path):  # a dot-segment: nginx resolves it (then 404), serve refuses it (400)
        return a == b or (".." in path and a[0] >= 400 and b[0] >= 400)

    differ = {
        (s, p): (answers[(8080, s, p)], answers[(80, s, p)])
        for _, s, p in answers
        if not agree(answers[(8080, s, p)], answers[(80, s, p)], p)
    }
    assert not differ, differ
    own = {
        ("10.1.255.254", "/install/kickstart/compute-0-0.ks"),
        ("10.1.255.253", "/install/kickstart/compute-0-1.ks"),
        ("10.1.255.254", "/pxelinux.cfg/0A01FFFE"),
        ("10.1.255.253", "/pxelinux.cfg/0A01FFFD"),
        ("10.1.255.254", "/uefi/grub.cfg-0A01FFFE"),
        ("10.1.255.253", "/uefi/grub.cfg-0A01FFFD"),
        ("10.1.255.254", "/ipxe/compute-0-0.ipxe"),
        ("10.1.255.253", "/ipxe/compute-0-1.ipxe"),
    }
    for (port, source, path), (status, _digest) in answers.items():
        if path.startswith(("/install/kickstart/compute", "/pxelinux.cfg/0A", "/uefi/grub.cfg-", "/ipxe/")):
            assert status == (200 if (source, path) in own else 403), (port, source, path, status)
    ks = (build / "kickstart" / "compute-0-0.ks").read_bytes()
    assert answers[(80, "10.1.255.254", "/install/sbin/kickstart.cgi")] == (200, hashlib.sha256(ks).hexdigest())
    assert answers[(80, "10.1.200.5", "/install/sbin/kickstart.cgi")][0] == 403
    assert " 403 " in (tmp_path / "access.log").read_text()  # nginx logs its refusals too


# --- insert-ethers ---------------------------------------------------------------------------------
def start_insert_ethers(net: PrivateNet, root: Path, log: Path, *args: str) -> subprocess.Popen:
    proc = net.popen(
        [sys.executable, "-m", "rockscc", "-C", str(root), "insert-ethers", "eval=no", *args],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    if not wait_for(lambda: "watching DHCP requests" in log.read_text() or proc.poll() is not None, 30):
        pytest.fail(f"insert-ethers did not start:\n{log.read_text()}")
    assert proc.poll() is None, log.read_text()
    return proc


def send(net: PrivateNet, interface: str, macs: list[str], *extra: str) -> None:
    net.run([sys.executable, str(HELPER), "discover", interface, ",".join(macs), *extra])


def random_macs(count: int, rng: random.Random) -> list[str]:
    return ["52:54:01:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(3)) for _ in range(count)]


def test_insert_ethers_names_new_machines_in_power_on_order_and_they_boot(net, described, tmp_path, rockscc):
    """Known MACs and non-PXE requests are passed over; each new PXE client becomes the next
    compute-0-N with the next address, built at once, and its next DHCP retry boots it."""
    assert rockscc("remove attr dhcp_discovery_range").rc == 0
    assert rockscc("build --eval=no").rc == 0
    start_serve(net, described, tmp_path / "serve.log")
    log = tmp_path / "insert.log"
    insert = start_insert_ethers(net, described, log, "count=3")
    sender, client = net.veth(), net.veth()
    macs = random_macs(3, random.Random())
    send(net, sender, ["52:54:00:00:00:01"])  # compute-0-0's: known
    send(net, sender, ["52:54:00:aa:aa:aa"], "--vendor", "MSFT 5.0")  # not PXE firmware
    for index, mac in enumerate(macs):
        bound = ask(net, client, mac, "ipxe", tmp_path, tries=6)  # the firmware retries until it is answered
        name = f"compute-0-{index + 2}"
        assert bound is not None, log.read_text() + (tmp_path / "serve.log").read_text()[-1500:]
        assert bound["hostname"] == name and bound["boot_file"] == IPXE_SCRIPT
        assert bound["ip"] == f"10.1.255.{252 - index}"
    assert insert.wait(30) == 0
    cluster = load(described)
    assert [
        (n, cluster.hosts[n].interfaces[0].mac, cluster.hosts[n].pxeboot)
        for n in sorted(cluster.hosts)
        if n.startswith("compute-0-") and n not in ("compute-0-0", "compute-0-1")
    ] == [(f"compute-0-{i + 2}", mac, "install") for i, mac in enumerate(macs)]
    assert "52:54:00:aa:aa:aa" not in cluster.used_macs()
    for index in range(3):
        name = f"compute-0-{index + 2}"
        assert (described / "build" / "kickstart" / f"{name}.ks").is_file()
        assert (described / "build" / "tftp" / "ipxe" / f"{name}.ipxe").is_file()
    assert "3 added" in log.read_text()


def test_insert_ethers_appliance_rack_rank_and_pxe_only(net, described, tmp_path):
    log = tmp_path / "insert.log"
    start_insert_ethers(net, described, log, "appliance=NAS Appliance", "rack=2", "rank=5", "pxe-only=no", "count=2")
    sender = net.veth()
    send(net, sender, ["52:54:00:bb:00:01"], "--vendor", "")
    send(net, sender, ["52:54:00:bb:00:02"])
    assert wait_for(lambda: "2 added" in log.read_text(), 30), log.read_text()
    cluster = load(described)
    assert cluster.hosts["nas-2-5"].interfaces[0].mac == "52:54:00:bb:00:01"
    assert cluster.hosts["nas-2-6"].interfaces[0].mac == "52:54:00:bb:00:02"
    assert cluster.hosts["nas-2-6"].membership == "NAS Appliance" and cluster.hosts["nas-2-6"].rack == 2


def test_insert_ethers_record_mode_only_records_macs(net, described, tmp_path):
    before = (described / "cluster.toml").read_bytes()
    record = tmp_path / "macs.txt"
    log = tmp_path / "insert.log"
    start_insert_ethers(net, described, log, f"record={record}", "count=2")
    sender = net.veth()
    send(
        net,
        sender,
        ["52:54:00:cc:00:01", "52:54:00:00:00:01", "52:54:00:cc:00:01", "52:54:00:cc:00:02"],
        "--gap",
        "0.05",
    )
    assert wait_for(lambda: "2 recorded" in log.read_text(), 30), log.read_text()
    lines = [line.split("\t") for line in record.read_text().splitlines()]
    assert [line[0] for line in lines] == ["52:54:00:cc:00:01", "52:54:00:cc:00:02"]
    assert lines[0][2].startswith("PXEClient")
    assert (described / "cluster.toml").read_bytes() == before


def test_ctrl_c_at_any_moment_leaves_a_whole_description(net, described, tmp_path, rockscc):
    """Requests arrive fast; SIGINT comes at a random moment, several times over: every run
    leaves a description that loads, hosts named without gaps in arrival order, each the
    MAC of its request; a build afterwards completes them all."""
    rng = random.Random(18)
    sender = net.veth()
    macs = random_macs(40, rng)
    sent = 0
    for trial in range(3):
        log = tmp_path / f"insert-{trial}.log"
        insert = start_insert_ethers(net, described, log)
        batch = macs[sent : sent + 10]
        send(net, sender, batch, "--gap", "0.02")
        sent += len(batch)
        time.sleep(rng.uniform(0.0, 1.5))
        insert.send_signal(signal.SIGINT)
        assert insert.wait(60) == 0, log.read_text()
        cluster = load(described)
        added = sorted(
            (
                h
                for h in cluster.hosts.values()
                if h.name not in ("compute-0-0", "compute-0-1") and h.membership == "Compute"
            ),
            key=lambda h: h.rank,
        )
        assert [h.name for h in added] == [f"compute-0-{i + 2}" for i in range(len(added))]
        assert [h.interfaces[0].mac for h in added] == macs[: len(added)]  # arrival order, none skipped
        macs = [h.interfaces[0].mac for h in added] + [m for m in macs if m not in set(cluster.used_macs())]
        sent = len(added)
    assert rockscc("build --eval=no").rc == 0
    for host in added:
        assert (described / "build" / "kickstart" / f"{host.name}.ks").is_file()
