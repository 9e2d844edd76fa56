"""`rockscc list host pxeboot`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command


class ListHostPxeboot(Command):
    """List each host's current PXE boot action ("os": boot the local disk; "install":
    reinstall on next boot). The frontend normally has none."""

    name = "list host pxeboot"
    args = [Arg("host", kind="host", repeat=True, optional=True)]
    examples = ["rockscc list host pxeboot"]

    def run(self, ctx, opts) -> None:
        ctx.table(["host", "action"], [[h.name, h.pxeboot] for h in opts.host])
