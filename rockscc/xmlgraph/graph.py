"""Graph files: edges (which node files an appliance includes) and order constraints.

Every `*.xml` under `graphs/<graph>/` of each overlay (base, rolls, site; files sorted by name
within an overlay) is merged into one edge set and one order set, as Rocks merged rolls.

Inclusion rule (differs from Rocks on purpose): a node is in a host's profile iff some path from
the appliance's root passes every edge test on it. Rocks 5.0 instead remembered only the first
edge by which DFS reached a node and still walked the children of a node it then filtered out,
so its result depended on traversal order.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rockscc.errors import Diagnostic, RocksccError
from rockscc.grammar.cond import Filter
from rockscc.model.overlay import Overlay
from rockscc.xmlgraph.xmlfile import read_xml

HEAD, TAIL = "HEAD", "TAIL"


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    filter: Filter
    origin: str  # "graphs/default/base.xml:12 (base)"


@dataclass(frozen=True)
class OrderEdge:
    head: str
    tail: str
    origin: str


@dataclass
class Graph:
    name: str
    edges: dict[str, list[Edge]] = field(default_factory=dict)
    orders: list[OrderEdge] = field(default_factory=list)
    files: list[tuple[str, Path]] = field(default_factory=list)  # (display, path)
    warnings: list[Diagnostic] = field(default_factory=list)

    @classmethod
    def load(cls, overlays: list[Overlay], name: str) -> Graph:
        graph = cls(name)
        for overlay in overlays:
            for path in overlay.xml_files(overlay.graph_dir(name)):
                graph._read(path, f"graphs/{name}/{path.name}", overlay.name)
        return graph

    @property
    def filter_names(self) -> frozenset[str]:
        """Every attribute an edge test reads: the walk depends on these and nothing else."""
        return frozenset().union(*(e.filter.names for es in self.edges.values() for e in es))

    def nodes(self) -> set[str]:
        found = set(self.edges)
        for edges in self.edges.values():
            found.update(e.dst for e in edges)
        return found

    # --- reading ---------------------------------------------------------------------------------
    def _read(self, path: Path, display: str, overlay: str) -> None:
        root = read_xml(path, display)
        self.files.append((display, path))
        for element in root:
            if not isinstance(element.tag, str):
                continue
            where = f"{display}:{element.sourceline} ({overlay})"
            if element.tag == "edge":
                self._read_edge(element, where, display)
            elif element.tag == "order":
                self._read_order(element, where)
            elif element.tag not in ("description", "changelog", "copyright"):
                self.warnings.append(Diagnostic(display, element.sourceline, f"unknown graph element <{element.tag}> ignored"))

    def _read_edge(self, element, where: str, display: str) -> None:
        base = Filter.from_attrib(element.attrib, where.split(" ")[0])
        src, dst = _name(element.get("from")), _name(element.get("to"))
        children = [c for c in element if isinstance(c.tag, str)]
        if src and dst:
            self._add(Edge(src, dst, base, where))
        for child in children:
            target = _name(child.text)
            if not target:
                raise RocksccError(f"{where.split(' (')[0]}: <{child.tag}> names no node")
            combined = base.and_(Filter.from_attrib(child.attrib, f"{display}:{child.sourceline}"))
            origin = f"{display}:{child.sourceline} ({where.split('(')[-1]}"
            if child.tag == "to" and src:
                self._add(Edge(src, target, combined, origin))
            elif child.tag == "from" and dst:
                self._add(Edge(target, dst, combined, origin))
            else:
                raise RocksccError(f"{display}:{child.sourceline}: <{child.tag}> inside an <edge> without a matching "
                                   f"{'from' if child.tag == 'to' else 'to'}= attribute")
        if not children and not (src and dst):
            raise RocksccError(f"{display}:{element.sourceline}: <edge> needs from= and to= (or <to>/<from> children)")

    def _read_order(self, element, where: str) -> None:
        head, tail = _name(element.get("head")), _name(element.get("tail"))
        display = where.split(":")[0]
        heads = [head] if head else []
        tails = [tail] if tail else []
        for child in element:
            if not isinstance(child.tag, str):
                continue
            (heads if child.tag == "head" else tails if child.tag == "tail" else []).append(_name(child.text))
        if not heads or not tails:
            raise RocksccError(f"{display}:{element.sourceline}: <order> needs a head and a tail")
        for h in heads:
            for t in tails:
                self.orders.append(OrderEdge(h, t, where))

    def _add(self, edge: Edge) -> None:
        self.edges.setdefault(edge.src, []).append(edge)

    # --- walking ---------------------------------------------------------------------------------
    def walk(self, root: str, attrs: Mapping[str, str]) -> tuple[set[str], list[Edge], list[Edge]]:
        """Nodes reachable from `root` through passing edges; also the edges taken and filtered."""
        if root not in self.nodes():
            raise RocksccError(f'node "{root}" is not in graph "{self.name}" (no edge mentions it)')
        seen, stack, taken, filtered = {root}, [root], [], []
        while stack:
            for edge in self.edges.get(stack.pop(), []):
                if not edge.filter.passes(attrs):
                    filtered.append(edge)
                    continue
                taken.append(edge)
                if edge.dst not in seen:
                    seen.add(edge.dst)
                    stack.append(edge.dst)
        return seen, taken, filtered

    def order(self, traversed: set[str]) -> list[str]:
        """Kickstart order: `<order>` constraints, HEAD/TAIL, unconstrained nodes alphabetically at
        TAIL, ties broken lexically (deterministic, unlike Rocks' dict order)."""
        succ: dict[str, set[str]] = {HEAD: set(), TAIL: set()}
        origins: dict[tuple[str, str], str] = {}
        for o in self.orders:
            succ.setdefault(o.head, set()).add(o.tail)
            succ.setdefault(o.tail, set())
            origins.setdefault((o.head, o.tail), o.origin)
        _anchor(succ)
        indegree = {n: 0 for n in succ}
        for targets in succ.values():
            for t in targets:
                indegree[t] += 1
        ready = [n for n, d in indegree.items() if d == 0]
        heapq.heapify(ready)
        ordered: list[str] = []
        while ready:
            node = heapq.heappop(ready)
            ordered.append(node)
            for t in succ[node]:
                indegree[t] -= 1
                if indegree[t] == 0:
                    heapq.heappush(ready, t)
        if len(ordered) != len(succ):
            raise RocksccError(_cycle_message(succ, indegree, origins))
        constrained = set(succ)
        result = []
        for node in ordered:
            if node == TAIL:
                result.extend(sorted(traversed - constrained))
            elif node != HEAD and node in traversed:
                result.append(node)
        return result


def _anchor(succ: dict[str, set[str]]) -> None:
    """Rocks' rule: an order node that cannot reach HEAD and has no predecessor follows HEAD;
    one not reachable from TAIL and without successors precedes TAIL."""
    preds: dict[str, set[str]] = {n: set() for n in succ}
    for n, targets in succ.items():
        for t in targets:
            preds[t].add(n)
    reaches_head = _closure(HEAD, preds)
    from_tail = _closure(TAIL, succ)
    for node in list(succ):
        if node in (HEAD, TAIL):
            continue
        if node not in reaches_head and not preds[node]:
            succ[HEAD].add(node)
        if node not in from_tail and not succ[node]:
            succ[node].add(TAIL)


def _closure(start: str, links: dict[str, set[str]]) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for nxt in links.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _cycle_message(succ, indegree, origins) -> str:
    stuck = {n for n, d in indegree.items() if d > 0}
    node = min(stuck)
    path, seen = [node], {node}
    while True:
        node = min(t for t in succ[node] if t in stuck)
        if node in seen:
            cycle = path[path.index(node):] + [node]
            break
        path.append(node)
        seen.add(node)
    where = "; ".join(origins.get((a, b), "implicit HEAD/TAIL rule") for a, b in zip(cycle, cycle[1:]))
    return f"order cycle: {' -> '.join(cycle)} ({where})"


def _name(text: str | None) -> str:
    return (text or "").strip()
