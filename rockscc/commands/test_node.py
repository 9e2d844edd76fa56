"""`rockscc test node FILE.xml`: one node file's kickstart fragment, no cluster needed."""

from __future__ import annotations

from pathlib import Path

from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._compile import placeholder_entities
from rockscc.errors import RocksccError


class TestNode(Command):
    """Expand one node file as a host of the given membership would see it and print the
    kickstart fragment it contributes (main commands, packages, %pre, %post), with the file's
    warnings at file:line. Attributes come from key=value pairs; an entity without a value is
    kept as &name; and reported. <eval> runs only with eval=yes (sandboxed)."""

    name = "test node"
    args = [Arg("file", help="a node XML file")]
    params = [Param("membership", default="Compute"), Param("hostname", default="compute-0-0"),
              Param("arch", default="x86_64"), Param("os", default="linux"),
              Param("dialect", default="rhel5", choices=("rhel5", "rhel6", "rhel7", "rhel8", "rhel9")),
              Param("eval", kind="bool", default=False)]
    extra_params = True
    needs_cluster = False
    examples = ["rockscc test node nodes/compute.xml", "rockscc test node my-roll/nodes/viz.xml membership=Tile"]

    def run(self, ctx, opts) -> None:
        from rockscc.backends.kickstart import render
        from rockscc.xmlgraph import ir
        from rockscc.xmlgraph.expand import Expander
        from rockscc.xmlgraph.overlay import LooseFileTree
        from rockscc.xmlgraph.xmlfile import read_xml

        path = Path(opts.file)
        if not path.is_file():
            raise RocksccError(f"{path}: no such file")
        node = ir.compile_node(read_xml(path, str(path)), path.stem, str(path), "test")
        attrs = {"hostname": opts.hostname, "Node_Hostname": opts.hostname, "membership": opts.membership,
                 "Node_Membership": opts.membership, "arch": opts.arch, "Node_Architecture": opts.arch,
                 "os": opts.os, "rack": "0", "rank": "0", **opts.extra}
        placeholder_entities(ctx, [node], attrs)
        expander = Expander(LooseFileTree(path), attrs, evals=opts.eval, cluster_dir=None)
        profile = expander.expand(opts.hostname, [node])
        for warning in sorted(set(expander.warnings)):
            ctx.warn(str(warning))
        ctx.out(render(profile, opts.dialect).text.rstrip("\n"))
