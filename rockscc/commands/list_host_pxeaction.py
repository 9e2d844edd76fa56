"""`rockscc list host pxeaction`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.model.boot import actions_for


class ListHostPxeaction(Command):
    """List the PXE actions each host can boot: the global actions overlaid by the host's own
    rows of the same label, sorted by label."""

    name = "list host pxeaction"
    args = [Arg("host", kind="host", repeat=True, optional=True)]
    examples = ["rockscc list host pxeaction compute-0-0"]

    def run(self, ctx, opts) -> None:
        rows = []
        for host in opts.host:
            for label, action in actions_for(ctx.cluster, host).items():
                rows.append([host.name, label, action.command, action.args])
        ctx.table(["host", "action", "command", "args"], rows)
