"""Validation of names and of any value that becomes part of a path or a command."""

from __future__ import annotations

import ipaddress
import re

from rockscc.errors import RocksccError

_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ATTR = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]*$")
_MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")


def check_path_safe(kind: str, value: str) -> str:
    """Reject what could escape a directory or break a file name."""
    if not value:
        raise RocksccError(f"{kind} name is empty")
    if "/" in value or value in (".", "..") or ".." in value:
        raise RocksccError(f'{kind} name "{value}" must not contain "/" or ".."')
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        raise RocksccError(f'{kind} name "{value}" must not contain whitespace or control characters')
    return value


def check_host_name(value: str) -> str:
    if _HOST.match(value) and len(value) <= 253 and ".." not in value:  # the common case, at once
        return value
    check_path_safe("host", value)
    raise RocksccError(f'host name "{value}" must be letters, digits, ".", "-" or "_", starting with a letter or digit')


def check_attr_name(value: str) -> str:
    if not _ATTR.match(value or ""):
        raise RocksccError(f'attribute name "{value}" must start with a letter or "_" and hold letters, digits, "_", ".", ":" or "-"')
    return value


_DOTTED_QUAD = re.compile(r"^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$")


def check_ip(value: str, what: str = "IP address") -> str:
    if _DOTTED_QUAD.match(value):  # already canonical: what ipaddress would return
        return value
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise RocksccError(f'{what} "{value}" is not an IPv4 address') from None


def normalize_mac(value: str) -> str:
    mac = value.strip().lower().replace("-", ":")
    if not _MAC.match(mac):
        raise RocksccError(f'MAC address "{value}" must be six hex octets like 00:16:3e:00:00:01')
    return mac
