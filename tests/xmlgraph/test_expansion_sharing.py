"""Hosts share a node's expansion only when it would be the same (xmlgraph/expansions.py).

Every test compiles hosts one after another on one node tree (the memo fills and is replayed,
as in a build) and compares each host with a compile on a fresh tree (nothing shared): the
profile, the dependencies in their order, the warnings, or the error, must be the same. The
hosts are made to differ exactly in what the memo assumes equal: whether a name is an attribute
or only a variable, a variable an earlier node set, the owner an earlier <file> gave, the
packages earlier nodes enabled or disabled, a filter's attribute, and per-host values past the
memo's cap; and for runs of nodes shared as one, what a run reads first versus what it writes.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.errors import RocksccError
from rockscc.model.overlay import Overlay
from rockscc.xmlgraph import expansions
from rockscc.xmlgraph.compiler import HostInput, NodeTree, compile_host

GRAPH = '<graph>\n<edge from="root" to="n1"/>\n<edge from="n1" to="n2"/>\n<edge from="n2" to="n3"/>\n</graph>\n'


def make_tree(root: Path, nodes: dict[str, str]) -> None:
    (root / "nodes").mkdir(parents=True, exist_ok=True)
    (root / "graphs" / "default").mkdir(parents=True, exist_ok=True)
    (root / "graphs" / "default" / "g.xml").write_text(GRAPH)
    (root / "nodes" / "root.xml").write_text("<kickstart/>\n")
    for name, body in nodes.items():
        (root / "nodes" / f"{name}.xml").write_text(f"<kickstart>\n{body}\n</kickstart>\n")


def outcome(tree: NodeTree, attrs: dict[str, str], root: Path):
    """What compiling the host gives: everything a build uses of it, or its error."""
    try:
        result = compile_host(tree, HostInput(dict(attrs), root="root", evals=False, cluster_dir=root))
    except RocksccError as exc:
        return ("error", str(exc))
    return (result.profile, list(result.deps.items()), result.warnings, result.nodes)


def alone(root: Path) -> NodeTree:
    """A tree that shares nothing: no node tables filled, no host records (hostrecords.py)."""
    tree = NodeTree.load([Overlay("site", root)])
    tree.host_records = None
    return tree


def assert_shared_equals_alone(root: Path, hosts: list[dict[str, str]], *, records: bool = False) -> NodeTree:
    """Hosts compiled one after another on one tree == each alone. `records`: with host records
    (by default these tests try the node tables, which host records would bypass)."""
    shared = NodeTree.load([Overlay("site", root)])
    if not records:
        shared.host_records = None
    for attrs in hosts:
        assert outcome(shared, attrs, root) == outcome(alone(root), attrs, root), attrs
    return shared


def test_an_attribute_and_a_variable_of_the_same_value_are_not_confused(tmp_path):
    # host 1: A is no attribute, n1 sets the variable A; host 2: A is an attribute of the same
    # value, which n1 overwrites with itself. n2 reads <var name="A"/>: the same text, but host 2
    # depends on attribute A and host 1 does not
    make_tree(tmp_path, {"n1": '<var name="A" val="v"/>', "n2": '<post>a=<var name="A"/></post>', "n3": ""})
    tree = assert_shared_equals_alone(tmp_path, [{"hostname": "h1"}, {"hostname": "h2", "A": "v"}])
    entry = tree.expansions.entry(tree.compiled("n2")[0], False, tmp_path)
    assert entry.recorded == 2  # the second host was not served the first one's expansion


def test_a_variable_set_by_an_earlier_node_decides(tmp_path):
    make_tree(
        tmp_path,
        {
            "n1": '<var name="X" val="one" cond="B"/>\n<var name="X" ref="C" cond="not B"/>',
            "n2": '<post>x=<var name="X"/></post>',
            "n3": "",
        },
    )
    hosts = [{"B": "yes", "C": "c"}, {"B": "no", "C": "one"}, {"B": "no", "C": "two"}, {"B": "yes", "C": "two"}]
    assert_shared_equals_alone(tmp_path, hosts)


def test_the_owner_an_earlier_file_gave_is_inherited_per_host(tmp_path):
    make_tree(
        tmp_path,
        {
            "n1": '<post><file name="/etc/f" owner="alice" cond="B">a</file>'
            '<file name="/etc/f" owner="bob" cond="not B">b</file></post>',
            "n2": '<post><file name="/etc/f" mode="append">more</file></post>',
            "n3": "",
        },
    )
    hosts = [{"B": "yes"}, {"B": "no"}, {"B": "yes"}]
    tree = assert_shared_equals_alone(tmp_path, hosts)
    bodies = [outcome(tree, h, tmp_path)[0].post[-1].body for h in hosts]
    assert "alice" in bodies[0] and "bob" in bodies[1]  # n2's shared text differs by what n1 did
    assert outcome(alone(tmp_path), hosts[1], tmp_path)[0].post[-1].body == bodies[1]


def test_packages_earlier_nodes_enabled_or_disabled(tmp_path):
    make_tree(
        tmp_path,
        {
            "n1": '<package cond="B">p</package>\n<package disable="yes" cond="not B">q</package>',
            "n2": '<package disable="yes">p</package>\n<package>q</package>',
            "n3": '<package debian="" cond="C">r</package><package debian="rr">r</package>',
        },
    )
    hosts = [{"B": "yes", "C": "1"}, {"B": "no"}, {"B": "yes"}, {"B": "no", "C": "1"}]
    tree = assert_shared_equals_alone(tmp_path, hosts)
    one, two = outcome(tree, hosts[0], tmp_path)[0], outcome(tree, hosts[1], tmp_path)[0]
    assert "p" in one.packages and "p" in two.disabled  # same n2, different result


def test_an_undefined_entity_is_an_error_for_that_host_only(tmp_path):
    make_tree(tmp_path, {"n1": "<post>&A;</post>", "n2": "<post>ok</post>", "n3": ""})
    assert_shared_equals_alone(tmp_path, [{"A": "1"}, {}, {"A": "1"}, {"A": "2"}, {}])


def test_past_the_cap_every_host_is_still_its_own(tmp_path, monkeypatch):
    monkeypatch.setattr(expansions, "CAP", 5)
    make_tree(tmp_path, {"n1": '<post>h=<var name="hostname"/></post>', "n2": "<post>same</post>", "n3": ""})
    hosts = [{"hostname": f"compute-0-{i}"} for i in range(12)]
    tree = assert_shared_equals_alone(tmp_path, hosts)
    entry = tree.expansions.entry(tree.compiled("n1")[0], False, tmp_path)
    assert entry.recorded == 5 and entry.full
    for i, attrs in enumerate(hosts):
        assert f"h=compute-0-{i}" in outcome(tree, attrs, tmp_path)[0].post[0].body


def the_run(tree: NodeTree):
    """The one run of the tree's one walk, and the names of its nodes."""
    (walk,) = tree.expansions._walks.values()
    (run,) = walk.starting.values()
    return run, [node.name for node in walk.nodes[run.start : run.end]]


def test_a_run_is_replayed_only_for_hosts_that_read_the_same_values(tmp_path):
    # n1 and n2 read the same for the first two hosts (n3 reads the host name): they become
    # one run. Its reads: A (n1's ref), B, and whether X is an attribute (n2's <var> reads the
    # variable X n1 wrote, which the run decides itself, and the attribute X, which it does not)
    make_tree(
        tmp_path,
        {
            "n1": '<var name="X" ref="A"/>',
            "n2": '<post>x=<var name="X"/> b=&B;</post>',
            "n3": '<post>h=<var name="hostname"/></post>',
        },
    )
    same = {"A": "1", "B": "1"}
    hosts = [{**same, "hostname": "h1"}, {**same, "hostname": "h2"}]
    tree = assert_shared_equals_alone(tmp_path, hosts)
    run, names = the_run(tree)
    assert names == ["n1", "n2"] and run.entry.recorded == 0
    assert_shared_equals_alone_on(tree, tmp_path, [{**same, "hostname": "h3"}])
    assert run.entry.recorded == 1  # recorded from its nodes' traces
    assert_shared_equals_alone_on(tree, tmp_path, [{**same, "hostname": "h4"}])
    assert run.entry.recorded == 1  # replayed
    differing = [{"A": "2", "B": "1"}, {**same, "X": "1"}, {**same, "X": "2"}, {"A": "1", "B": "2"}, {"B": "1"}]
    assert_shared_equals_alone_on(tree, tmp_path, [{**h, "hostname": "h"} for h in differing])
    assert run.entry.recorded == 6  # each was its own: none was served another's run
    body = outcome(tree, {**same, "X": "2", "hostname": "h"}, tmp_path)[0].post[0].body
    assert body == "x=1 b=1"  # n1's ref overwrote the attribute's variable, as alone
    assert_shared_equals_alone_on(tree, tmp_path, [{**h, "hostname": "again"} for h in differing])
    assert run.entry.recorded == 6


def test_a_run_whose_node_writes_a_variable_only_for_some_hosts(tmp_path):
    # n1 sets X only when B holds; n2 reads X: for hosts without B, X is what the host brings
    make_tree(
        tmp_path,
        {
            "n1": '<var name="X" val="one" cond="B"/>',
            "n2": '<post>x=<var name="X"/></post>',
            "n3": '<post>h=<var name="hostname"/></post>',
        },
    )
    hosts = [{"B": "y", "hostname": "h1"}, {"B": "y", "hostname": "h2"}, {"B": "y", "X": "two", "hostname": "h3"}]
    hosts += [{"X": "two", "hostname": "h4"}, {"X": "three", "hostname": "h5"}, {"hostname": "h6"}]
    hosts += [{"B": "y", "X": "four", "hostname": "h7"}, {"X": "two", "hostname": "h8"}]
    tree = assert_shared_equals_alone(tmp_path, hosts)
    assert the_run(tree)[0].entry.recorded == 5  # B, no X | B, X | no B, X=two | X=three | no X


def test_past_the_cap_a_run_is_expanded_node_by_node(tmp_path, monkeypatch):
    monkeypatch.setattr(expansions, "CAP", 3)
    make_tree(
        tmp_path,
        {"n1": "<post>a=&A;</post>", "n2": "<post>same</post>", "n3": '<post>h=<var name="hostname"/></post>'},
    )
    hosts = [{"A": str(i % 6), "hostname": f"h{i}"} for i in range(14)]
    tree = assert_shared_equals_alone(tmp_path, hosts)
    (walk,) = tree.expansions._walks.values()
    assert walk.starting == {}  # full, and missed: dropped


def assert_shared_equals_alone_on(tree: NodeTree, root: Path, hosts: list[dict[str, str]]) -> None:
    for attrs in hosts:
        assert outcome(tree, attrs, root) == outcome(alone(root), attrs, root), attrs


# --- generated node files and hosts -------------------------------------------------------------
NAMES = ["A", "B", "X"]
VALUES = ["v1", "v2", ""]
COND = st.sampled_from(["", ' cond="A"', ' cond="not B"', " cond=\"X == 'v1'\"", ' arch="x86_64"', ' os="linux"'])
NAME = st.sampled_from(NAMES)
VALUE = st.sampled_from(VALUES)
ELEMENT = st.one_of(
    st.builds(lambda n, v, c: f'<var name="{n}" val="{v}"{c}/>', NAME, VALUE, COND),
    st.builds(lambda n, r, c: f'<var name="{n}" ref="{r}"{c}/>', NAME, NAME, COND),
    st.builds(lambda n, m, c: f'<post{c}>a <var name="{n}"/> b <var name="{m}"/></post>', NAME, NAME, COND),
    st.builds(lambda n, c: f"<pre{c}>e=&{n};</pre>", NAME, COND),
    st.builds(lambda p, c: f"<package{c}>{p}</package>", st.sampled_from("pqr"), COND),
    st.builds(lambda p, c: f'<package disable="1"{c}>{p}</package>', st.sampled_from("pqr"), COND),
    st.builds(
        lambda o, c, n: f'<post><file name="/etc/f"{o}{c}>t <var name="{n}"/></file></post>',
        st.sampled_from(["", ' owner="u1"', ' owner="u2" perms="0600"', ' mode="append"']),
        COND,
        NAME,
    ),
    st.builds(lambda c: f'<eval shell="sh"{c}>echo hi</eval>', COND),
)
NODE = st.lists(ELEMENT, max_size=5).map("\n".join)
HOST = st.dictionaries(st.sampled_from([*NAMES, "arch", "os"]), st.sampled_from(["v1", "v2", "x86_64", "linux"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nodes=st.tuples(NODE, NODE, NODE), hosts=st.lists(HOST, min_size=2, max_size=8))
def test_generated_nodes_and_hosts(tmp_path_factory, nodes, hosts):
    root = tmp_path_factory.mktemp("gen")
    make_tree(root, dict(zip(["n1", "n2", "n3"], nodes, strict=True)))
    # the first hosts again: replayed from the memo; after the second host, runs of nodes too
    again = hosts + hosts[:2] + [dict(h, hostname="other") for h in hosts]
    assert_shared_equals_alone(root, again)
    assert_shared_equals_alone(root, again, records=True)
