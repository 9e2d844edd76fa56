"""Graph semantics: inclusion through passing edges, every edge form, and the order rules."""

from __future__ import annotations

import re

from tests.conftest import run_cli
from tests.xmlgraph.conftest import write


def setup(root, graph_body: str, nodes: list[str]) -> None:
    write(root, "graphs/default/g.xml", f"<graph>\n{graph_body}\n</graph>\n")
    for name in nodes + ["server"]:
        write(root, f"nodes/{name}.xml", f"<kickstart><post>NODE-{name}</post></kickstart>\n")


def order_of(root) -> list[str]:
    result = run_cli("-C", str(root), "list", "host", "profile", "compute-0-0")
    assert result.rc == 0, result.err
    return re.findall(r"^# nodes/(\S+)\.xml", result.out, re.M)


def test_edge_forms_and_filters(bare):
    setup(
        bare,
        """
<edge from="compute" to="a"/>
<edge from="compute"><to>b</to><to arch="ia64">skipped</to><to> c </to></edge>
<edge to="d"><from>c</from></edge>
<edge from="compute" to="e" cond="rack == 5"/>
<edge from="server" to="a"/>""",
        ["compute", "a", "b", "c", "d", "e", "skipped"],
    )
    assert set(order_of(bare)) == {"compute", "a", "b", "c", "d"}


def test_a_node_is_included_if_any_path_passes(bare):
    setup(
        bare,
        """
<edge from="compute" to="x" arch="ia64"/>
<edge from="compute" to="y"/>
<edge from="y" to="x"/>
<edge from="server" to="y"/>""",
        ["compute", "x", "y"],
    )
    assert "x" in order_of(bare)


def test_order_head_tail_and_alphabetical_tail(bare):
    setup(
        bare,
        """
<edge from="compute"><to>zeta</to><to>alpha</to><to>mid</to><to>last</to><to>first</to></edge>
<edge from="server" to="alpha"/>
<order head="HEAD"><tail>first</tail></order>
<order head="last" tail="TAIL"/>
<order head="mid" tail="alpha"/>""",
        ["compute", "zeta", "alpha", "mid", "last", "first"],
    )
    order = order_of(bare)
    assert order[0] == "first"
    assert order.index("mid") < order.index("alpha")
    # unconstrained nodes (compute, zeta) go alphabetically at TAIL; last precedes TAIL
    assert order.index("last") < order.index("compute") < order.index("zeta")


def test_output_order_is_stable_for_ties(bare):
    setup(
        bare,
        """
<edge from="compute"><to>b</to><to>a</to><to>c</to></edge>
<edge from="server" to="a"/>
<order head="HEAD"><tail>c</tail><tail>b</tail><tail>a</tail></order>""",
        ["compute", "a", "b", "c"],
    )
    assert order_of(bare)[:3] == ["a", "b", "c"]


def test_order_cycle_names_the_files_and_lines(bare):
    setup(
        bare,
        """
<edge from="compute"><to>a</to><to>b</to></edge>
<edge from="server" to="a"/>
<order head="a" tail="b"/>
<order head="b" tail="a"/>""",
        ["compute", "a", "b"],
    )
    result = run_cli("-C", str(bare), "list", "host", "profile", "compute-0-0")
    assert result.rc == 1
    assert "order cycle: a -> b -> a" in result.err
    assert "graphs/default/g.xml:5" in result.err and "graphs/default/g.xml:6" in result.err
    check = run_cli("-C", str(bare), "check")
    assert check.rc == 1 and "order cycle" in check.out


def test_edge_to_a_missing_node_file(bare):
    setup(
        bare,
        """
<edge from="compute" to="ghost"/>
<edge from="server" to="compute"/>""",
        ["compute"],
    )
    result = run_cli("-C", str(bare), "list", "host", "profile", "compute-0-0")
    assert result.rc == 1
    assert 'cannot find node "ghost"' in result.err and "graphs/default/g.xml:3" in result.err
    check = run_cli("-C", str(bare), "check")
    assert check.rc == 1
    assert 'graphs/default/g.xml:3: error: edge compute -> ghost: no node file for "ghost"' in check.out


def test_edge_without_target_is_an_error(bare):
    setup(bare, '<edge from="compute"/>', ["compute"])
    result = run_cli("-C", str(bare), "list", "host", "profile", "compute-0-0")
    assert result.rc == 1 and "graphs/default/g.xml:2: <edge> needs from= and to=" in result.err


def test_check_reports_unreachable_nodes_and_unknown_graph_tags(bare):
    setup(bare, '<edge from="compute" to="a"/>\n<edge from="server" to="a"/>\n<frob/>', ["compute", "a", "orphan"])
    result = run_cli("-C", str(bare), "check")
    assert result.rc == 0, result.out
    assert 'nodes/orphan.xml: warning: node "orphan" is reached from no appliance root' in result.out
    assert "graphs/default/g.xml:4: warning: unknown graph element <frob> ignored" in result.out


def test_check_warns_of_a_graph_file_whose_top_element_is_not_graph(bare):
    """A node file put in graphs/ by mistake was read without a word (its <package>s and
    <post>s as "unknown graph elements" only when it had any)."""
    setup(bare, '<edge from="compute" to="a"/>', ["compute", "a"])
    write(bare, "graphs/default/misplaced.xml", "<kickstart>\n<description>a node</description>\n</kickstart>\n")
    result = run_cli("-C", str(bare), "check")
    assert (
        "graphs/default/misplaced.xml:1: warning: a graph file's top element is <graph>, not <kickstart>" in result.out
    )


def test_list_host_graph_dot_marks_filtered_edges(bare):
    setup(
        bare,
        '<edge from="compute" to="a"/>\n<edge from="compute" to="b" arch="ia64"/>\n<edge from="server" to="a"/>',
        ["compute", "a", "b"],
    )
    result = run_cli("-C", str(bare), "list", "host", "graph", "compute-0-0")
    assert result.rc == 0, result.err
    assert '"compute" -> "a";' in result.out
    assert '"compute" -> "b" [style=dashed];' in result.out
    assert re.search(r'"a" \[label="\d+\. a"', result.out)
