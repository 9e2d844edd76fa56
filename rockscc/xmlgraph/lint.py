"""`rockscc check`: lint a whole node/graph tree, collecting every finding instead of stopping
at the first. Errors make a build fail; warnings are worth reading. (Compiling representative
hosts, the other half of the check, is pipeline.Session.check_hosts.)"""

from __future__ import annotations

from rockscc.errors import Diagnostic, RocksccError
from rockscc.xmlgraph.compiler import NodeTree


def lint_tree(
    tree: NodeTree, graphs: set[str], roots: dict[str, str], used: set[str] = frozenset()
) -> list[Diagnostic]:
    """Graphs, order, node files: `roots` maps appliance names to their graph root node; a
    missing root is an error for appliances in `used` (some host has them), else a warning."""
    found: list[Diagnostic] = list(tree.index.shadowed())
    reachable: set[str] = set()
    for name in sorted(graphs):
        try:
            graph = tree.graph(name)
        except RocksccError as exc:
            found.append(diagnostic_of(exc))
            continue
        found.extend(graph.warnings)
        nodes = graph.nodes()
        certain: set[str] = set()  # nodes every host of a used appliance walks into, whatever its attributes
        for appliance, root in sorted(roots.items()):
            if root not in nodes:
                severity, note = ("error", "") if appliance in used else ("warning", " (no host uses it)")
                found.append(
                    Diagnostic(
                        f"graphs/{name}", 0, f'appliance {appliance}{note}: root node "{root}" is in no edge', severity
                    )
                )
            else:
                reachable |= _all_reachable(graph, root)
                if appliance in used:
                    certain |= _all_reachable(graph, root, unconditional=True)
        found.extend(_missing_nodes(tree, graph, certain))
        try:
            graph.order(nodes)
        except RocksccError as exc:
            found.append(diagnostic_of(exc))
    for name in sorted(tree.index.names()):
        try:
            for node in tree.compiled(name):
                found.extend(node.warnings)
        except RocksccError as exc:
            found.append(diagnostic_of(exc))
            continue
        if name not in reachable:
            source = tree.sources(name)[0]
            found.append(Diagnostic(source.display, 0, f'node "{name}" is reached from no appliance root'))
    return found


def _missing_nodes(tree: NodeTree, graph, certain: set[str]) -> list[Diagnostic]:
    """Edges naming a node no overlay has a file for. Rocks graphs name nodes of optional rolls
    (base's graph names the kvm and ganglia rolls' nodes): Rocks failed only when a walk reached
    one. So it is an error when a host of a used appliance always reaches it, a warning when only
    some attribute values would (a cond= or arch= on the way) or no used appliance does."""
    found = []
    for edges in graph.edges.values():
        for edge in edges:
            for end in (edge.src, edge.dst):
                if tree.index.sources(end) is not None:
                    continue
                file, _, line = edge.origin.split(" ")[0].rpartition(":")
                if end == edge.dst and edge.src in certain and not edge.filter:
                    found.append(
                        Diagnostic(
                            file,
                            int(line or 0),
                            f"edge {edge.src} -> {edge.dst}: no node file for "
                            f'"{end}", which hosts of a used appliance always reach',
                            "error",
                        )
                    )
                else:
                    found.append(
                        Diagnostic(
                            file,
                            int(line or 0),
                            f"edge {edge.src} -> {edge.dst}: no node file for "
                            f'"{end}" (a node of a roll not added?); no used appliance always reaches it',
                            "warning",
                        )
                    )
    return found


def _all_reachable(graph, root: str, *, unconditional: bool = False) -> set[str]:
    """Every node reachable from `root` ignoring edge tests (what some host could include), or
    only through edges without tests (what every host includes)."""
    seen, stack = {root}, [root]
    while stack:
        for edge in graph.edges.get(stack.pop(), []):
            if unconditional and edge.filter:
                continue
            if edge.dst not in seen:
                seen.add(edge.dst)
                stack.append(edge.dst)
    return seen


def diagnostic_of(exc: RocksccError, prefix: str = "") -> Diagnostic:
    """An error as a finding: at its file:line when the message starts with one."""
    text = str(exc)
    head, sep, rest = text.partition(": ")
    file, colon, line = head.rpartition(":")
    if sep and colon and line.isdigit() and not prefix:
        return Diagnostic(file, int(line), rest, "error")
    return Diagnostic("", 0, prefix + text, "error")
