"""`rockscc report dbhost`."""

from __future__ import annotations

from rockscc.backends.rocks_reports import dbhost
from rockscc.cli.command import Command


class ReportDbhost(Command):
    """Print the <file> that tells a node where Rocks' database is, as Rocks' `rocks report
    dbhost` did for client.xml's eval: the frontend's private name (Kickstart_PrivateHostname)."""

    name = "report dbhost"
    examples = ["rockscc report dbhost"]

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        ctx.stdout.write(dbhost(cluster.attrs.get("Kickstart_PrivateHostname") or "localhost"))
