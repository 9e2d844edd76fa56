"""Kickstart main-section commands (what `<main>` children expand to) as debian-installer answers.

Each command maps to d-i questions, or to an explicit note in the preseed saying why it has no
d-i counterpart, or is refused with an error naming the node file: nothing is dropped silently.
The table of what maps where is docs/nodes-reference.md § Debian dialect.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from rockscc.backends.preseed.keymaps import xkb_layout
from rockscc.errors import RocksccError

PARTITION_INFO = "/tmp/partition-info"  # the %include the partition plan stands for
PARTITION_COMMANDS = frozenset("part partition raid volgroup logvol clearpart ignoredisk autopart zerombr".split())


@dataclass(frozen=True)
class Answer:
    """One preseed line: `owner question type value`, and where it comes from."""

    question: str
    type: str
    value: str
    origin: str = ""
    owner: str = "d-i"


@dataclass
class Main:
    """What the main section says, in d-i's terms."""

    answers: list[Answer] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # commands with no d-i counterpart, as preseed comments
    hostname: str = ""
    domain: str = ""
    boot_flags: str = ""
    bootloader: bool = True
    services: list[tuple[str, str, str]] = field(default_factory=list)  # (verb, unit, origin) for late_command


# commands whose job d-i does by itself, or which mean nothing on Debian: a note, not an answer
NO_COUNTERPART = {
    "install": "d-i always installs",
    "text": "the boot line picks d-i's frontend",
    "cmdline": "the boot line picks d-i's frontend",
    "graphical": "the boot line picks d-i's frontend",
    "interactive": "priority=critical on the boot line makes d-i unattended",
    "skipx": "d-i installs no X server unless a package asks for one",
    "xconfig": "d-i installs no X server unless a package asks for one",
    "mouse": "Debian configures mice by itself",
    "langsupport": "the locale comes from lang",
    "firewall": "d-i installs no firewall (add one with a <package> and a <post>)",
    "selinux": "Debian does not enable SELinux",
    "auth": "authentication comes from the base system's defaults (configure it in a <post>)",
    "firstboot": "Debian has no firstboot",
    "eula": "Debian has no EULA",
    "device": "hw-detect loads drivers by itself",
    "driverdisk": "hw-detect loads drivers by itself",
    "key": "Debian has no installation key",
    "sshpw": "d-i's network console is not used",
}
REFUSED = {
    "upgrade": "d-i's preseed only installs; an upgrade is apt's job",
    "nfs": "d-i installs from an HTTP mirror: use url --url http://…",
    "cdrom": "d-i installs from an HTTP mirror: use url --url http://…",
    "harddrive": "d-i installs from an HTTP mirror: use url --url http://…",
    "lilo": "d-i installs grub",
    "lilocheck": "d-i installs grub",
    "autopart": "d-i's partitioning comes from the host's partition plan (declare its disks)",
}

_LOCALE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?(\.[A-Za-z0-9-]+)?(@[a-z]+)?$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_CRYPT = re.compile(r"^\$(1|5|6|y|2[aby])\$[./A-Za-z0-9$=,]+$")
_URL_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def main_answers(lines: list[tuple[str, str]]) -> Main:
    """The main section's lines (text, origin) as d-i answers."""
    main = Main()
    networks = 0
    for line, origin in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith("%include"):
            _include(text, origin, main)
            continue
        command, _, rest = text.partition(" ")
        words = _split(rest, origin, text)
        if command in NO_COUNTERPART:
            main.notes.append(f"{origin}: {text} — not applied: {NO_COUNTERPART[command]}")
        elif command in REFUSED:
            raise RocksccError(f"{origin}: {text}: no debian12 counterpart ({REFUSED[command]})")
        elif command in PARTITION_COMMANDS:
            if command == "zerombr":
                main.notes.append(f"{origin}: {text} — the partman recipe clears the disks it lays out")
                continue
            raise RocksccError(
                f"{origin}: {text}: for debian12, partitioning comes only from the host's partition "
                f"plan (a partition program writing /tmp/user_partition_info), not from <main>"
            )
        elif command == "network":
            networks += 1
            if networks == 1:
                _network(words, origin, main)
            else:
                main.notes.append(
                    f"{origin}: {text} — not applied: d-i configures the install interface only "
                    f"(configure this one in a <post>)"
                )
        elif command in _HANDLERS:
            _HANDLERS[command](words, origin, main)
        else:
            raise RocksccError(f"{origin}: {text}: {command} has no debian12 counterpart rockscc knows")
    return main


def _split(rest: str, origin: str, text: str) -> list[str]:
    try:
        return shlex.split(rest)
    except ValueError as exc:
        raise RocksccError(f"{origin}: {text}: {exc}") from None


def _options(words: list[str], origin: str, command: str, known: set[str]) -> tuple[dict[str, str], list[str]]:
    """--name=value / --name value / --flag options, and the other words."""
    options, rest = {}, []
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--"):
            name, eq, value = word[2:].partition("=")
            if name not in known:
                raise RocksccError(f"{origin}: {command}: option --{name} has no debian12 counterpart")
            if not eq and name in _TAKES_VALUE and i + 1 < len(words) and not words[i + 1].startswith("--"):
                value, i = words[i + 1], i + 1
            options[name] = value
        else:
            rest.append(word)
        i += 1
    return options, rest


_TAKES_VALUE = {
    "url",
    "hostname",
    "ip",
    "netmask",
    "gateway",
    "nameserver",
    "device",
    "bootproto",
    "append",
    "location",
    "driveorder",
    "ntpservers",
    "enabled",
    "disabled",
    "proxy",
    "password",
    "md5pass",
}


def _include(text: str, origin: str, main: Main) -> None:
    """Only the partition step's include, which the partman recipe stands for."""
    target = text.split(None, 1)[1].strip() if len(text.split()) > 1 else ""
    if target != PARTITION_INFO:
        raise RocksccError(
            f"{origin}: {text}: d-i cannot include files written at install time "
            f"(only {PARTITION_INFO}, which the partman recipe stands for)"
        )


def _url(words: list[str], origin: str, main: Main) -> None:
    options, _ = _options(words, origin, "url", {"url", "proxy", "noverifyssl"})
    url = options.get("url", "")
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.netloc or not _URL_HOST.match(parts.netloc):
        raise RocksccError(f"{origin}: url --url {url}: d-i needs an http:// mirror URL with a host name or address")
    directory = parts.path.rstrip("/") or "/"
    main.answers += [
        Answer("mirror/country", "string", "manual", origin),
        Answer("mirror/protocol", "select", "http", origin),
        Answer("mirror/http/hostname", "string", parts.netloc, origin),
        Answer("mirror/http/directory", "string", directory, origin),
        Answer("mirror/http/proxy", "string", options.get("proxy", ""), origin),
    ]


def _lang(words: list[str], origin: str, main: Main) -> None:
    if len(words) != 1 or not _LOCALE.match(words[0]):
        raise RocksccError(f"{origin}: lang {' '.join(words)}: not a locale (like en_US or en_US.UTF-8)")
    locale = words[0] if "." in words[0] or "_" not in words[0] else f"{words[0]}.UTF-8"
    main.answers.append(Answer("debian-installer/locale", "string", locale, origin))


def _keyboard(words: list[str], origin: str, main: Main) -> None:
    if len(words) != 1:
        raise RocksccError(f"{origin}: keyboard {' '.join(words)}: one keymap name expected")
    layout = xkb_layout(words[0])
    if layout is None:
        raise RocksccError(
            f"{origin}: keyboard {words[0]}: no X keyboard layout rockscc knows for this keymap "
            f"(use an XKB layout name such as us, gb, de, fr)"
        )
    main.answers.append(Answer("keyboard-configuration/xkb-keymap", "select", layout, origin))


def _timezone(words: list[str], origin: str, main: Main) -> None:
    options, rest = _options(words, origin, "timezone", {"utc", "isUtc", "nontp", "ntpservers"})
    if len(rest) != 1:
        raise RocksccError(f"{origin}: timezone {' '.join(words)}: one time zone expected")
    zone = rest[0]
    if not _time_zone(zone):
        raise RocksccError(f"{origin}: timezone {zone}: not a time zone of the tz database")
    utc = "utc" in options or "isUtc" in options
    main.answers += [
        Answer("time/zone", "string", zone, origin),
        Answer("clock-setup/utc", "boolean", "true" if utc else "false", origin),
    ]
    servers = options.get("ntpservers", "")
    if servers:
        main.answers += [
            Answer("clock-setup/ntp", "boolean", "true", origin),
            Answer("clock-setup/ntp-server", "string", servers.split(",")[0], origin),
        ]
    else:
        main.answers.append(Answer("clock-setup/ntp", "boolean", "false", origin))


def _time_zone(zone: str) -> bool:
    """Whether the tz database has the zone (zoneinfo keeps what it loaded: one read per zone)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _rootpw(words: list[str], origin: str, main: Main) -> None:
    options, rest = _options(words, origin, "rootpw", {"iscrypted", "plaintext", "lock"})
    if "lock" in options:
        raise RocksccError(f"{origin}: rootpw --lock: d-i then needs an ordinary user, which rockscc does not create")
    if len(rest) != 1:
        raise RocksccError(f"{origin}: rootpw: one password expected")
    main.answers += [
        Answer("passwd/root-login", "boolean", "true", origin),
        Answer("passwd/make-user", "boolean", "false", origin),
    ]
    if "iscrypted" in options:
        if not _CRYPT.match(rest[0]):
            raise RocksccError(f"{origin}: rootpw --iscrypted: the value is not a crypt(3) hash ($6$…, $5$…, $y$…)")
        main.answers.append(Answer("passwd/root-password-crypted", "password", rest[0], origin))
    else:
        main.answers += [
            Answer("passwd/root-password", "password", rest[0], origin),
            Answer("passwd/root-password-again", "password", rest[0], origin),
        ]


def _network(words: list[str], origin: str, main: Main) -> None:
    options, _ = _options(
        words,
        origin,
        "network",
        {
            "bootproto",
            "hostname",
            "device",
            "ip",
            "netmask",
            "gateway",
            "nameserver",
            "onboot",
            "noipv6",
            "mtu",
            "activate",
        },
    )
    fqdn = options.get("hostname", "")
    host, _, domain = fqdn.partition(".")
    if fqdn and (not _LABEL.match(host) or (domain and not all(_LABEL.match(p) for p in domain.split(".")))):
        raise RocksccError(
            f"{origin}: network --hostname={fqdn}: not a host name d-i accepts "
            f"(letters, digits and inner hyphens, labels of at most 63)"
        )
    main.hostname, main.domain = host, domain
    device = options.get("device", "")
    main.answers.append(Answer("netcfg/choose_interface", "select", device or "auto", origin))
    if host:
        main.answers += [
            Answer("netcfg/get_hostname", "string", host, origin),
            Answer("netcfg/hostname", "string", host, origin),
            Answer("netcfg/get_domain", "string", domain, origin),
        ]
    proto = options.get("bootproto", "dhcp")
    if proto == "static":
        for option in ("ip", "netmask"):
            if not options.get(option):
                raise RocksccError(f"{origin}: network --bootproto=static needs --{option}")
        main.answers += [
            Answer("netcfg/disable_autoconfig", "boolean", "true", origin),
            Answer("netcfg/get_ipaddress", "string", options["ip"], origin),
            Answer("netcfg/get_netmask", "string", options["netmask"], origin),
            Answer("netcfg/get_gateway", "string", options.get("gateway", ""), origin),
            Answer("netcfg/get_nameservers", "string", options.get("nameserver", "").replace(",", " "), origin),
            Answer("netcfg/confirm_static", "boolean", "true", origin),
        ]
    elif proto not in ("dhcp", "bootp"):
        raise RocksccError(f"{origin}: network --bootproto={proto}: d-i knows dhcp and static")
    main.answers.append(Answer("netcfg/wireless_wep", "string", "", origin))


def _bootloader(words: list[str], origin: str, main: Main) -> None:
    options, _ = _options(
        words,
        origin,
        "bootloader",
        {
            "location",
            "append",
            "driveorder",
            "md5pass",
            "password",
            "iscrypted",
            "upgrade",
            "useLilo",
            "lba32",
            "linear",
            "nolinear",
            "timeout",
            "boot-drive",
            "leavebootorder",
        },
    )
    for option in ("md5pass", "password", "upgrade", "useLilo"):
        if option in options:
            raise RocksccError(f"{origin}: bootloader --{option}: no debian12 counterpart")
    location = options.get("location", "mbr")
    if location == "none":
        main.bootloader = False
        main.answers.append(Answer("grub-installer/skip", "boolean", "true", origin))
    elif location != "mbr":
        raise RocksccError(
            f"{origin}: bootloader --location={location}: d-i installs grub in the MBR of the "
            f"first planned disk (or --location=none)"
        )
    main.boot_flags = " ".join(options.get("append", "").split())
    main.answers.append(Answer("debian-installer/add-kernel-opts", "string", main.boot_flags, origin))


def _services(words: list[str], origin: str, main: Main) -> None:
    options, _ = _options(words, origin, "services", {"enabled", "disabled"})
    for verb, key in (("enable", "enabled"), ("disable", "disabled")):
        for unit in filter(None, (u.strip() for u in options.get(key, "").split(","))):
            if not re.match(r"^[A-Za-z0-9@._:-]+$", unit):
                raise RocksccError(f"{origin}: services --{key}: {unit!r} is not a service name")
            main.services.append((verb, unit, origin))


def _reboot(words: list[str], origin: str, main: Main) -> None:
    main.answers.append(Answer("finish-install/reboot_in_progress", "note", "", origin))


_HANDLERS = {
    "url": _url,
    "lang": _lang,
    "keyboard": _keyboard,
    "timezone": _timezone,
    "rootpw": _rootpw,
    "bootloader": _bootloader,
    "services": _services,
    "reboot": _reboot,
}
