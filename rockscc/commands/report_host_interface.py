"""`rockscc report host interface`."""

from __future__ import annotations

from rockscc.backends.rocks_reports import host_interfaces
from rockscc.cli.command import Arg, Command, Param
from rockscc.model.rocksreports import interfaces


class ReportHostInterface(Command):
    """Print a host's interface configuration as <file> XML, as Rocks' `rocks report host
    interface` did: a modprobe alias for each interface with a module, an ifcfg file for each
    interface (IPADDR/NETMASK/MTU from its network). A host whose attribute kvm is true (a KVM
    container) gets Rocks' bridged files: p<dev> enslaved to a bridge <dev> holding the address."""

    name = "report host interface"
    args = [Arg("host", kind="host", repeat=True)]
    params = [Param("iface", help="only this interface's ifcfg lines (e.g. eth0)")]
    examples = ["rockscc report host interface compute-0-0", "rockscc report host interface compute-0-0 iface=eth0"]

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        for host in opts.host:
            bridged = (cluster.attr(host, "kvm") or "").lower() == "true"
            ctx.stdout.write(host_interfaces(interfaces(cluster, host), bridged=bridged, only=opts.iface))
