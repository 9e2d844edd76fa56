"""Validation of names and of any value that becomes part of a path or a command."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from rockscc.errors import RocksccError
from rockscc.lazyre import LazyPattern

_HOST = LazyPattern(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ATTR = LazyPattern(r"^[A-Za-z_][A-Za-z0-9_.:-]*$")
_MAC = LazyPattern(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")


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
    if _HOST.fullmatch(value) and len(value) <= 253 and ".." not in value:  # the common case, at once
        return value
    check_path_safe("host", value)
    raise RocksccError(f'host name "{value}" must be letters, digits, ".", "-" or "_", starting with a letter or digit')


def check_attr_name(value: str) -> str:
    if not _ATTR.match(value or ""):
        raise RocksccError(
            f'attribute name "{value}" must start with a letter or "_" and hold letters, digits, "_", ".", ":" or "-"'
        )
    return value


_DOTTED_QUAD = LazyPattern(
    r"^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$"
)


def check_ip(value: str, what: str = "IP address") -> str:
    if _DOTTED_QUAD.fullmatch(value):  # already canonical: what ipaddress would return
        return value
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise RocksccError(f'{what} "{value}" is not an IPv4 address') from None


def is_ipv4(value: str) -> bool:
    try:
        check_ip(value)
    except RocksccError:
        return False
    return True


def normalize_mac(value: str) -> str:
    mac = value.strip().lower().replace("-", ":")
    if not _MAC.match(mac):
        raise RocksccError(f'MAC address "{value}" must be six hex octets like 00:16:3e:00:00:01')
    return mac


# --- values that reach artifacts in a syntax of their own (see values.py) ----------------------
_WORD = LazyPattern(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]*$")
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_DNS = LazyPattern(rf"^{_LABEL}(?:\.{_LABEL})*\.?$")
_PATH = LazyPattern(r"^/[A-Za-z0-9_./+@~-]*$")
PXE_COMMANDS = ("kernel", "linux", "localboot", "boot", "bss", "pxe", "fdimage", "comboot", "com32", "config")
PXE_ARG_KEYWORDS = ("append", "ipappend", "sysappend", "initrd")


@lru_cache(maxsize=4096)  # many hosts share a value; only values that passed are kept
def check_word(kind: str, value: str) -> str:
    """A name used as one word (an OS, an architecture, a device, a module, a file system)."""
    if not _WORD.match(value or ""):
        raise RocksccError(f'{kind} "{value}" must be one word of letters, digits, "_", ".", ":", "+" or "-"')
    return value


@lru_cache(maxsize=4096)  # many hosts share a value; only values that passed are kept
def check_dns_name(kind: str, value: str) -> str:
    if len(value) > 253 or not _DNS.match(value or ""):
        raise RocksccError(
            f'{kind} "{value}" is not a DNS name (labels of letters, digits, "-" and "_", joined by ".")'
        )
    return value


@lru_cache(maxsize=4096)  # many hosts share a value; only values that passed are kept
def check_path(kind: str, value: str) -> str:
    """An absolute path that is one word in every syntax it reaches (no spaces, quotes, commas)."""
    if not _PATH.match(value or "") or ".." in value.split("/"):
        raise RocksccError(f'{kind} "{value}" must be an absolute path of letters, digits and "_./+@~-", without ".."')
    return value


def check_label(kind: str, label: str) -> str:
    """A display name commands take as given or stripped (a PXE action's label, a membership):
    non-empty text without white space around it, so a command can always name it again."""
    if not label.strip() or label != label.strip():
        raise RocksccError(f'{kind} "{label}" must be non-empty, without white space around it')
    return label


@lru_cache(maxsize=4096)  # many hosts share a value; only values that passed are kept
def check_pxe_action(command: str, args: str | None) -> None:
    """pxelinux reads an action as the lines of one label: `command` must be the line naming what
    boots (kernel, localboot …), `args` a line of its arguments (append …); anything else would
    be a different directive of pxelinux (label, default, menu …)."""
    word = command.split(None, 1)[0] if command.strip() else ""
    if word not in PXE_COMMANDS:
        raise RocksccError(f'PXE command "{command}" must start with one of {", ".join(PXE_COMMANDS)}')
    if args is not None and args.strip() and args.split(None, 1)[0] not in PXE_ARG_KEYWORDS:
        raise RocksccError(
            f'PXE arguments "{args}" must start with one of {", ".join(PXE_ARG_KEYWORDS)} '
            '(e.g. "append ks initrd=initrd.img")'
        )
