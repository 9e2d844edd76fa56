"""Graphs as graphviz DOT source: a host's walk (`list host graph`) and appliances' whole graphs
(`report graph`), nodes coloured by the overlay their file comes from. From plain data (the
pipeline's HostWalk and ApplianceWalk); svg() runs graphviz's `dot` on the source."""

from __future__ import annotations

import shutil
import subprocess

from rockscc.errors import RocksccError

PALETTE = ["#dbe9f6", "#fde2c8", "#d5f0d5", "#f3d5f0", "#fff3b0", "#e0e0e0"]


def host_graph(walk) -> str:
    """Included nodes numbered in kickstart order; edges filtered out for the host dashed."""
    colour = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(walk.overlays)}
    order = {name: i + 1 for i, name in enumerate(walk.order)}
    lines = [f"digraph {_q(walk.host)} {{", "\trankdir=LR;", '\tnode [shape=box, style="rounded,filled"];']
    for name in sorted(walk.included | {dst for _src, dst in walk.filtered}):
        overlay = walk.overlay_of.get(name, "")
        label = f"{order[name]}. {name}" if name in order else name
        style = "" if name in walk.included else ', style="rounded,dashed", fillcolor=white'
        lines.append(
            f'\t{_q(name)} [label={_q(label)}, fillcolor="{colour.get(overlay, "white")}", tooltip={_q(overlay)}{style}];'
        )
    for src, dst in sorted(walk.taken):
        lines.append(f"\t{_q(src)} -> {_q(dst)};")
    for src, dst in sorted(walk.filtered - walk.taken):
        lines.append(f"\t{_q(src)} -> {_q(dst)} [style=dashed];")
    return _close(lines, colour)


def appliance_graph(walks: list, overlay_of: dict[str, str], overlays: list[str]) -> str:
    """Every node reachable from each appliance's root, numbered in kickstart order for a host
    passing every test; edges with arch/os/release/cond tests dashed and labelled."""
    colour = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(overlays)}
    lines = ['digraph "rockscc" {', "\trankdir=LR;", '\tnode [shape=box, style="rounded,filled"];']
    seen_nodes: set[str] = set()
    edges: set[tuple[str, str, str]] = set()
    for walk in walks:
        edges |= {(src, dst, _test(filt)) for src, dst, filt in walk.edges}
        order = {n: i + 1 for i, n in enumerate(walk.order)}
        lines.append(
            f"\t{_q('appliance:' + walk.appliance)} [label={_q(walk.appliance)}, shape=ellipse, fillcolor=white];"
        )
        lines.append(f"\t{_q('appliance:' + walk.appliance)} -> {_q(walk.root)};")
        for node in sorted(walk.reach - seen_nodes):
            overlay = overlay_of.get(node, "missing")
            label = f"{order.get(node, '?')}. {node}"
            lines.append(
                f'\t{_q(node)} [label={_q(label)}, fillcolor="{colour.get(overlay, "#ff9999")}", '
                f"tooltip={_q(overlay)}];"
            )
        seen_nodes |= walk.reach
    for src, dst, test in sorted(edges):
        style = f" [style=dashed, label={_q(test)}]" if test else ""
        lines.append(f"\t{_q(src)} -> {_q(dst)}{style};")
    return _close(lines, colour)


def _close(lines: list[str], colour: dict[str, str]) -> str:
    legend = " ".join(f'{_q("overlay:" + o)} [label={_q(o)}, fillcolor="{c}"];' for o, c in colour.items())
    lines.append(f'\tsubgraph cluster_legend {{ label="overlays"; {legend} }}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _test(filt) -> str:
    parts = [f"{k}={','.join(v)}" for k, v in (("arch", filt.arch), ("os", filt.os), ("release", filt.release)) if v]
    if filt.cond.text:
        parts.append(f"cond={filt.cond.text}")
    return " ".join(parts)


def _q(text: str) -> str:
    """`text` as one DOT quoted string that says only `text`: a quote or backslash in a node,
    host or overlay name (or a cond= test) cannot end the string or start a label escape
    (`\\l`, `\\N`), and no line break or other control character reaches the source (each is shown
    as `?`)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c.isprintable() else "?" for c in escaped) + '"'


def svg(dot_source: str) -> str:
    if shutil.which("dot") is None:
        raise RocksccError("format=svg needs graphviz's `dot` (apt install graphviz); format=dot works without it")
    done = subprocess.run(["dot", "-Tsvg"], input=dot_source, capture_output=True, text=True)
    if done.returncode != 0:
        raise RocksccError(f"graphviz failed: {done.stderr.strip()}")
    return done.stdout
