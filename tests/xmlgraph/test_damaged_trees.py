"""A site node or graph file damaged by hand — malformed, entity bombs and external entities,
unknown or misplaced tags, edges to nothing, order cycles, conds nested past the stack, links in
a loop — is refused with `error - …` naming the file (and line where there is one), by every
command that reads it: never an internal error, a file outside the tree read, or a change to the
description or to the kickstarts already built."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli.test_damaged_description import snapshot
from tests.conftest import run_cli

NODE, GRAPH = "nodes/site.xml", "graphs/default/site.xml"
COMMANDS = [
    ["list", "host", "profile", "compute-0-0"],
    ["list", "node", "xml", "site"],
    ["check"],
    ["build"],
]
_LAUGHS = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 9))
# name -> (file, text, what the error names (file:line, or file), commands that read the file)
DAMAGES = {
    "unclosed tag": (NODE, "<kickstart>\n<package>vim\n</kickstart>\n", f"{NODE}:3", COMMANDS),
    "empty": (NODE, "", f"{NODE}:1", COMMANDS),
    "a graph's root": (NODE, "<graph>\n<edge from='a' to='b'/>\n</graph>\n", f"{NODE}:1", COMMANDS),
    "billion laughs": (
        NODE,
        f'<!DOCTYPE k [<!ENTITY l0 "lol">{_LAUGHS}]>\n<kickstart>\n<post>&l8;</post>\n</kickstart>\n',
        f"{NODE}:3",
        COMMANDS[:1] + COMMANDS[2:],
    ),
    "external entity": (
        NODE,
        '<!DOCTYPE k [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<kickstart>\n<post>&x;</post>\n</kickstart>\n',
        f"{NODE}:3",
        COMMANDS[:1] + COMMANDS[2:],
    ),
    "a ]> inside the internal subset": (
        NODE,
        '<!DOCTYPE k [<!ENTITY a "]>"><!ENTITY x SYSTEM "file:///etc/passwd">]>\n<kickstart>\n<post>&x;</post>\n</kickstart>\n',
        NODE,
        COMMANDS,
    ),
    "character reference to NUL": (NODE, "<kickstart>\n<post>&#0;</post>\n</kickstart>\n", f"{NODE}:2", COMMANDS),
    "attribute of 20 MB": (NODE, f'<kickstart>\n<post arg="{"x" * 20_000_000}">x</post>\n</kickstart>\n', NODE, COMMANDS),
    "nested 100 000 deep": (NODE, "<kickstart>\n" + "<post>" * 100_000 + "</post>" * 100_000 + "\n</kickstart>\n", NODE, COMMANDS),
    "cond nested past the stack": (
        NODE,
        f'<kickstart>\n<post cond="{"(" * 5000}a{")" * 5000}">x</post>\n</kickstart>\n',
        f"{NODE}:2",
        COMMANDS,
    ),
    "cond of a thousand nots": (NODE, f'<kickstart>\n<post cond="{"not " * 1000}a">x</post>\n</kickstart>\n', f"{NODE}:2", COMMANDS),
    "include of an absolute path": (NODE, '<kickstart>\n<post><include file="/etc/passwd"/></post>\n</kickstart>\n', f"{NODE}:2", COMMANDS),
    "edge to a missing node": (GRAPH, "<graph>\n<edge from='compute' to='nosuchnode'/>\n</graph>\n", f"{GRAPH}:2", COMMANDS[:1] + COMMANDS[2:]),
    "edge to a path": (GRAPH, "<graph>\n<edge from='compute' to='../../etc/passwd'/>\n</graph>\n", f"{GRAPH}:2", COMMANDS[:1] + COMMANDS[2:]),
    "order cycle": (
        GRAPH,
        "<graph>\n<edge from='compute' to='site'/>\n<order head='site' tail='base'/>\n<order head='base' tail='site'/>\n</graph>\n",
        GRAPH,
        COMMANDS[:1] + COMMANDS[2:],
    ),
    "edge without ends": (GRAPH, "<graph>\n<edge/>\n</graph>\n", f"{GRAPH}:2", COMMANDS[:1] + COMMANDS[2:]),
    "graph cond nested past the stack": (
        GRAPH,
        f"<graph>\n<edge from='compute' to='site' cond='{'(' * 5000}a{')' * 5000}'/>\n</graph>\n",
        f"{GRAPH}:2",
        COMMANDS[:1] + COMMANDS[2:],
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A description with a site node file in the compute graph, built once."""
    root = tmp_path_factory.mktemp("built") / "cluster"
    assert run_cli("init", str(root), "password=secret").rc == 0
    assert run_cli("-C", str(root), "add", "host", "compute-0-0").rc == 0
    (root / NODE).write_text("<kickstart>\n<package>vim</package>\n</kickstart>\n")
    (root / GRAPH).write_text("<graph>\n<edge from='compute' to='site'/>\n</graph>\n")
    assert run_cli("-C", str(root), "build").rc == 0
    return root


@pytest.fixture
def copy(built, tmp_path) -> Path:
    """The built description at another path: its build/ is compared, not rebuilt."""
    root = tmp_path / "cluster"
    shutil.copytree(built, root, symlinks=True)
    return root


def assert_refused(root: Path, argv: list[str], names: str, kickstarts: dict) -> None:
    before = {k: v for k, v in snapshot(root).items() if not k.startswith("build/")}
    result = run_cli("-C", str(root), *argv)
    assert result.rc == 1, (argv, result.rc, result.out[-300:], result.err)
    assert "internal error" not in result.err and "Traceback" not in result.err, (argv, result.err)
    assert result.err.startswith(("error - ", "warning - ")), (argv, result.err)
    assert names in result.err + (result.out if argv == ["check"] else ""), (argv, result.err)  # check lists on stdout
    assert "root:x:0:0" not in result.out + result.err, argv  # /etc/passwd was not read
    after = snapshot(root)
    assert {k: v for k, v in after.items() if not k.startswith("build/")} == before, argv
    assert {k: after.get(k) for k in kickstarts} == kickstarts, argv  # the last good kickstarts kept


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_node_or_graph_file_is_refused(copy: Path, damage: str) -> None:
    rel, text, names, commands = DAMAGES[damage]
    (copy / rel).write_text(text)
    kickstarts = {k: v for k, v in snapshot(copy).items() if k.startswith("build/kickstart/")}
    for argv in commands:
        assert_refused(copy, argv, names, kickstarts)


def test_a_node_file_that_is_a_loop_of_links_is_refused(copy: Path) -> None:
    """Path.resolve() raises RuntimeError on a loop (Python 3.11, 3.12): an internal error before."""
    (copy / NODE).unlink()
    (copy / NODE).symlink_to("site.xml")
    kickstarts = {k: v for k, v in snapshot(copy).items() if k.startswith("build/kickstart/")}
    for argv in COMMANDS:
        assert_refused(copy, argv, "site.xml", kickstarts)
