"""`rockscc remove host`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.errors import RocksccError
from rockscc.runtime.journal import refuse_if_moving


class RemoveHost(Command):
    """Remove hosts from the cluster, with their interfaces, attributes, boot settings and VM
    record; a VM's domain is undefined on its container. A VM container that still holds VMs
    cannot be removed: remove its VMs first."""

    name = "remove host"
    args = [Arg("host", kind="host", repeat=True)]
    examples = ["rockscc remove host compute-0-3", "rockscc remove host rack2"]
    mutates = True

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        leaving = {h.name for h in opts.host}
        for host in opts.host:
            if host.vm is not None:
                refuse_if_moving(ctx.root, host.name)
            guests = sorted(g.name for g in cluster.hosts.values() if g.vm and g.vm.container == host.name and g.name not in leaving)
            if guests:
                raise RocksccError(f'host "{host.name}" holds VMs ({", ".join(guests)}); remove them first')
        for host in opts.host:
            if host.vm is not None:
                _undefine(ctx, cluster, host)
        for name in leaving:
            del cluster.hosts[name]


def _undefine(ctx, cluster, host) -> None:
    """A VM leaving the description leaves its container too (best effort: warn if unreachable)."""
    from rockscc.runtime.vms import VMRuntime

    try:
        VMRuntime(cluster, host).remove()
    except RocksccError as exc:
        ctx.warn(f"{exc}; the domain may still be defined on {host.vm.container}")
