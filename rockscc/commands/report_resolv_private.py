"""`rockscc report resolv private`."""

from __future__ import annotations

from rockscc.backends.rocks_reports import resolv
from rockscc.cli.command import Command
from rockscc.commands.report_resolv import search_domains


class ReportResolvPrivate(Command):
    """Print the /etc/resolv.conf of hosts on the private network, as Rocks' `rocks report
    resolv private` did for resolv.xml's eval: the DNS zones to search, then
    Kickstart_PrivateDNSServers (comma-separated)."""

    name = "report resolv private"
    examples = ["rockscc report resolv private"]

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        ctx.stdout.write(resolv(search=search_domains(cluster), servers=cluster.attrs.get("Kickstart_PrivateDNSServers"),
                                local=False))
