"""`rockscc report host config411`."""

from __future__ import annotations

from rockscc.backends.rocks_reports import config411
from rockscc.cli.command import Arg, Command


class ReportHostConfig411(Command):
    """Print a host's /etc/411.conf as <file> XML, as Rocks' `rocks report host config411` did:
    its appliance, group (membership), os and the 411 master on Kickstart_PrivateAddress (port
    attribute port411)."""

    name = "report host config411"
    args = [Arg("host", kind="host", repeat=True)]
    examples = ["rockscc report host config411 compute-0-0"]

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        for host in opts.host:
            attrs = cluster.resolve_attrs(host)
            ctx.stdout.write(
                config411(
                    master_address=attrs.get("Kickstart_PrivateAddress", ""),
                    port=attrs.get("port411"),
                    appliance=attrs["appliance"],
                    membership=host.membership,
                    os=host.os,
                )
            )
