"""`rockscc report host network`."""

from __future__ import annotations

from rockscc.backends.rocks_reports import host_network
from rockscc.cli.command import Arg, Command
from rockscc.model.rocksreports import default_gateway, primary


class ReportHostNetwork(Command):
    """Print a host's /etc/sysconfig/network (and, for Rocks 7, /etc/hostname) as <file> XML,
    as Rocks' `rocks report host network` did for networking-client.xml's eval: the name on the
    host's primary network (attribute primary_net, default private), the default gateway
    (Kickstart_PublicGateway on a public primary network, else Kickstart_PrivateGateway)."""

    name = "report host network"
    args = [Arg("host", kind="host", repeat=True)]
    examples = ["rockscc report host network compute-0-0"]

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        for host in opts.host:
            fqdn, device, network = primary(cluster, host)
            major = cluster.attr(host, "rocks_version_major") or "5"
            ctx.stdout.write(
                host_network(
                    fqdn=fqdn,
                    gateway=default_gateway(cluster, host, network),
                    device=device,
                    rocks_major=int(major) if major.isdigit() else 5,
                )
            )
