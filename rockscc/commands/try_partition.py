"""`rockscc test partition FILE.xml`: a partition program against any disks, no cluster needed."""

from __future__ import annotations

from pathlib import Path

from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._compile import sample_attrs
from rockscc.commands._hw import parse_disks, parse_raids
from rockscc.model import Hardware
from rockscc.pipeline import CompileOptions


class TestPartition(Command):
    """Run the %pre programs of a node file against declared disks and print the resulting
    partition-info (the directives, verbatim) and then the planned table.

    Like the built-in graph, the default scheme of rockscc's nodes/partition.xml follows the
    file's programs (base=no leaves it out: Rocks' "no file" default then applies to all disks).
    Attributes the file's <var>s and &entities; read come from key=value pairs."""

    name = "test partition"
    args = [Arg("file", help="a node file holding <pre> partition programs")]
    params = [
        Param("disks", required=True, help="e.g. sda:80G,sdb:1T"),
        Param("raids", default=""),
        Param("membership", default="Compute"),
        Param("hostname", default="compute-0-0"),
        Param("base", kind="bool", default=True),
        Param("frontend", kind="bool", default=False),
    ]
    extra_params = True
    examples = [
        "rockscc test partition nodes/replace-partition.xml disks=sda:80G",
        "rockscc test partition my-partition.xml disks=hda:80G,hdb:80G membership='NAS Appliance'",
    ]

    def run(self, ctx, opts) -> None:
        from rockscc.partitions import PLAN_HEADER, plan_rows

        hardware = Hardware(parse_disks(opts.disks), parse_raids(opts.raids), opts.frontend)
        attrs = sample_attrs(opts, arch="x86_64", os="linux")
        session = ctx.session(CompileOptions(evals=False), cluster=False)  # programs are run, <eval>s are not
        planned = session.partition_trial(Path(opts.file), hardware, attrs, base=opts.base)
        for warning in planned.warnings:
            ctx.warn(str(warning))
        ctx.out(f"# /tmp/partition-info ({planned.scheme})")
        ctx.out(planned.info_text.rstrip("\n"))
        ctx.out("\n")
        ctx.table(PLAN_HEADER, plan_rows(planned.plan), owner=False)
