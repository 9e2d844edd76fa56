"""`rockscc report resolv private`."""

from __future__ import annotations

from rockscc.commands.report_resolv import ReportResolv


class ReportResolvPrivate(ReportResolv):
    """Print the /etc/resolv.conf of hosts on the private network, as Rocks' `rocks report
    resolv private` did for resolv.xml's eval: the DNS zones to search, then
    Kickstart_PrivateDNSServers (comma-separated)."""

    name = "report resolv private"
    examples = ["rockscc report resolv private"]
    servers = "Kickstart_PrivateDNSServers"
    local = False
