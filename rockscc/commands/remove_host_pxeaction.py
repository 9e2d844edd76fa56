"""`rockscc remove host pxeaction`."""

from __future__ import annotations

from rockscc.cli.command import Command, Param
from rockscc.commands._pxe import HOSTS_OR_GLOBAL, hosts_or_none
from rockscc.errors import RocksccError


class RemoveHostPxeaction(Command):
    """Remove PXE actions: a host's own rows (all of them without action=), or, with no host,
    the global action named by action=. A global action some host boots cannot be removed."""

    name = "remove host pxeaction"
    args = [HOSTS_OR_GLOBAL]
    params = [Param("action")]
    examples = [
        'rockscc remove host pxeaction compute-0-0 action="install ucsd"',
        'rockscc remove host pxeaction action="install ucsd"',
    ]
    mutates = True

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        hosts = hosts_or_none(ctx, opts.host)
        if hosts is None:
            if not opts.action:
                raise RocksccError("action= is required to remove a global action")
            if cluster.pxeactions.pop(opts.action, None) is None:
                raise RocksccError(f'global PXE action "{opts.action}" is not defined')
            hosts_using = [
                h.name for h in cluster.hosts.values() if h.pxeboot == opts.action and opts.action not in h.pxeactions
            ]
            if hosts_using:
                raise RocksccError(
                    f'hosts boot action "{opts.action}": {", ".join(sorted(hosts_using)[:5])}; set their pxeboot first'
                )
            return
        for host in hosts:
            labels = [opts.action] if opts.action else list(host.pxeactions)
            for label in labels:
                host.pxeactions.pop(label, None)
            if host.pxeboot and host.pxeboot not in host.pxeactions and host.pxeboot not in cluster.pxeactions:
                raise RocksccError(f'host "{host.name}" boots action "{host.pxeboot}"; set its pxeboot first')
