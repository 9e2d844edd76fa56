"""`rockscc test partition FILE.xml`: a partition program against any disks, no cluster needed."""

from __future__ import annotations

from pathlib import Path

from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._hw import parse_disks, parse_raids
from rockscc.errors import RocksccError
from rockscc.model import Hardware


class TestPartition(Command):
    """Run the %pre programs of a node file against declared disks and print the resulting
    partition-info (the directives, verbatim) and then the planned table.

    Like the built-in graph, the default scheme of rockscc's nodes/partition.xml follows the
    file's programs (base=no leaves it out: Rocks' "no file" default then applies to all disks).
    Attributes the file's <var>s and &entities; read come from key=value pairs."""

    name = "test partition"
    args = [Arg("file", help="a node file holding <pre> partition programs")]
    params = [Param("disks", required=True, help="e.g. sda:80G,sdb:1T"), Param("raids", default=""),
              Param("membership", default="Compute"), Param("hostname", default="compute-0-0"),
              Param("base", kind="bool", default=True), Param("frontend", kind="bool", default=False)]
    extra_params = True
    needs_cluster = False
    examples = ["rockscc test partition nodes/replace-partition.xml disks=sda:80G",
                "rockscc test partition my-partition.xml disks=hda:80G,hdb:80G membership='NAS Appliance'"]

    def run(self, ctx, opts) -> None:
        from rockscc.partitions import PLAN_HEADER, plan_host, plan_rows

        hardware = Hardware(parse_disks(opts.disks), parse_raids(opts.raids), opts.frontend)
        attrs = {"hostname": opts.hostname, "Node_Hostname": opts.hostname, "membership": opts.membership,
                 "Node_Membership": opts.membership, "arch": "x86_64", "os": "linux", **opts.extra}
        scripts = _pre_scripts(Path(opts.file), attrs)
        if opts.base:
            from rockscc.xmlgraph.overlay import BUILTIN_BASE

            scripts += _pre_scripts(BUILTIN_BASE / "nodes" / "partition.xml", attrs)
        planned = plan_host(scripts, hardware, opts.hostname)
        for warning in planned.warnings:
            ctx.warn(str(warning))
        ctx.out(f"# /tmp/partition-info ({planned.scheme})")
        ctx.out(planned.info_text.rstrip("\n"))
        ctx.out("\n")
        ctx.table(PLAN_HEADER, plan_rows(planned.plan), owner=False)


def _pre_scripts(path: Path, attrs: dict[str, str]) -> list:
    from rockscc.xmlgraph import ir
    from rockscc.xmlgraph.expand import Expander
    from rockscc.xmlgraph.overlay import LooseFileTree
    from rockscc.xmlgraph.xmlfile import read_xml

    if not path.is_file():
        raise RocksccError(f"{path}: no such file")
    root = read_xml(path, str(path))
    node = ir.compile_node(root, path.stem, str(path), "test")
    for name in sorted(node.entity_names - set(attrs)):
        raise RocksccError(f"{path}: &{name}; needs a value: give {name}=… on the command line")
    profile = Expander(LooseFileTree(path), attrs, evals=False, cluster_dir=None).expand(attrs["hostname"], [node])
    return profile.pre
