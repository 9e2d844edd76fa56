"""`<package>` names, written for RPM distributions, as Debian package names for pkgsel/include.

A node file says what a package is called on Debian with `<package debian="NAME …">` (an empty
value: nothing to install there), or keeps a package off Debian hosts with `cond=`; otherwise the
table below maps the RPM names Rocks' and rockscc's own nodes use. A name that cannot be a Debian
package (upper case, `_`, an `@group` the table does not know) is an error naming its node file;
every other name passes unchanged. The table is in docs/nodes-reference.md.
"""

from __future__ import annotations

import re

from rockscc.errors import RocksccError

# RPM name (or @group) -> Debian names ("" = nothing to install: the base system has it)
RPM_TO_DEBIAN = {
    "@core": "",
    "@base": "",
    "@Core": "",
    "@Base": "",
    "@x11": "xorg",
    "@X Window System": "xorg",
    "@base-x": "xorg",
    "@development": "build-essential",
    "@Development Tools": "build-essential",
    "openssh-clients": "openssh-client",
    "httpd": "apache2",
    "mod_ssl": "",
    "dhcp": "isc-dhcp-server",
    "dhclient": "isc-dhcp-client",
    "tftp-server": "tftpd-hpa",
    "tftp": "tftp-hpa",
    "syslinux": "syslinux pxelinux",
    "grub2-efi-x64": "grub-efi-amd64-bin",
    "shim-x64": "shim-signed",
    "nfs-utils": "nfs-kernel-server",
    "xorg-x11-server-Xorg": "xserver-xorg",
    "xorg-x11-xinit": "xinit",
    "kernel": "linux-image-amd64",
    "kernel-devel": "linux-headers-amd64",
    "kernel-headers": "linux-libc-dev",
    "vim-enhanced": "vim",
    "vim-minimal": "vim-tiny",
    "bind": "bind9",
    "bind-utils": "bind9-dnsutils",
    "iproute": "iproute2",
    "cronie": "cron",
    "crontabs": "cron",
    "man": "man-db",
    "which": "debianutils",
    "python": "python3",
    "openssl-devel": "libssl-dev",
    "glibc-devel": "libc6-dev",
    "zlib-devel": "zlib1g-dev",
    "gcc-c++": "g++",
    "gcc-gfortran": "gfortran",
    "ypbind": "nis",
    "yp-tools": "nis",
    "portmap": "rpcbind",
    "net-snmp": "snmpd",
    "pciutils-devel": "libpci-dev",
    "yum": "",
    "redhat-lsb": "lsb-release",
    "policycoreutils": "",
    "selinux-policy": "",
    "selinux-policy-targeted": "",
    "system-config-keyboard": "",
    "authconfig": "",
    "kudzu": "",
    "anaconda": "",
}

_DEBIAN_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")


def debian_packages(
    packages: list[str], disabled: list[str], debian_names: dict[str, str], origins: dict[str, str]
) -> tuple[list[str], list[str]]:
    """(the Debian packages to install, sorted; notes for the preseed's comments). Every package
    that cannot be mapped is named in one error."""
    names: set[str] = set()
    notes: list[str] = []
    unmapped: list[str] = []
    for package in packages:
        origin = origins.get(package, "")
        if package in debian_names:
            mapped, how = debian_names[package], f'debian="{debian_names[package]}"'
        elif package in RPM_TO_DEBIAN:
            mapped, how = RPM_TO_DEBIAN[package], "rockscc's RPM-to-Debian table"
        elif _DEBIAN_NAME.match(package):
            names.add(package)
            continue
        else:
            unmapped.append(f"{package} ({origin})" if origin else package)
            continue
        words = mapped.split()
        bad = [w for w in words if not _DEBIAN_NAME.match(w)]
        if bad:
            raise RocksccError(f'{origin}: <package debian="{mapped}">: {bad[0]!r} is not a Debian package name')
        names.update(words)
        if words != [package]:
            notes.append(f"{origin}: package {package} -> {' '.join(words) or 'nothing'} ({how})")
    if unmapped:
        raise RocksccError(
            "no Debian name for package"
            + ("s " if len(unmapped) > 1 else " ")
            + ", ".join(unmapped)
            + ': say it in the node file with <package debian="NAME">, or debian="" to install '
            "nothing on Debian hosts"
        )
    for package in disabled:
        notes.append(f"{origins.get(package, '')}: -{package} — d-i installs no groups, nothing to leave out")
    return sorted(names), notes
