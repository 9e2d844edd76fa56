"""`rockscc report graph`: the whole graph an appliance's profiles can be built from."""

from __future__ import annotations

from rockscc.backends import dot
from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._compile import COMPILE_PARAMS, compile_options


class ReportGraph(Command):
    """Draw the graph reachable from an appliance's root (every appliance without argument):
    nodes coloured by overlay (base, roll, site), edges with arch/os/release/cond tests dashed
    and labelled with their test, nodes numbered in kickstart order for a host passing every test."""

    name = "report graph"
    args = [Arg("appliance", repeat=True, optional=True)]
    params = [Param("format", default="dot", choices=("dot", "svg")), *COMPILE_PARAMS]
    examples = ["rockscc report graph compute format=svg > compute.svg", "rockscc report graph"]

    def run(self, ctx, opts) -> None:
        names = opts.appliance or list(ctx.cluster.appliances)
        text = dot.appliance_graph(*ctx.session(compile_options(opts)).appliance_walks(names))
        ctx.out(dot.svg(text) if opts.format == "svg" else text)
