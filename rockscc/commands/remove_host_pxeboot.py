"""`rockscc remove host pxeboot`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command


class RemoveHostPxeboot(Command):
    """Clear hosts' PXE action; their boot files are deleted by the next build."""

    name = "remove host pxeboot"
    args = [Arg("host", kind="host", repeat=True)]
    examples = ["rockscc remove host pxeboot compute-0-0"]
    mutates = True

    def run(self, ctx, opts) -> None:
        for host in opts.host:
            host.pxeboot = None
