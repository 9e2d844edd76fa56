"""`rockscc list host partition plan`: the layout each host's install will produce."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._compile import COMPILE_PARAMS, compile_options


class ListHostPartitionPlan(Command):
    """Run each host's partition programs against its declared hardware and show the planned
    table, down to sectors: DISK DEVICE START END SIZE FSTYPE MOUNTPOINT FORMAT (the plan
    `rockscc build` writes to partitions/<host>.json).
    text=yes prints the partition-info directives instead; format=svg draws each disk as a bar."""

    name = "list host partition plan"
    args = [Arg("host", kind="host", repeat=True)]
    params = [
        Param("text", kind="bool", default=False, help="print /tmp/partition-info instead of the table"),
        Param("format", default="table", choices=("table", "svg"), help="svg: disk bars drawn to scale"),
        *COMPILE_PARAMS,
    ]
    examples = ["rockscc list host partition plan compute-0-0", "rockscc list host partition plan nas text=yes"]

    def run(self, ctx, opts) -> None:
        from rockscc.partitions import PLAN_HEADER, plan_rows

        session = ctx.session(compile_options(opts))
        rows = []
        for host in opts.host:
            planned = session.partition_plan(host)
            for warning in planned.warnings:
                ctx.warn(str(warning))
            if opts.text:
                ctx.out(planned.info_text.rstrip("\n"))
                continue
            if opts.format == "svg":
                from rockscc.backends.plan_svg import plan_svg

                ctx.out(plan_svg(host.name, planned.plan).rstrip("\n"))
                continue
            rows += [[host.name, *row] for row in plan_rows(planned.plan)]
        if not opts.text and opts.format == "table":
            ctx.table(["host", *PLAN_HEADER], rows)
