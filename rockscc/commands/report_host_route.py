"""`rockscc report host route`."""

from __future__ import annotations

from rockscc.backends.rocks_reports import host_routes
from rockscc.cli.command import Arg, Command
from rockscc.model.rocksreports import routes


class ReportHostRoute(Command):
    """Print a host's /etc/sysconfig/static-routes as <file> XML, as Rocks' `rocks report host
    route` did: Rocks' standard routes (multicast 224.0.0.0/24 and the broadcast host route, over
    the host's private interface); the default route is in `report host network`."""

    name = "report host route"
    args = [Arg("host", kind="host", repeat=True)]
    examples = ["rockscc report host route compute-0-0"]

    def run(self, ctx, opts) -> None:
        for host in opts.host:
            ctx.stdout.write(host_routes(routes(host)))
