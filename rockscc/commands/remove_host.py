"""`rockscc remove host`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.errors import RocksccError
from rockscc.model.vms import guests
from rockscc.runtime.journal import refuse_if_moving

HANDFUL = 8  # more than this many hosts in one remove needs force=yes


class RemoveHost(Command):
    """Remove hosts from the cluster, with their interfaces, attributes, boot settings and VM
    record; a VM's domain is undefined on its container. A VM container that still holds VMs
    cannot be removed: remove its VMs first.

    Hosts are chosen as by every command (names, compute-0-[0-12,15], appliances, rackN, globs);
    removing more than 8 hosts at once, or a frontend, asks for force=yes."""

    name = "remove host"
    args = [Arg("host", kind="host", repeat=True)]
    params = [
        Param("force", kind="bool", default=False, help=f"remove more than {HANDFUL} hosts at once, or a frontend")
    ]
    examples = [
        "rockscc remove host compute-0-3",
        "rockscc remove host 'compute-0-[4-7]'",
        "rockscc remove host rack2 force=yes",
    ]
    mutates = True

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        leaving = {h.name for h in opts.host}
        if not opts.force:
            refuse_unforced(cluster, opts.host)
        for host in opts.host:
            if host.vm is not None:
                refuse_if_moving(ctx.root, host.name)
            staying = sorted(g.name for g in guests(cluster, host.name) if g.name not in leaving)
            if staying:
                raise RocksccError(f'host "{host.name}" holds VMs ({", ".join(staying)}); remove them first')
        for host in opts.host:
            if host.vm is not None:
                _undefine(ctx, cluster, host)
        for name in leaving:
            del cluster.hosts[name]


def refuse_unforced(cluster, hosts) -> None:
    """A selection that removes many hosts (a pattern or rack wider than meant) or a frontend
    (the machine everything is installed from) needs force=yes."""
    frontends = [h.name for h in hosts if cluster.is_frontend(h)]
    if frontends:
        raise RocksccError(
            f"this would remove the frontend {', '.join(frontends)}; add force=yes if that is what you mean"
        )
    if len(hosts) > HANDFUL:
        shown = ", ".join(h.name for h in hosts[:3])
        raise RocksccError(
            f"this would remove {len(hosts)} hosts ({shown}, …, {hosts[-1].name}); "
            f"add force=yes to remove more than {HANDFUL} at once"
        )


def _undefine(ctx, cluster, host) -> None:
    """A VM leaving the description leaves its container too (best effort: warn if unreachable)."""
    from rockscc.runtime.vms import VMRuntime

    try:
        VMRuntime(cluster, host).remove()
    except RocksccError as exc:
        ctx.warn(f"{exc}; the domain may still be defined on {host.vm.container}")
