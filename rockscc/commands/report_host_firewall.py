"""`rockscc report host firewall`."""

from __future__ import annotations

from rockscc.backends.rocks_reports import host_firewall
from rockscc.cli.command import Arg, Command
from rockscc.model.rocksreports import firewall


class ReportHostFirewall(Command):
    """Print a host's /etc/sysconfig/iptables as <file> XML, as Rocks' `rocks report host
    firewall` did, from Rocks 7's global rules (everything from lo and the private network,
    ssh and replies from the public one, other privileged ports there rejected); a rule for a
    network the host is not on is left out."""

    name = "report host firewall"
    args = [Arg("host", kind="host", repeat=True)]
    examples = ["rockscc report host firewall compute-0-0"]

    def run(self, ctx, opts) -> None:
        for host in opts.host:
            ctx.stdout.write(host_firewall(firewall(host)))
