"""The DHCP request parser behind insert-ethers: what PXE firmware sends is read right, and no
packet (truncated, malformed, random) makes it raise."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rockscc.provision.dhcpsniff import parse_ip_udp, parse_request
from tests.provision.dhcp_client import bootp_discover, discover_packet


def test_a_pxe_discover_is_read_with_its_class_and_architecture():
    packet = discover_packet("52:54:00:AB:cd:01", vendor="PXEClient:Arch:00007:UNDI:003001", arch=7, user_class="iPXE")
    request = parse_request(parse_ip_udp(packet))
    assert request.mac == "52:54:00:ab:cd:01" and request.kind == "DISCOVER"
    assert request.vendor_class.startswith("PXEClient:Arch:00007") and request.pxe
    assert request.arch == 7 and request.user_class == "iPXE"


def test_request_and_non_pxe_clients():
    request = parse_request(bootp_discover("52:54:00:00:00:01", vendor="", arch=None, kind=3))
    assert request.kind == "REQUEST" and not request.pxe and request.arch is None


def test_a_hardware_address_no_nic_has_is_not_a_request():
    """A zero, broadcast or multicast chaddr (a forged or broken request) became a host of
    insert-ethers, with that MAC in dnsmasq's hosts file."""
    for mac in ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01", "33:33:00:00:00:01"):
        assert parse_request(bootp_discover(mac)) is None, mac
    assert parse_request(bootp_discover("02:00:00:00:00:01")) is not None  # locally administered: a VM's


def test_server_messages_and_other_ports_are_not_requests():
    offer = bytearray(bootp_discover("52:54:00:00:00:01"))
    offer[0] = 2  # BOOTREPLY
    assert parse_request(bytes(offer)) is None
    release = bootp_discover("52:54:00:00:00:01", kind=7)
    assert parse_request(release) is None
    packet = bytearray(discover_packet("52:54:00:00:00:01"))
    packet[22:24] = (68).to_bytes(2, "big")  # to the client port
    assert parse_ip_udp(bytes(packet)) is None


def test_rfc3004_user_class_and_split_options():
    base = bootp_discover("52:54:00:00:00:01", vendor="", arch=None)[:-1]  # without the end option
    packet = base + bytes([77, 5, 4]) + b"iPXE" + bytes([60, 4]) + b"PXEC" + bytes([60, 6]) + b"lient:" + b"\xff"
    request = parse_request(packet)
    assert request.user_class == "iPXE" and request.vendor_class == "PXEClient:"


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_raise(data):
    parse_request(data)
    parse_ip_udp(data)


@settings(max_examples=300, deadline=None)
@given(cut=st.integers(min_value=0, max_value=320), noise=st.binary(max_size=60))
def test_truncated_or_garbled_requests_never_raise(cut, noise):
    packet = discover_packet("52:54:00:00:00:01", user_class="iPXE")
    mangled = packet[:cut] + noise
    payload = parse_ip_udp(mangled)
    if payload is not None:
        parse_request(payload)
    parse_request(packet[28:][:cut] + noise)
