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
    """A graph edge: from node to node, under a filter (arch, os, release, `cond=`)."""

    src: str
    dst: str
    filter: Filter
    origin: str  # "graphs/default/base.xml:12 (base)"


@dataclass(frozen=True)
class OrderEdge:
    """An `<order>` edge: the head node's scripts come before the tail's."""

    head: str
    tail: str
    origin: str


@dataclass
class Graph:
    """A graph: its edges and order edges, the files they came from."""

    name: str
    edges: dict[str, list[Edge]] = field(default_factory=dict)
    orders: list[OrderEdge] = field(default_factory=list)
    files: list[tuple[str, Path]] = field(default_factory=list)  # (display, path)
    warnings: list[Diagnostic] = field(default_factory=list)

    @classmethod
    def load(cls, overlays: list[Overlay], name: str) -> Graph:
        graph = cls(name)
        for path, overlay in graph_files(overlays, name):
            graph._read(path, f"graphs/{name}/{path.name}", overlay)
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
        if root.tag != "graph":  # a node file put in graphs/, say: its edges (if any) still count
            self.warnings.append(
                Diagnostic(display, root.sourceline, f"a graph file's top element is <graph>, not <{root.tag}>")
            )
        for element in root:
            if not isinstance(element.tag, str):
                continue
            where = f"{display}:{element.sourceline} ({overlay})"
            if element.tag == "edge":
                self._read_edge(element, where, display)
            elif element.tag == "order":
                self._read_order(element, where)
            elif element.tag not in ("description", "changelog", "copyright"):
                self.warnings.append(
                    Diagnostic(display, element.sourceline, f"unknown graph element <{element.tag}> ignored")
                )

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
                raise RocksccError(
                    f"{display}:{child.sourceline}: <{child.tag}> inside an <edge> without a matching "
                    f"{'from' if child.tag == 'to' else 'to'}= attribute"
                )
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
        _anchor(succ, origins)
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


def graph_files(overlays: list[Overlay], name: str) -> list[tuple[Path, str]]:
    """(path, overlay name) of every file of graph `name`, in merge order: the set a host's
    profile depends on (a file added, removed or renamed changes it), found without parsing."""
    return [(path, overlay.name) for overlay in overlays for path in overlay.xml_files(overlay.graph_dir(name))]


def _anchor(succ: dict[str, set[str]], origins: dict[tuple[str, str], str]) -> None:
    """Rocks' rule: an order node that cannot reach HEAD and has no predecessor follows HEAD;
    one not reachable from TAIL and without successors precedes TAIL. The implicit edges are
    named in `origins` so that a cycle through them says why it exists."""
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
            origins.setdefault((HEAD, node), f"implicit: {node} has no predecessor, so it follows HEAD")
        if node not in from_tail and not succ[node]:
            succ[node].add(TAIL)
            origins.setdefault((node, TAIL), f"implicit: {node} has no successor, so it precedes TAIL")


def _closure(start: str, links: dict[str, set[str]]) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for nxt in links.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _cycle_message(succ: dict[str, set[str]], indegree: dict[str, int], origins: dict[tuple[str, str], str]) -> str:
    """Every cycle among the nodes the topological sort could not place: one per strongly
    connected component (a node ordered after itself included), each with the file:line of each
    of its <order> edges. Nodes that are only stuck behind a cycle are not cycles themselves."""
    stuck = {n for n, d in indegree.items() if d > 0}
    cycles = [_cycle_in(component, succ) for component in _components(stuck, succ)]
    shown = []
    for cycle in sorted(c for c in cycles if c):
        where = "; ".join(origins.get((a, b), "?") for a, b in zip(cycle, cycle[1:]))
        shown.append(f"{' -> '.join(cycle)} ({where})")
    label = "order cycle" if len(shown) == 1 else f"{len(shown)} order cycles"
    return f"{label}: " + " and ".join(shown)


def _components(nodes: set[str], succ: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of `succ` restricted to `nodes` (Tarjan's algorithm,
    iterative: a long <order> chain must not hit Python's recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[set[str]] = []
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(t for t in succ[start] if t in nodes)))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(t for t in succ[child] if t in nodes))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                found.append(component)
    return found


def _cycle_in(component: set[str], succ: dict[str, set[str]]) -> list[str]:
    """A shortest cycle through the component's smallest node, as a path that ends where it
    starts; [] for a single node not ordered after itself (no cycle)."""
    first = min(component)
    if len(component) == 1:
        return [first, first] if first in succ[first] else []
    parent: dict[str, str] = {}
    queue = [first]
    for node in queue:  # breadth first, within the component, back to `first`
        for nxt in sorted(succ[node]):
            if nxt == first:
                path = [node]
                while path[-1] != first:
                    path.append(parent[path[-1]])
                return [*reversed(path), first]
            if nxt in component and nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return []


def _name(text: str | None) -> str:
    return (text or "").strip()
