"""`rockscc report resolv`."""

from __future__ import annotations

from rockscc.backends.rocks_reports import resolv
from rockscc.cli.command import Command


def search_domains(cluster) -> list[str]:
    """The private network's DNS zone first, then the other networks' (Rocks' searchdomain)."""
    zones = [net.dnszone for name, net in cluster.networks.items() if name == "private" and net.dnszone]
    return zones + [net.dnszone for name, net in cluster.networks.items() if name != "private" and net.dnszone]


class ReportResolv(Command):
    """Print the frontend's /etc/resolv.conf, as Rocks' `rocks report resolv` did: the networks'
    DNS zones to search (private first), itself, then Kickstart_PublicDNSServers."""

    name = "report resolv"
    examples = ["rockscc report resolv"]
    servers = "Kickstart_PublicDNSServers"  # the attribute naming the name servers (comma-separated)
    local = True  # the frontend asks itself first

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        ctx.stdout.write(
            resolv(search=search_domains(cluster), servers=cluster.attrs.get(self.servers), local=self.local)
        )
