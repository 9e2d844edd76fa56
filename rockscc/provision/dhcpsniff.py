"""DHCP requests seen on an interface, whatever server answers them (dnsmasq, ISC dhcpd, none):
a Linux packet socket with a BPF filter that passes UDP to port 67, and a parser of the BOOTP
packet and the options insert-ethers uses. Reading needs CAP_NET_RAW (root); it only listens.

`parse_request` is pure and never raises on malformed input (it returns None)."""

from __future__ import annotations

import ctypes
import select
import socket
import struct
from dataclasses import dataclass

ETH_P_IP = 0x0800
SO_ATTACH_FILTER = 26
MAGIC = b"\x63\x82\x53\x63"
MESSAGE_TYPES = {1: "DISCOVER", 3: "REQUEST", 8: "INFORM"}  # what clients send that insert-ethers cares about

# udp and dst port 67, fragments excluded; the packet starts at the IPv4 header (SOCK_DGRAM)
_FILTER = [
    (0x30, 0, 0, 9),  # ldb [9]               protocol
    (0x15, 0, 6, 17),  # jeq #17 (udp)         else drop
    (0x28, 0, 0, 6),  # ldh [6]               flags + fragment offset
    (0x45, 4, 0, 0x1FFF),  # jset #0x1fff          a fragment: drop
    (0xB1, 0, 0, 0),  # ldxb 4*([0]&0xf)      IP header length
    (0x48, 0, 0, 2),  # ldh [x+2]             UDP destination port
    (0x15, 0, 1, 67),  # jeq #67               else drop
    (0x06, 0, 0, 0xFFFF),  # ret: accept
    (0x06, 0, 0, 0),  # ret: drop
]


@dataclass(frozen=True)
class DhcpRequest:
    mac: str  # the client's hardware address (chaddr), lower case
    kind: str  # DISCOVER | REQUEST | INFORM
    vendor_class: str = ""  # option 60, e.g. PXEClient:Arch:00000:UNDI:002001
    user_class: str = ""  # option 77, e.g. iPXE
    arch: int | None = None  # option 93 (0 BIOS, 7 and 9 x86-64 UEFI)

    @property
    def pxe(self) -> bool:
        return self.vendor_class.startswith("PXEClient")


def parse_request(payload: bytes) -> DhcpRequest | None:
    """A client's BOOTP/DHCP message (the UDP payload), or None for anything else."""
    if len(payload) < 240 or payload[0] != 1 or payload[1] != 1 or payload[2] != 6 or payload[236:240] != MAGIC:
        return None
    if payload[28] & 1 or not any(payload[28:34]):
        return None  # a group address (multicast, broadcast) or zeros: no NIC's own, a forged or broken request
    mac = ":".join(f"{b:02x}" for b in payload[28:34])
    options = _options(payload[240:])
    kind = MESSAGE_TYPES.get(options.get(53, b"\0")[0] if options.get(53) else 0)
    if kind is None:
        return None
    arch = options.get(93)
    return DhcpRequest(
        mac=mac,
        kind=kind,
        vendor_class=_text(options.get(60, b"")),
        user_class=_user_class(options.get(77, b"")),
        arch=int.from_bytes(arch[:2], "big") if arch and len(arch) >= 2 else None,
    )


def parse_ip_udp(packet: bytes) -> bytes | None:
    """The UDP payload of an IPv4 packet to port 67, or None."""
    if len(packet) < 28 or packet[0] >> 4 != 4 or packet[9] != 17:
        return None
    header = (packet[0] & 0x0F) * 4
    if header < 20 or len(packet) < header + 8:
        return None
    dport, length = struct.unpack("!HH", packet[header + 2 : header + 6])
    if dport != 67:
        return None
    return packet[header + 8 : header + max(length, 8)]


def _options(data: bytes) -> dict[int, bytes]:
    found: dict[int, bytes] = {}
    i = 0
    while i < len(data):
        code = data[i]
        if code == 0:
            i += 1
            continue
        if code == 255 or i + 1 >= len(data):
            break
        size = data[i + 1]
        value = data[i + 2 : i + 2 + size]
        if len(value) < size:
            break  # truncated
        found[code] = found.get(code, b"") + value  # RFC 3396: a long option may come split
        i += 2 + size
    return found


def _text(value: bytes) -> str:
    return value.decode("ascii", errors="replace").rstrip("\0")


def _user_class(value: bytes) -> str:
    """Option 77: iPXE sends the bare text "iPXE"; RFC 3004 clients length-prefixed items."""
    if value and value[0] == len(value) - 1 and value[0] > 0:
        return _text(value[1:])
    return _text(value)


class Sniffer:
    """DHCP requests arriving on `interface`, in order."""

    def __init__(self, interface: str) -> None:
        try:  # protocol 0: nothing arrives until bound to the interface, after the filter is in place
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, 0)
        except PermissionError:
            raise PermissionError(f"watching DHCP requests on {interface} needs root (a packet socket)") from None
        try:
            self._attach_filter()
            self.sock.bind((interface, ETH_P_IP))
        except OSError:
            self.sock.close()
            raise

    def _attach_filter(self) -> None:
        program = b"".join(struct.pack("HBBI", *insn) for insn in _FILTER)
        buffer = ctypes.create_string_buffer(program)
        fprog = struct.pack("HL", len(_FILTER), ctypes.addressof(buffer))
        self.sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)

    def receive(self, timeout: float) -> DhcpRequest | None:
        """The next request, or None when `timeout` seconds pass without one."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return None
        packet = self.sock.recv(65535)
        payload = parse_ip_udp(packet)
        return parse_request(payload) if payload is not None else None

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Sniffer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
