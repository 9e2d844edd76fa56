"""`rockscc set host pxeboot`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.model.boot import action_of


class SetHostPxeboot(Command):
    """Set the PXE action hosts boot next (install, os, rescue, memtest, pxeflash, or any added
    action). `rockscc build` then rewrites their pxelinux, UEFI grub and iPXE files."""

    name = "set host pxeboot"
    args = [Arg("host", kind="host", repeat=True)]
    params = [Param("action", required=True, help="an action label from list host pxeaction")]
    examples = ['rockscc set host pxeboot compute-0-0 action="install"', "rockscc set host pxeboot compute action=os"]
    mutates = True

    def run(self, ctx, opts) -> None:
        for host in opts.host:
            action_of(ctx.cluster, host, opts.action)  # PXE command (L) is not defined for host (H)
            host.pxeboot = opts.action
