"""Every shape of <order> cycle is reported, each cycle with the file:line of each of its edges:
Hypothesis draws order sets over a few nodes (HEAD and TAIL included: Rocks' implicit edges take
part in cycles too) and checks Graph.order against a direct reading of the same constraints."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rockscc.errors import RocksccError
from rockscc.xmlgraph.graph import HEAD, TAIL, Graph, OrderEdge

NODES = ["a", "b", "c", "d", "e", HEAD, TAIL]
_CYCLE = re.compile(r"(\S+(?: -> \S+)+) \(([^()]*(?:\([^()]*\)[^()]*)*)\)")


def order_edges(pairs: list[tuple[str, str]]) -> list[OrderEdge]:
    return [OrderEdge(head, tail, f"graphs/default/g.xml:{line} (site)") for line, (head, tail) in enumerate(pairs, 1)]


def all_edges(orders: list[OrderEdge]) -> dict[tuple[str, str], str]:
    """The explicit edges (first origin of each) and Rocks' implicit ones: a node that does not
    reach HEAD and has no predecessor follows HEAD; one not reached from TAIL and without
    successors precedes TAIL."""
    edges: dict[tuple[str, str], str] = {}
    for o in orders:
        edges.setdefault((o.head, o.tail), o.origin)
    nodes = {n for pair in edges for n in pair} | {HEAD, TAIL}
    explicit = set(edges)
    for n in nodes - {HEAD, TAIL}:
        if not reaches(explicit, n, HEAD) and not any(t == n for _h, t in explicit):
            edges[(HEAD, n)] = "implicit"
        if not reaches(explicit, TAIL, n) and not any(h == n for h, _t in explicit):
            edges[(n, TAIL)] = "implicit"
    return edges


def reaches(edges, start: str, goal: str) -> bool:
    seen, stack = {start}, [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for head, tail in edges:
            if head == node and tail not in seen:
                seen.add(tail)
                stack.append(tail)
    return False


def cyclic_components(edges) -> set[frozenset[str]]:
    """The groups of nodes that lie on a cycle together (a node ordered after itself alone)."""
    nodes = {n for pair in edges for n in pair}
    found = set()
    for n in nodes:
        if (n, n) in edges or any(reaches(edges, n, m) and reaches(edges, m, n) for m in nodes if m != n):
            found.add(frozenset(m for m in nodes if m == n or (reaches(edges, n, m) and reaches(edges, m, n))))
    return found


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(NODES), st.sampled_from(NODES)), max_size=9), st.sets(st.sampled_from(NODES[:5]))
)
def test_order_or_every_cycle_with_its_origins(pairs, traversed):
    orders = order_edges(pairs)
    edges = all_edges(orders)
    components = cyclic_components(edges)
    graph = Graph("default", orders=orders)
    try:
        result = graph.order(set(traversed))
    except RocksccError as error:
        message = str(error)
        assert components, f"no cycle, yet: {message}"
        label, _, body = message.partition(": ")
        assert label == ("order cycle" if len(components) == 1 else f"{len(components)} order cycles"), message
        cycles = _CYCLE.findall(body)
        assert len(cycles) == len(components), message
        covered = set()
        for path, where in cycles:
            nodes = path.split(" -> ")
            assert nodes[0] == nodes[-1], message
            steps = list(zip(nodes, nodes[1:]))
            origins = where.split("; ")
            assert len(origins) == len(steps), message
            for step, origin in zip(steps, origins):
                assert step in edges, f"{step} is not an order edge: {message}"
                expected = edges[step]
                assert origin.startswith("implicit:") if expected == "implicit" else origin == expected, message
            covered |= {c for c in components if set(nodes) <= c}
        assert covered == components, message
        return
    assert not components, f"cycles {components} not reported"
    assert sorted(result) == sorted(set(traversed))
    position = {node: i for i, node in enumerate(result)}
    for head, tail in edges:
        if head in position and tail in position:
            assert position[head] < position[tail], (head, tail, result)


@pytest.mark.parametrize(
    "pairs, expected",
    [
        ([("a", "a")], "order cycle: a -> a (graphs/default/g.xml:1 (site))"),
        ([("a", "b"), ("b", "a"), ("b", "c")], "order cycle: a -> b -> a"),  # c is stuck behind it, not in it
        ([("a", "b"), ("b", "a"), ("c", "d"), ("d", "c")], "2 order cycles: a -> b -> a"),
        ([(TAIL, HEAD), ("a", "b")], "order cycle: HEAD -> a -> b -> TAIL -> HEAD"),  # through implicit edges
    ],
)
def test_cycle_shapes(pairs, expected):
    with pytest.raises(RocksccError) as error:
        Graph("default", orders=order_edges(pairs)).order({"a", "b", "c"})
    assert str(error.value).startswith(expected)
