"""Kickstart dialects as data (pykickstart's shape: a table per release, not ifs in templates)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    name: str
    pykickstart: str  # the pykickstart version that validates it
    end: bool  # sections close with %end
    pre_log: str  # --log= on %pre ("" = none)
    post_log: str
    dropped: frozenset[str]  # main commands this release no longer has


DIALECTS = {
    "rhel5": Dialect("rhel5", "RHEL5", end=False, pre_log="", post_log="", dropped=frozenset()),
    "rhel6": Dialect(
        "rhel6",
        "RHEL6",
        True,
        "/tmp/ks-pre.log",
        "/mnt/sysimage/var/log/rocks-install.log",
        frozenset({"mouse", "langsupport"}),
    ),
    "rhel7": Dialect(
        "rhel7",
        "RHEL7",
        True,
        "/tmp/ks-pre.log",
        "/mnt/sysimage/var/log/rocks-install.log",
        frozenset({"mouse", "langsupport", "interactive", "key"}),
    ),
    "rhel8": Dialect(
        "rhel8",
        "RHEL8",
        True,
        "/tmp/ks-pre.log",
        "/mnt/sysimage/var/log/rocks-install.log",
        frozenset({"mouse", "langsupport", "interactive", "key", "install"}),
    ),
    "rhel9": Dialect(
        "rhel9",
        "RHEL9",
        True,
        "/tmp/ks-pre.log",
        "/mnt/sysimage/var/log/rocks-install.log",
        frozenset({"mouse", "langsupport", "interactive", "key", "install"}),
    ),
}
