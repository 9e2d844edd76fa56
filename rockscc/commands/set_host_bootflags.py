"""`rockscc set host bootflags`."""

from __future__ import annotations

from rockscc.cli.command import Command, Param
from rockscc.commands._pxe import HOSTS_OR_GLOBAL, hosts_or_none
from rockscc.errors import RocksccError


class SetHostBootflags(Command):
    """Set kernel boot flags for the named hosts, or globally with no host. They reach the
    running kernel (/proc/cmdline) after the next install: the kickstart's bootloader line and
    the grub-client %post carry them (the hypervisor line on Xen dom0s)."""

    name = "set host bootflags"
    args = [HOSTS_OR_GLOBAL]
    params = [Param("flags", required=True)]
    examples = [
        'rockscc set host bootflags compute-0-0 flags="dom0_mem=1024M ucsd=rocks"',
        'rockscc set host bootflags flags="dom0_mem=1024M"',
    ]
    mutates = True

    def run(self, ctx, opts) -> None:
        flags = " ".join(opts.flags.split())
        if any(c in opts.flags for c in "\"'`$\\;"):
            raise RocksccError("flags: quotes, $, `, \\ and ; are not allowed in kernel boot flags")
        hosts = hosts_or_none(ctx, opts.host)
        if hosts is None:
            ctx.cluster.bootflags = flags
        else:
            for host in hosts:
                host.bootflags = flags
