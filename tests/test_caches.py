"""Every cache a compile uses is owned by a pipeline.Session; the few module-level ones left are
listed in pipeline/session.py (PROCESS_WIDE) with why each may be. This test finds module-level
state in the code (functools caches, containers a module mutates or rebinds, lower-case module
containers) and fails when it differs from that list, in either direction."""

from __future__ import annotations

import ast
import os
import shutil
from pathlib import Path

from rockscc.pipeline.session import PROCESS_WIDE
from tests.conftest import REPO, run_cli

PACKAGE = REPO / "rockscc"
CACHE_DECORATORS = {"cache", "lru_cache"}
MUTATORS = {
    "add",
    "append",
    "extend",
    "insert",
    "update",
    "setdefault",
    "pop",
    "popitem",
    "clear",
    "remove",
    "discard",
    "__setitem__",
}
CONTAINERS = (ast.Dict, ast.Set, ast.List, ast.DictComp, ast.SetComp, ast.ListComp)


def module_state(path: Path, package: Path) -> set[str]:
    """`module:name` of each piece of module-level state in one file."""
    tree = ast.parse(path.read_text())
    module = ".".join(path.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__")
    found, containers = set(), {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
            _decorator_name(d) in CACHE_DECORATORS for d in stmt.decorator_list
        ):
            found.add(stmt.name)
        targets = (
            stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
        )
        value = getattr(stmt, "value", None)
        for target in targets:
            if (
                isinstance(target, ast.Name)
                and not target.id.startswith("__")
                and (isinstance(value, CONTAINERS) or _is_container_call(value))
            ):
                containers[target.id] = stmt.lineno
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.update(node.names)
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, (ast.Store, ast.Del))
            and isinstance(node.value, ast.Name)
            and node.value.id in containers
        ):
            found.add(node.value.id)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in MUTATORS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in containers
        ):
            found.add(node.func.value.id)
    found |= {name for name in containers if not name.isupper() and name.lstrip("_") == name.lstrip("_").lower()}
    return {f"{module}:{name}" for name in found}


def _decorator_name(node) -> str:
    node = node.func if isinstance(node, ast.Call) else node
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _is_container_call(value) -> bool:
    return isinstance(value, ast.Call) and _decorator_name(value) in {
        "dict",
        "set",
        "list",
        "defaultdict",
        "OrderedDict",
    }


def package_state(package: Path) -> set[str]:
    return {entry for path in sorted(package.rglob("*.py")) for entry in module_state(path, package)}


def test_module_level_state_is_what_the_session_file_lists():
    found = package_state(PACKAGE)
    assert not found - set(PROCESS_WIDE), (
        f"module-level state not listed in pipeline/session.py PROCESS_WIDE "
        f"(make it the session's, or list it with why): {sorted(found - set(PROCESS_WIDE))}"
    )
    assert not set(PROCESS_WIDE) - found, (
        f"listed but gone, remove from PROCESS_WIDE: {sorted(set(PROCESS_WIDE) - found)}"
    )


def test_the_scan_finds_a_cache_added_at_module_level(tmp_path):
    """The check itself: each way of keeping state in a module is found."""
    copy = tmp_path / "rockscc"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "xmlgraph" / "graph.py").write_text(
        (copy / "xmlgraph" / "graph.py").read_text()
        + (
            "\n_WALKS = {}\n\ndef remember(key, value):\n    _WALKS[key] = value\n"
            "\n@functools.lru_cache(maxsize=None)\ndef parsed(text):\n    return text\n"
            "\n_seen = set()\n\n_last = None\n\ndef note(x):\n    global _last\n    _last = x\n"
        )
    )
    assert package_state(copy) - package_state(PACKAGE) == {
        "rockscc.xmlgraph.graph:_WALKS",
        "rockscc.xmlgraph.graph:parsed",
        "rockscc.xmlgraph.graph:_seen",
        "rockscc.xmlgraph.graph:_last",
    }


def test_a_new_session_sees_a_node_file_rewritten_with_the_same_size_and_mtime(cluster_dir):
    """A process running command after command (tests, `load`, --watch) gets a new session, and so
    a new node tree, each time: a tree kept by (path, size, mtime) would serve the old text."""
    run = lambda *a: run_cli("-C", str(cluster_dir), *a)  # noqa: E731
    assert run("add", "host", "compute-0-0").rc == 0
    node = cluster_dir / "nodes" / "extend-compute.xml"
    node.write_text("<kickstart><post>echo AAAA</post></kickstart>\n")
    assert "echo AAAA" in run("list", "host", "profile", "compute-0-0").out
    stat = node.stat()
    node.write_text("<kickstart><post>echo BBBB</post></kickstart>\n")
    os.utime(node, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert node.stat().st_size == stat.st_size and node.stat().st_mtime_ns == stat.st_mtime_ns
    assert "echo BBBB" in run("list", "host", "profile", "compute-0-0").out
