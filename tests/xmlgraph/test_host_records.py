"""A host's profile made from another host's record with its own values in the holes
(xmlgraph/hostrecords.py) is the profile a full compile gives.

Hosts are compiled one after another on one tree (records made, specialized, served) and each is
compared with a compile on a tree that shares nothing (no node tables, no records): profile,
dependencies in order, warnings, or the error. They differ in what a record's key must cover: an
attribute a filter tests, one copied into text (absent, a hole, a value with whitespace or a line
break that strip/splitlines treat differently), whether a name is an attribute at all, the value
an earlier `<var ref>` copied, an eval's output (evals on: never recorded), and values that make a
copied text pass a test differently (a here-doc line `EOF`, the skipped-eval marker). Each part
of the key is then removed in turn (mutations): the comparison must fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.errors import RocksccError
from rockscc.xmlgraph import hostrecords
from rockscc.xmlgraph.compiler import HostInput, NodeTree, compile_host
from tests.xmlgraph.test_expansion_sharing import alone, make_tree


def outcome(tree: NodeTree, attrs: dict[str, str], root: Path, evals: bool = False):
    try:
        result = compile_host(tree, HostInput(dict(attrs), root="root", evals=evals, cluster_dir=root))
    except (RocksccError, KeyError) as exc:  # KeyError: a mutated record filling a hole the host lacks
        return ("error", type(exc).__name__, str(exc))
    return (result.profile, list(result.deps.items()), result.warnings, result.nodes)


def with_records(root: Path) -> NodeTree:
    from rockscc.model.overlay import Overlay

    return NodeTree.load([Overlay("site", root)])


def mismatches(root: Path, hosts: list[dict[str, str]], evals: bool = False) -> list[dict]:
    """The hosts whose compile on one shared tree (records on) differs from a compile alone."""
    shared = with_records(root)
    return [attrs for attrs in hosts if outcome(shared, attrs, root, evals) != outcome(alone(root), attrs, root, evals)]


def served(tree: NodeTree) -> list:
    return [walk for walk in tree.host_records._walks.values() if walk.recorded]


def test_hosts_differing_in_copied_values_only_are_served_from_one_record(tmp_path):
    make_tree(
        tmp_path,
        {
            "n1": '<var name="Node_Hostname" ref="hostname"/><main><network>--hostname &hostname;</network></main>',
            "n2": '<post>c=&cluster; h=<var name="Node_Hostname"/></post><post>same</post>',
            "n3": '<post><file name="/etc/hostname">&hostname;</file></post><debug>&ip;</debug>',
        },
    )
    hosts = [{"hostname": f"c-0-{i}", "ip": f"10.1.0.{i}", "cluster": "big"} for i in range(6)]
    shared = with_records(tmp_path)
    for attrs in hosts:
        assert outcome(shared, attrs, tmp_path) == outcome(alone(tmp_path), attrs, tmp_path)
    (walk,) = served(shared)
    assert walk.recorded == 2  # the general record, then the one with "cluster" filled for good
    (special, general) = walk.shapes  # the specialized shape is tried first
    assert special[1] == ("cluster",) and "cluster" in general[2]
    assert outcome(shared, hosts[3], tmp_path)[0].post[0].body == "c=big h=c-0-3"


def test_a_host_differing_in_a_constant_value_is_served_by_the_general_record(tmp_path):
    make_tree(tmp_path, {"n1": "<post>c=&cluster; h=&hostname;</post>", "n2": "", "n3": ""})
    hosts = [{"hostname": f"h{i}", "cluster": "big"} for i in range(3)] + [{"hostname": "x", "cluster": "other"}]
    assert mismatches(tmp_path, hosts) == []


@pytest.mark.parametrize(
    ("nodes", "hosts"),
    [
        # a filter's attribute decides what is expanded
        ({"n1": '<post cond="A">a &hostname;</post>'}, [{"hostname": "h1", "A": "v"}, {"hostname": "h2"}]),
        # whether A is an attribute: copied, or the variable n1 set
        (
            {"n1": '<var name="A" val="v" cond="B"/>', "n2": '<post>a=<var name="A"/> &hostname;</post>'},
            [{"hostname": "h1", "B": "y"}, {"hostname": "h2", "A": "w"}, {"hostname": "h3"}],
        ),
        # values that are no holes: strip and splitlines treat them differently
        (
            {"n1": "<debug>&A; &hostname;</debug>", "n2": "<main><bootloader>&A;</bootloader></main>"},
            [{"hostname": "h1", "A": "v"}, {"hostname": "h2", "A": "x\ny"}, {"hostname": "h3", "A": " z "}],
        ),
        # an absent attribute copied: an error for that host only
        ({"n1": "<post>&A; &hostname;</post>"}, [{"hostname": "h1", "A": "v"}, {"hostname": "h2"}, {"hostname": "h3"}]),
        # a copied value that makes a here-doc line EOF, or the skipped-eval marker
        (
            {
                "n1": '<post><file name="/etc/x">a\n&hostname;\nb</file></post>',
                "n2": "<main><url># rockscc: &A;</url></main>",
            },
            [{"hostname": "h1", "A": "v"}, {"hostname": "EOF", "A": "v"}, {"hostname": "h2", "A": "<eval>"}],
        ),
        # a hole in a package name or a file name: not recorded
        (
            {"n1": "<package>p-&hostname;</package>", "n2": '<post><file name="/etc/&hostname;">x</file></post>'},
            [{"hostname": "h1"}, {"hostname": "h2"}],
        ),
        # a <var ref> copies a hole into a variable read later
        (
            {
                "n1": '<var name="X" ref="hostname"/>',
                "n2": '<var name="Y" ref="X"/>',
                "n3": '<post><var name="Y"/></post>',
            },
            [{"hostname": "h1"}, {"hostname": "h2", "X": "x"}, {"hostname": "h3"}],
        ),
    ],
)
def test_hosts_differing_in_what_the_key_covers(tmp_path, nodes, hosts):
    make_tree(tmp_path, {"n1": "", "n2": "", "n3": "", **nodes})
    again = [*hosts, *hosts, *[dict(h, hostname=f"{h.get('hostname', '')}x") for h in hosts]]
    assert mismatches(tmp_path, again) == []


def test_an_eval_is_never_recorded(tmp_path):
    make_tree(tmp_path, {"n1": '<post><eval shell="sh">echo "$A"</eval> &hostname;</post>', "n2": "", "n3": ""})
    hosts = [{"hostname": "h1", "A": "1"}, {"hostname": "h2", "A": "1"}, {"hostname": "h3", "A": "2"}]
    assert mismatches(tmp_path, hosts, evals=True) == []
    shared = with_records(tmp_path)
    for attrs in hosts:
        outcome(shared, attrs, tmp_path, evals=True)
    (walk,) = shared.host_records._walks.values()
    assert walk.recorded == 0 and walk.refused == 2 and not walk.recording


# --- mutations: each part of the key removed, the comparison must fail ---------------------------
def _no_decided(self, name):
    value = self.attrs.get(name)
    self.deps[f"attr:{name}"] = self.shown.get(name)
    return value


def _no_copied(self, name):
    self.deps[f"attr:{name}"] = self.shown.get(name)
    return self.shown.get(name)


MUTATIONS = [
    (
        "attr",
        _no_decided,
        {"n1": '<post cond="A">a &hostname;</post>'},
        [{"hostname": "h1", "A": "v"}, {"hostname": "h2"}],
    ),
    (
        "_copied_attr",
        _no_copied,
        {"n1": "<debug>&A; &hostname;</debug>"},
        [{"hostname": "h1", "A": "v"}, {"hostname": "h2", "A": "x\ny"}],
    ),
    (
        "_var",
        lambda self, part, node: hostrecords.Expander._var(self, part, node),
        {"n1": '<var name="A" val="v" cond="B"/>', "n2": '<post>a=<var name="A"/> &hostname;</post>'},
        [{"hostname": "h1", "B": "y"}, {"hostname": "h2", "B": "y", "A": "w"}],
    ),
    (
        "_render_file",
        lambda self, name, **values: hostrecords.Expander._render_file(self, name, **values),
        {"n1": '<post><file name="/etc/x">a\n&hostname;\nb</file></post>'},
        [{"hostname": "h1"}, {"hostname": "EOF"}],
    ),
    (
        "_eval_skipped_in",
        lambda self, line: hostrecords.EVAL_SKIPPED in line,
        {"n1": "<main><url># rockscc: &A;</url></main>"},
        [{"hostname": "h1", "A": "v"}, {"hostname": "h2", "A": "<eval>"}],
    ),
]


@pytest.mark.parametrize(("method", "mutant", "nodes", "hosts"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_dropping_an_input_from_the_key_is_caught(tmp_path, monkeypatch, method, mutant, nodes, hosts):
    make_tree(tmp_path, {"n1": "", "n2": "", "n3": "", **nodes})
    assert mismatches(tmp_path, hosts) == []
    monkeypatch.setattr(hostrecords.HoleExpander, method, mutant)
    assert mismatches(tmp_path, hosts) != []


def test_a_weaker_hole_test_is_caught(tmp_path, monkeypatch):
    make_tree(tmp_path, {"n1": "<debug>&A; &hostname;</debug>", "n2": "", "n3": ""})
    hosts = [{"hostname": "h1", "A": "v"}, {"hostname": "h2", "A": "x\ny"}]
    monkeypatch.setattr(hostrecords, "is_hole", lambda value: bool(value))
    assert mismatches(tmp_path, hosts) != []


# --- generated node files and hosts -------------------------------------------------------------
NAMES = ["A", "B", "hostname"]
VALUES = ["v1", "v2", "", "a b", "x\ny", "EOF", "<eval>"]
COND = st.sampled_from(["", ' cond="A"', ' cond="not B"', " cond=\"A == 'v1'\"", ' arch="x86_64"'])
NAME = st.sampled_from(NAMES)
ELEMENT = st.one_of(
    st.builds(lambda n, v, c: f'<var name="{n}" val="{v}"{c}/>', NAME, st.sampled_from(["v1", "k"]), COND),
    st.builds(lambda n, r, c: f'<var name="{n}" ref="{r}"{c}/>', NAME, NAME, COND),
    st.builds(lambda n, m, c: f'<post{c}>a <var name="{n}"/> b <var name="{m}"/></post>', NAME, NAME, COND),
    st.builds(lambda n, c: f"<pre{c}>e=&{n};</pre>", NAME, COND),
    st.builds(lambda n, c: f"<debug{c}>d &{n};</debug>", NAME, COND),
    st.builds(
        lambda t, n: f'<main><{t[0]}>{t[1]}<var name="{n}"/></{t[0]}></main>',
        st.sampled_from([("url", "# rockscc: "), ("bootloader", ""), ("network", "--hostname ")]),
        NAME,
    ),
    st.builds(lambda p, c: f"<package{c}>{p}</package>", st.sampled_from(["p", 'q-<var name="B"/>']), COND),
    st.builds(
        lambda o, n, c: f'<post><file name="/etc/f"{o}{c}>t\n<var name="{n}"/>\n</file></post>',
        st.sampled_from(["", ' owner="u1"', ' mode="append"', ' owner="&A;"']),
        NAME,
        COND,
    ),
    st.builds(lambda c: f'<eval shell="sh"{c}>echo hi</eval>', COND),
)
NODE = st.lists(ELEMENT, max_size=5).map("\n".join)
HOST = st.fixed_dictionaries(
    {"hostname": st.sampled_from(["h1", "h2", "h3", "EOF"])},
    optional={"A": st.sampled_from(VALUES), "B": st.sampled_from(VALUES), "arch": st.just("x86_64")},
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nodes=st.tuples(ELEMENT.map(str), NODE, NODE), hosts=st.lists(HOST, min_size=2, max_size=8))
def test_generated_nodes_and_hosts(tmp_path_factory, nodes, hosts):
    root = tmp_path_factory.mktemp("gen")
    make_tree(root, dict(zip(["n1", "n2", "n3"], nodes, strict=True)))
    # the hosts again, and under other names: served by records (general, then specialized)
    again = [*hosts, *hosts, *[dict(h, hostname=f"{h['hostname']}z{i}") for i, h in enumerate(hosts)]]
    assert mismatches(root, again) == []


def test_a_specialized_record_keyed_without_its_constants_is_caught(tmp_path, monkeypatch):
    make_tree(tmp_path, {"n1": "<post>c=&cluster; h=&hostname;</post>", "n2": "", "n3": ""})
    hosts = [{"hostname": f"h{i}", "cluster": "big"} for i in range(3)] + [{"hostname": "x", "cluster": "other"}]
    assert mismatches(tmp_path, hosts) == []
    add = hostrecords.WalkRecords.add
    monkeypatch.setattr(hostrecords.WalkRecords, "add", lambda self, d, e, c, r, **kw: add(self, d, {}, c, r, **kw))
    assert mismatches(tmp_path, hosts) != []
