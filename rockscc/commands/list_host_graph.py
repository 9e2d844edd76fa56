"""`rockscc list host graph`: the part of the graph a host's profile is built from, as a picture."""

from __future__ import annotations

import shutil
import subprocess

from rockscc.pipeline.producers import node_tree
from rockscc.cli.command import Arg, Command, Param
from rockscc.errors import RocksccError

PALETTE = ["#dbe9f6", "#fde2c8", "#d5f0d5", "#f3d5f0", "#fff3b0", "#e0e0e0"]


class ListHostGraph(Command):
    """Draw a host's graph: the nodes its profile includes, numbered in kickstart order and
    coloured by overlay (base, roll, site); edges filtered out for this host are dashed.

    format=dot prints graphviz source; format=svg runs graphviz `dot` to draw it."""

    name = "list host graph"
    args = [Arg("host", kind="host")]
    params = [Param("format", default="dot", choices=("dot", "svg"), help="output format")]
    examples = ["rockscc list host graph compute-0-0 > compute.dot",
                "rockscc list host graph vm-container-0-0 format=svg > vc.svg"]

    def run(self, ctx, opts) -> None:
        host = opts.host[0] if isinstance(opts.host, list) else opts.host
        text = host_graph_dot(ctx.cluster, host)
        if opts.format == "svg":
            text = to_svg(text)
        ctx.out(text)


def host_graph_dot(cluster, host) -> str:
    tree = node_tree(cluster)
    appliance = cluster.appliance_of(host)
    attrs = cluster.resolve_attrs(host)
    graph = tree.graph(appliance.graph)
    traversed, taken, filtered = graph.walk(appliance.node, attrs)
    order = {name: i + 1 for i, name in enumerate(graph.order(traversed))}
    overlays = [o.name for o in tree.overlays]
    colour = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(overlays)}
    lines = [f'digraph "{host.name}" {{', "\trankdir=LR;", '\tnode [shape=box, style="rounded,filled"];']
    for name in sorted(traversed | {e.dst for e in filtered}):
        sources = tree.sources(name)
        overlay = sources[-1].overlay if sources else ""
        label = f"{order[name]}. {name}" if name in order else name
        style = "" if name in traversed else ', style="rounded,dashed", fillcolor=white'
        lines.append(f'\t"{name}" [label="{label}", fillcolor="{colour.get(overlay, "white")}", tooltip="{overlay}"{style}];')
    for edge in sorted(set((e.src, e.dst) for e in taken)):
        lines.append(f'\t"{edge[0]}" -> "{edge[1]}";')
    for edge in sorted(set((e.src, e.dst) for e in filtered) - set((e.src, e.dst) for e in taken)):
        lines.append(f'\t"{edge[0]}" -> "{edge[1]}" [style=dashed];')
    legend = " ".join(f'"overlay:{o}" [label="{o}", fillcolor="{colour[o]}"];' for o in overlays)
    lines.append(f'\tsubgraph cluster_legend {{ label="overlays"; {legend} }}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_svg(dot_source: str) -> str:
    if shutil.which("dot") is None:
        raise RocksccError("format=svg needs graphviz's `dot` (apt install graphviz); format=dot works without it")
    done = subprocess.run(["dot", "-Tsvg"], input=dot_source, capture_output=True, text=True)
    if done.returncode != 0:
        raise RocksccError(f"graphviz failed: {done.stderr.strip()}")
    return done.stdout
