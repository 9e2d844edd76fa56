"""The HTTP service's per-address rules (provision/http.py `Routes`), exhaustively over hosts,
addresses and files, and against paths built to escape them; plus the threaded server itself
on the loopback (127.0.0.0/8 is all local, so any 127.x address can be a client)."""

from __future__ import annotations

import hashlib
import http.client
import os
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.model import load
from rockscc.provision.http import Routes, Server

HOSTS = {"compute-0-0": ("10.1.255.254", "52:54:00:00:00:01"), "compute-0-1": ("10.1.255.253", "52:54:00:00:00:02")}


@pytest.fixture
def routes(cluster_dir, rockscc, tmp_path):
    for name, (ip, mac) in HOSTS.items():
        assert rockscc(f"add host {name} ip={ip} mac={mac}").rc == 0
    assert rockscc("set host attr compute-0-1 pxe_mac_files yes").rc == 0
    assert rockscc("build --eval=no").rc == 0
    tree = tmp_path / "tree"
    (tree / "rocks-dist" / "lan" / "x86_64").mkdir(parents=True)
    (tree / "rocks-dist" / "lan" / "x86_64" / "comps.xml").write_text("<comps/>")
    (tmp_path / "secret").write_text("outside")
    os.symlink(tmp_path / "secret", tree / "escape")
    return Routes(load(cluster_dir), cluster_dir / "build", tree)


def own_files(name: str) -> list[str]:
    ip, mac = HOSTS[name]
    hexip = "".join(f"{int(o):02X}" for o in ip.split("."))
    return [f"/install/kickstart/{name}.ks", f"/pxelinux.cfg/{hexip}", f"/uefi/grub.cfg-{hexip}", f"/ipxe/{name}.ipxe"]


@pytest.mark.parametrize("asker", ["compute-0-0", "compute-0-1", None])
def test_each_host_gets_its_own_files_and_no_other_hosts(routes, asker):
    client = HOSTS[asker][0] if asker else "10.1.200.7"
    for owner in HOSTS:
        for path in own_files(owner):
            answer = routes.answer(client, "GET", path)
            if owner == asker:
                assert answer.status == 200 and answer.file.is_file(), path
            else:
                assert answer.status == 403, (client, path)
                assert "refused" in answer.note and owner in answer.note


def test_mac_named_files_belong_to_their_host(routes):
    path = "/pxelinux.cfg/01-52-54-00-00-00-02"
    assert routes.answer("10.1.255.253", "GET", path).status == 200
    assert routes.answer("10.1.255.254", "GET", path).status == 403
    assert routes.answer("10.1.255.254", "GET", "/uefi/grub.cfg-01-52-54-00-00-00-02").status == 403


def test_a_host_named_like_another_hosts_address_gets_none_of_its_files(cluster_dir, rockscc):
    assert rockscc("add host compute-0-0 ip=10.1.255.254").rc == 0
    assert rockscc("add host 0A01FFFE ip=10.1.255.250 membership=Compute").rc == 0  # compute-0-0's HEXIP as a name
    routes = Routes(load(cluster_dir), cluster_dir / "build")
    assert routes.answer("10.1.255.250", "GET", "/pxelinux.cfg/0A01FFFE").status == 403
    assert routes.answer("10.1.255.250", "GET", "/uefi/grub.cfg-0A01FFFE").status == 403
    assert routes.answer("10.1.255.254", "GET", "/ipxe/0A01FFFE.ipxe").status == 403
    assert routes.answer("10.1.255.250", "GET", "/ipxe/0A01FFFE.ipxe").status == 404  # its own (not built here)


def test_kickstart_cgi_answers_each_address_with_its_own_kickstart(routes, cluster_dir):
    for name, (ip, _) in HOSTS.items():
        answer = routes.answer(ip, "GET", "/install/sbin/kickstart.cgi")
        assert answer.status == 200 and answer.file == cluster_dir / "build" / "kickstart" / f"{name}.ks"
    assert routes.answer("10.1.200.7", "GET", "/install/sbin/kickstart.cgi").status == 403


def test_shared_files_go_to_anyone(routes):
    for path in (
        "/pxelinux.0",
        "/bootx64.efi",
        "/pxelinux.cfg/default",
        "/uefi/grub.cfg",
        "/memtest",
        "/install/rocks-dist/lan/x86_64/comps.xml",
    ):
        assert routes.answer("10.9.9.9", "GET", path).status == 200, path


@pytest.mark.parametrize(
    "path",
    [
        "/../../etc/passwd",
        "/pxelinux.cfg/../../kickstart/compute-0-0.ks",
        "/%2e%2e/kickstart/compute-0-0.ks",
        "/install/../kickstart/compute-0-0.ks",
        "/install/escape",
        "/install/kickstart/../sbin/kickstart.cgi",
        "/ipxe/compute-0-0.ipxe%00",
        "/uefi/grub.cfg-0A01FFFE/../grub.cfg-0A01FFFE",
    ],
)
def test_paths_built_to_escape_are_refused(routes, path):
    answer = routes.answer("10.1.255.253", "GET", path)  # compute-0-1 asking for compute-0-0's files
    assert answer.status in (400, 403, 404), path
    assert answer.file is None or "compute-0-0" not in str(answer.file)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.text(alphabet="/.%2e0AFaikp-_x", max_size=40), client=st.sampled_from(["10.1.255.254", "10.9.9.9"]))
def test_no_path_reaches_a_kickstart_but_the_askers_own(routes, path, client):
    answer = routes.answer(client, "GET", path)
    if answer.file is not None and answer.file.suffix == ".ks":
        assert client == "10.1.255.254" and answer.file.name == "compute-0-0.ks"


def test_install_done_callback_is_the_asking_hosts_only(routes):
    answer = routes.answer("10.1.255.254", "GET", "/install/sbin/public/setPxeboot.cgi")
    assert answer.callback == {"host": "compute-0-0", "action": "os"}
    answer = routes.answer("10.1.255.253", "POST", "/install/sbin/public/setPxeboot.cgi?action=install")
    assert answer.callback == {"host": "compute-0-1", "action": "install"}
    assert routes.answer("10.9.9.9", "GET", "/install/sbin/public/setPxeboot.cgi").status == 403


def test_the_server_answers_and_logs_by_the_connecting_address(cluster_dir, rockscc):
    """A real threaded server on 127.0.0.1; hosts on 127.x addresses, so the test connects
    from each host's own address."""
    assert rockscc("set network private subnet=127.0.0.0 netmask=255.0.0.0").rc == 0
    assert rockscc("add host compute-0-0 ip=127.1.255.254").rc == 0
    assert rockscc("add host compute-0-1 ip=127.1.255.253").rc == 0
    assert rockscc("build --eval=no").rc == 0
    lines: list[str] = []
    done: list[tuple[str, str]] = []
    server = Server(
        ("127.0.0.1", 0),
        Routes(load(cluster_dir), cluster_dir / "build"),
        lines.append,
        lambda host, action: done.append((host, action)) or (200, f"{host}: next boot {action}"),
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]

    def get(source: str, path: str) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response.status, body

    try:
        ks = (cluster_dir / "build" / "kickstart" / "compute-0-0.ks").read_bytes()
        status, body = get("127.1.255.254", "/install/sbin/kickstart.cgi")
        assert status == 200 and hashlib.sha256(body).digest() == hashlib.sha256(ks).digest()
        assert get("127.1.255.253", "/install/kickstart/compute-0-0.ks")[0] == 403
        status, body = get("127.9.9.9", "/pxelinux.0")
        assert status == 200 and body == Path("/usr/lib/PXELINUX/pxelinux.0").read_bytes()
        assert get("127.1.255.253", "/install/sbin/public/setPxeboot.cgi")[0] == 200
        assert done == [("compute-0-1", "os")]
    finally:
        server.shutdown()
        server.server_close()
    refused = [line for line in lines if " 403 " in line]
    assert refused == [refused[0]] and "127.1.255.253 (compute-0-1)" in refused[0]
    assert "refused: the kickstart of compute-0-0, asked from the address of compute-0-1" in refused[0]
    assert any("127.1.255.254 (compute-0-0) GET /install/sbin/kickstart.cgi 200" in line for line in lines)


def test_a_kickstart_replaced_by_a_link_is_not_served(routes, cluster_dir, tmp_path):
    """A link planted in build/kickstart/ (the build writes files, never links) names anything
    root may read: its host asking is refused, not handed /etc/shadow."""
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$secret:19000::::::\n")
    secret.chmod(0o600)
    kickstart = cluster_dir / "build" / "kickstart" / "compute-0-0.ks"
    kickstart.unlink()
    kickstart.symlink_to(secret)
    for path in ("/install/kickstart/compute-0-0.ks", "/install/sbin/kickstart.cgi"):
        answer = routes.answer(HOSTS["compute-0-0"][0], "GET", path)
        assert answer.status == 403 and answer.file is None, (path, answer)
        assert "is a link" in answer.note


def test_a_basedir_of_several_segments_is_served_where_the_boot_files_say(cluster_dir, rockscc):
    """Kickstart_PrivateKickstartBasedir=install/c1 is a valid URL path and the boot files
    name ks=http://…/install/c1/sbin/kickstart.cgi, but serve compared the first segment
    alone with "install/c1": no host ever got its kickstart (403 from the TFTP tree)."""
    assert rockscc("add host compute-0-0 ip=10.1.255.254").rc == 0
    assert rockscc("set attr Kickstart_PrivateKickstartBasedir /install/c1/").rc == 0
    assert rockscc("build --eval=no").rc == 0
    boot = (cluster_dir / "build" / "tftp" / "pxelinux.cfg" / "0A01FFFE").read_text()
    assert "/install/c1/sbin/kickstart.cgi" in boot
    routes = Routes(load(cluster_dir), cluster_dir / "build")
    answer = routes.answer("10.1.255.254", "GET", "/install/c1/sbin/kickstart.cgi")
    assert answer.status == 200 and answer.file.name == "compute-0-0.ks", answer
    assert routes.answer("10.1.255.254", "GET", "/install/c1/kickstart/compute-0-0.ks").status == 200
    assert routes.answer("10.1.255.254", "GET", "/install/c1/sbin/public/setPxeboot.cgi").callback
    assert routes.answer("10.1.255.253", "GET", "/install/c1/kickstart/compute-0-0.ks").status == 403
