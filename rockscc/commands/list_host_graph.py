"""`rockscc list host graph`: the part of the graph a host's profile is built from, as a picture."""

from __future__ import annotations

from rockscc.backends import dot
from rockscc.cli.command import Arg, Command, Param
from rockscc.commands._compile import COMPILE_PARAMS, compile_options


class ListHostGraph(Command):
    """Draw a host's graph: the nodes its profile includes, numbered in kickstart order and
    coloured by overlay (base, roll, site); edges filtered out for this host are dashed.

    format=dot prints graphviz source; format=svg runs graphviz `dot` to draw it."""

    name = "list host graph"
    args = [Arg("host", kind="host")]
    params = [Param("format", default="dot", choices=("dot", "svg"), help="output format"), *COMPILE_PARAMS]
    examples = [
        "rockscc list host graph compute-0-0 > compute.dot",
        "rockscc list host graph vm-container-0-0 format=svg > vc.svg",
    ]

    def run(self, ctx, opts) -> None:
        host = opts.host[0] if isinstance(opts.host, list) else opts.host
        text = dot.host_graph(ctx.session(compile_options(opts)).host_walk(host))
        ctx.out(dot.svg(text) if opts.format == "svg" else text)
