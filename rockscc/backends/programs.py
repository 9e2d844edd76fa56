"""Where a daemon or checker is installed: on PATH, or in the sbin directories a user's PATH
may lack (dhcpd, dnsmasq and nginx live in /usr/sbin)."""

from __future__ import annotations

import shutil
from pathlib import Path

SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")


def find_program(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    return next((str(Path(d) / name) for d in SBIN if (Path(d) / name).is_file()), None)
