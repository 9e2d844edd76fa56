"""`rockscc add appliance`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.errors import RocksccError
from rockscc.model import Appliance
from rockscc.model.names import check_path_safe


class AddAppliance(Command):
    """Add an appliance: a membership name and the graph node its profiles start from.
    Hosts named <appliance>-<rack>-<rank> (or <short-name>-…) are then recognised by add host."""

    name = "add appliance"
    args = [Arg("appliance")]
    params = [
        Param("membership", help='display name, e.g. "Login Node" (default: the name, capitalised)'),
        Param("node", help="graph root node (default: the appliance name)"),
        Param("graph", default="default"),
        Param("short-name", default=""),
        Param("schedulable", kind="bool", default=True),
        Param("public", kind="bool", default=False),
        Param("os", default="linux"),
    ]
    examples = ['rockscc add appliance login membership="Login" node=login schedulable=no']
    mutates = True

    def run(self, ctx, opts) -> None:
        name = check_path_safe("appliance", opts.appliance)
        cluster = ctx.cluster
        if name in cluster.appliances:
            raise RocksccError(f'appliance "{name}" already exists')
        membership = opts.membership or name.replace("-", " ").title()
        if any(a.membership == membership for a in cluster.appliances.values()):
            raise RocksccError(f'membership "{membership}" is already used')
        cluster.appliances[name] = Appliance(
            membership=membership,
            node=check_path_safe("node", opts.node or name),
            short_name=opts.short_name,
            schedulable=opts.schedulable,
            public=opts.public,
            graph=check_path_safe("graph", opts.graph),
            os=opts.os,
        )
