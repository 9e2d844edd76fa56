"""Test helpers on the client side of DHCP and HTTP, run inside a test's network namespace:

    python dhcp_client.py discover IFACE MAC[,MAC...] [--vendor V] [--arch N] [--user-class U] [--gap S]
        sends one DHCPDISCOVER per MAC (as that client) from IFACE, through a packet socket
    python dhcp_client.py http SOURCE URL [URL...]
        GETs each URL from the local address SOURCE; prints "status sha256 url" per URL

`discover_packet` builds the IPv4/UDP/BOOTP packet (also used by the sniffer's tests)."""

from __future__ import annotations

import hashlib
import http.client
import socket
import struct
import sys
import time
from urllib.parse import urlsplit


def bootp_discover(
    mac: str,
    *,
    vendor: str = "PXEClient:Arch:00000:UNDI:002001",
    arch: int | None = 0,
    user_class: str | None = None,
    kind: int = 1,
    xid: int = 0x1234ABCD,
) -> bytes:
    chaddr = bytes.fromhex(mac.replace(":", "")) + b"\0" * 10
    header = struct.pack("!BBBBIHHIIII", 1, 1, 6, 0, xid, 0, 0x8000, 0, 0, 0, 0) + chaddr + b"\0" * 192
    options = b"\x63\x82\x53\x63" + bytes([53, 1, kind])
    if vendor:
        options += bytes([60, len(vendor)]) + vendor.encode()
    if arch is not None:
        options += bytes([93, 2]) + arch.to_bytes(2, "big")
    if user_class:
        options += bytes([77, len(user_class)]) + user_class.encode()
    return header + options + b"\xff"


def discover_packet(mac: str, **kw) -> bytes:
    """IPv4 + UDP (0.0.0.0:68 -> 255.255.255.255:67) around a DHCPDISCOVER."""
    payload = bootp_discover(mac, **kw)
    udp = struct.pack("!HHHH", 68, 67, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, b"\0" * 4, b"\xff" * 4)
    checksum = _checksum(ip)
    return ip[:10] + struct.pack("!H", checksum) + ip[12:] + udp


def _checksum(data: bytes) -> int:
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def send_discovers(interface: str, macs: list[str], gap: float = 0.0, **kw) -> None:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
    sock.bind((interface, 0x0800))
    for mac in macs:
        sock.sendto(discover_packet(mac, **kw), (interface, 0x0800, 0, 0, b"\xff" * 6))
        time.sleep(gap)
    sock.close()


def fetch(source: str, url: str) -> tuple[int, str]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=10, source_address=(source, 0))
    try:
        connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        response = connection.getresponse()
        return response.status, hashlib.sha256(response.read()).hexdigest()
    finally:
        connection.close()


def main(argv: list[str]) -> None:
    if argv[0] == "discover":
        options = dict(zip(argv[3::2], argv[4::2]))
        kw = {}
        if "--vendor" in options:
            kw["vendor"] = options["--vendor"]
        if "--arch" in options:
            kw["arch"] = int(options["--arch"])
        if "--user-class" in options:
            kw["user_class"] = options["--user-class"]
        send_discovers(argv[1], argv[2].split(","), float(options.get("--gap", 0)), **kw)
    elif argv[0] == "http":
        for url in argv[2:]:
            status, digest = fetch(argv[1], url)
            print(status, digest, url, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
