"""`rockscc report graph`: the whole graph an appliance's profiles can be built from."""

from __future__ import annotations

from rockscc.pipeline.producers import node_tree
from rockscc.cli.command import Arg, Command, Param
from rockscc.commands.list_host_graph import PALETTE, to_svg


class ReportGraph(Command):
    """Draw the graph reachable from an appliance's root (every appliance without argument):
    nodes coloured by overlay (base, roll, site), edges with arch/os/release/cond tests dashed
    and labelled with their test, nodes numbered in kickstart order for a host passing every test."""

    name = "report graph"
    args = [Arg("appliance", repeat=True, optional=True)]
    params = [Param("format", default="dot", choices=("dot", "svg"))]
    examples = ["rockscc report graph compute format=svg > compute.svg", "rockscc report graph"]

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        names = opts.appliance or list(cluster.appliances)
        text = graph_dot(cluster, names)
        ctx.out(to_svg(text) if opts.format == "svg" else text)


def graph_dot(cluster, appliances: list[str]) -> str:
    tree = node_tree(cluster)
    colour = {o.name: PALETTE[i % len(PALETTE)] for i, o in enumerate(tree.overlays)}
    lines = ['digraph "rockscc" {', "\trankdir=LR;", '\tnode [shape=box, style="rounded,filled"];']
    seen_nodes: set[str] = set()
    edges: set[tuple] = set()
    for name in appliances:
        appliance = cluster.appliance_by_membership(name)[1]
        graph = tree.graph(appliance.graph)
        reach, stack = {appliance.node}, [appliance.node]
        while stack:
            for edge in graph.edges.get(stack.pop(), []):
                edges.add((edge.src, edge.dst, _test(edge.filter)))
                if edge.dst not in reach:
                    reach.add(edge.dst)
                    stack.append(edge.dst)
        order = {n: i + 1 for i, n in enumerate(graph.order(reach))}
        lines.append(f'\t"appliance:{name}" [label="{name}", shape=ellipse, fillcolor=white];')
        lines.append(f'\t"appliance:{name}" -> "{appliance.node}";')
        for node in sorted(reach - seen_nodes):
            sources = tree.sources(node)
            overlay = sources[-1].overlay if sources else "missing"
            lines.append(f'\t"{node}" [label="{order.get(node, "?")}. {node}", fillcolor="{colour.get(overlay, "#ff9999")}", '
                         f'tooltip="{overlay}"];')
        seen_nodes |= reach
    for src, dst, test in sorted(edges):
        style = f' [style=dashed, label="{test}"]' if test else ""
        lines.append(f'\t"{src}" -> "{dst}"{style};')
    legend = " ".join(f'"overlay:{o}" [label="{o}", fillcolor="{c}"];' for o, c in colour.items())
    lines.append(f'\tsubgraph cluster_legend {{ label="overlays"; {legend} }}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _test(filt) -> str:
    parts = [f"{k}={','.join(v)}" for k, v in (("arch", filt.arch), ("os", filt.os), ("release", filt.release)) if v]
    if filt.cond.text:
        parts.append(f"cond={filt.cond.text}")
    return " ".join(parts).replace('"', "'")
