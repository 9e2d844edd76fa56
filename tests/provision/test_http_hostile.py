"""The HTTP server of `rockscc serve` against hostile clients on the loopback: a real threaded
server, real sockets. A machine on the provisioning network may be broken or malicious; one
client must never hold a thread forever nor make the server read or answer what it did not ask."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from rockscc.model import load
from rockscc.provision.http import Routes, Server


@pytest.fixture
def server(cluster_dir, rockscc):
    assert rockscc("set network private subnet=127.0.0.0 netmask=255.0.0.0").rc == 0
    assert rockscc("add host compute-0-0 ip=127.1.255.254").rc == 0
    assert rockscc("build --eval=no").rc == 0
    lines: list[str] = []
    server = Server(
        ("127.0.0.1", 0),
        Routes(load(cluster_dir), cluster_dir / "build"),
        lines.append,
        lambda host, action: (200, f"{host}: next boot {action}"),
    )
    server.lines = lines
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def connect(server: Server, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(server.server_address, timeout=10, source_address=(source, 0))
    return sock


def read_all(sock: socket.socket) -> bytes:
    data = bytearray()  # not bytes: 64 MiB appended to bytes is slow enough to be cut off
    while chunk := sock.recv(1 << 20):
        data += chunk
    return bytes(data)


def answers(data: bytes) -> list[bytes]:
    """The status lines of every answer in what a connection received."""
    return [line for line in data.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]


def test_a_silent_client_is_cut_off_and_a_large_file_still_goes_whole(server, cluster_dir):
    """Slowloris: a client that connects and says nothing, or asks for a file and stops
    reading it, held a thread and a descriptor forever (no timeout): a few hundred of them and
    no machine got its kickstart. Each is now cut off after `idle_timeout`; a large file still
    goes whole to a reader (the socket is non-blocking once it has a timeout)."""
    server.idle_timeout = 1
    big = cluster_dir / "build" / "tftp" / "big.img"
    with open(big, "wb") as out:
        out.truncate(64 << 20)  # sparse: more than the loopback's buffers hold
    silent = connect(server)
    stalled = connect(server)
    stalled.sendall(b"GET /big.img HTTP/1.1\r\nHost: x\r\n\r\n")
    started = time.monotonic()
    assert silent.recv(100) == b""  # closed by the server, well before the client's 10 s
    assert time.monotonic() - started < 5
    time.sleep(2.5)  # the stalled reader is cut off meanwhile: what it reads now ends short
    assert 0 < len(read_all(stalled)) < 64 << 20
    assert any("timed out" in line for line in server.lines), server.lines
    reader = connect(server)
    reader.sendall(b"GET /big.img HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    body = read_all(reader).split(b"\r\n\r\n", 1)[1]
    assert len(body) == 64 << 20 and body == bytes(64 << 20), (len(body), server.lines)
    for sock in (silent, stalled, reader):
        sock.close()


@pytest.mark.parametrize("length", [b"-1", b"abc", b"1e3", "\u00b2".encode("latin-1"), b"9" * 5000])
def test_a_bad_content_length_is_refused_not_read_forever(server, length):
    """Content-Length: -1 had the server read the connection until the client closed it (no
    answer, a thread held); a non-number was a ValueError and a dropped connection."""
    sock = connect(server)
    sock.settimeout(3)
    sock.sendall(
        b"POST /install/sbin/public/setPxeboot.cgi HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n"
    )
    assert [answer.split()[1] for answer in answers(read_all(sock))] in ([b"400"], [b"413"])
    sock.close()


@pytest.mark.parametrize(
    "head",
    [
        b"POST /pxelinux.0 HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n" + b"A" * 65536,
        b"GET /pxelinux.0 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
    ],
    ids=["body-over-64KiB", "chunked-body"],
)
def test_a_body_not_read_whole_is_never_answered_as_a_request(server, head):
    """The part of a body the server did not read was parsed as the connection's next request
    and answered: a client could make serve answer requests hidden in a body."""
    sock = connect(server, "127.1.255.254")
    sock.sendall(head + b"GET /install/sbin/kickstart.cgi HTTP/1.1\r\nHost: x\r\n\r\n" + b"B" * 100)
    sock.shutdown(socket.SHUT_WR)
    got = answers(read_all(sock))
    assert len(got) == 1 and got[0].split()[1] in (b"400", b"413"), got
    assert not any("kickstart.cgi" in line for line in server.lines), server.lines
    sock.close()


def test_a_name_too_long_is_a_404_not_a_dropped_connection(server):
    sock = connect(server)
    sock.sendall(b"GET /" + b"a" * 300 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answers(read_all(sock)) == [b"HTTP/1.1 404 Not Found"]
    sock.close()
    assert not any("ended early" in line for line in server.lines), server.lines


def test_control_characters_of_a_request_are_escaped_in_the_log(server):
    """A terminal escape in the path went raw into serve's log (clear the admin's screen, fake
    lines); it is written as \\x1b."""
    sock = connect(server)
    sock.sendall(b"GET /pxelinux.0\x1b[2J\x1b[1A\x07 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    read_all(sock)
    sock.close()
    time.sleep(0.1)
    assert any("GET /pxelinux.0\\x1b[2J\\x1b[1A\\x07 404" in line for line in server.lines), server.lines
    assert not any("\x1b" in line or "\x07" in line for line in server.lines)


def test_a_file_truncated_while_it_is_sent_ends_the_connection(server, cluster_dir):
    """A file cut short in place mid-transfer (an admin's `cp` over it) left the client waiting
    for bytes promised by Content-Length on a kept-alive connection; it is closed."""
    server.idle_timeout = 30
    big = cluster_dir / "build" / "tftp" / "big.img"
    with open(big, "wb") as out:
        out.truncate(256 << 20)  # sparse
    sock = connect(server)
    sock.sendall(b"GET /big.img HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.recv(4096)
    time.sleep(0.2)
    os.truncate(big, 1 << 20)
    started = time.monotonic()
    read_all(sock)  # ends when the server closes (the client's own timeout is 10 s)
    assert time.monotonic() - started < 5
    sock.close()


def test_a_burst_of_machines_connecting_at_once_is_queued_not_dropped(cluster_dir, rockscc):
    """A rack powered on at once connects while the server is busy (a build of the install-done
    callback holds the interpreter): the listen backlog was socketserver's 5, so the kernel
    dropped the others' SYNs and each waited 1, 3, 7 s to retry (firmware gives up). 64 wait in
    the queue now, answered when the server gets to them."""
    server = Server(("127.0.0.1", 0), Routes(load(cluster_dir), cluster_dir / "build"), print, lambda h, a: (200, ""))
    try:  # not serving yet: nothing accepts, as when busy
        socks = []
        for _ in range(64):
            sock = socket.socket()
            sock.settimeout(0.5)
            sock.connect(server.server_address)  # a SYN dropped times out here
            socks.append(sock)
        for sock in socks:
            sock.close()
    finally:
        server.server_close()


def test_a_kickstart_made_a_link_after_the_route_checked_it_is_not_sent(server, cluster_dir, tmp_path, monkeypatch):
    """The route refuses a kickstart that is a link, then the sender opens it: a link planted in
    between (is_symlink made to miss it here) must still not send what it names."""
    from pathlib import Path

    secret = tmp_path / "shadow"
    secret.write_text("root:$6$secret:19000::::::\n")
    kickstart = cluster_dir / "build" / "kickstart" / "compute-0-0.ks"
    kickstart.unlink()
    kickstart.symlink_to(secret)
    monkeypatch.setattr(Path, "is_symlink", lambda self: False)  # the race: the check saw a file
    sock = connect(server, "127.1.255.254")
    sock.sendall(b"GET /install/sbin/kickstart.cgi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = read_all(sock)
    sock.close()
    assert b"secret" not in data and answers(data) and not answers(data)[0].startswith(b"HTTP/1.1 200"), data
