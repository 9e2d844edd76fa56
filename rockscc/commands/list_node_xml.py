"""`rockscc list node xml`: one node file expanded with attributes given on the command line."""

from __future__ import annotations

from rockscc.backends.profile_xml import profile_xml
from rockscc.cli.command import Arg, Command, Param
from rockscc.pipeline import CompileOptions


class ListNodeXml(Command):
    """Expand one node (N.xml with its extend-/replace- files) without a host: for roll developers.

    Attributes come from the description's global attributes, then from key=value pairs on the
    command line (e.g. membership=Compute Kickstart_Timezone=UTC). An entity with no value is
    kept as &name; and reported, instead of failing, so a fragment can be read on its own."""

    name = "list node xml"
    args = [Arg("node", help="node name: nodes/<node>.xml in any overlay")]
    params = [Param("eval", kind="bool", default=False, help="run <eval> scripts (off by default here)")]
    extra_params = True
    examples = ["rockscc list node xml compute", "rockscc list node xml partition Node_Membership=Compute"]

    def run(self, ctx, opts) -> None:
        attrs = {"hostname": "example-0-0", "Node_Hostname": "example-0-0", "arch": "x86_64", "os": "linux"}
        attrs |= ctx.cluster.attrs | opts.extra
        result = ctx.session(CompileOptions(evals=opts.eval)).node_profile(opts.node, attrs)
        for warning in result.warnings:
            ctx.warn(str(warning))
        ctx.out(profile_xml(result.profile, opts.node))
