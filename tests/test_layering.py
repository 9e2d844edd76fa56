"""The import layering: a layer imports only the layers below it (docs/architecture.md).

Every import counts, at the top of a module or inside a function (a lazy import is still a
dependency), and under TYPE_CHECKING too. The few exceptions are listed in ALLOWED, each with its
reason; an entry that is no longer needed fails the test as well, so the list stays short and true.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "rockscc"

# bottom to top: each name is a package or a module directly under rockscc/
LAYERS = [
    "rockscc",  # the package itself: __version__
    "lazyre",
    "errors",
    "grammar",
    "memo",
    "sandbox",
    "model",
    "xmlgraph",
    "partitions",
    "backends",
    "engine",
    "pipeline",
    "runtime",
    "provision",
    "cli",
    "commands",
    "__main__",
]

ALLOWED = {
    (
        "rockscc/cli/registry.py",
        "commands",
    ): "the registry lists the command modules (pkgutil over the package's path) and imports the one a "
    "command line names: that is its job",
}


def layer_of_module(dotted: str, package: Path) -> str | None:
    """The layer of an imported module name (None: not rockscc's)."""
    parts = dotted.split(".")
    if parts[0] != "rockscc":
        return None
    if len(parts) == 1:
        return "rockscc"
    return parts[1]


def imports_of(path: Path, package: Path) -> list[tuple[int, str]]:
    """(line, layer) of every rockscc import in a module."""
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's own package
                base = ".".join(path.relative_to(package.parent).with_suffix("").parts[: -node.level])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            # `from rockscc import memo` imports the submodule memo; `from rockscc import __version__` the package
            targets = [
                f"{module}.{a.name}" if module == "rockscc" and _is_submodule(package, a.name) else module
                for a in node.names
            ]
        else:
            continue
        for target in targets:
            layer = layer_of_module(target, package)
            if layer is not None:
                found.append((node.lineno, layer))
    return found


def _is_submodule(package: Path, name: str) -> bool:
    return (package / name).is_dir() or (package / f"{name}.py").is_file()


def layer_of_file(path: Path, package: Path) -> str:
    parts = path.relative_to(package).parts
    return "rockscc" if parts == ("__init__.py",) else parts[0].removesuffix(".py")


def wrong_way_imports(package: Path) -> list[tuple[str, str, str]]:
    """(file:line, importing layer, imported layer) of each import of a layer above the importer's."""
    rank = {name: i for i, name in enumerate(LAYERS)}
    found = []
    for path in sorted(package.rglob("*.py")):
        source = layer_of_file(path, package)
        for line, target in imports_of(path, package):
            if rank.get(target, len(LAYERS)) > rank.get(source, -1):
                found.append((f"{path.relative_to(package.parent)}:{line}", source, target))
    return found


def test_layers_import_only_downward():
    unexplained = [
        f"{where}: {source} imports {target}, a layer above it"
        for where, source, target in wrong_way_imports(PACKAGE)
        if (where.rsplit(":", 1)[0], target) not in ALLOWED
    ]
    assert not unexplained, "\n".join(unexplained)


def test_every_exception_is_still_needed():
    used = {(where.rsplit(":", 1)[0], target) for where, _source, target in wrong_way_imports(PACKAGE)}
    assert set(ALLOWED) <= used, f"no longer needed, remove from ALLOWED: {set(ALLOWED) - used}"


def test_every_module_has_a_layer():
    names = {layer_of_file(path, PACKAGE) for path in PACKAGE.rglob("*.py")}
    assert names <= set(LAYERS), f"give these a layer in LAYERS and docs/architecture.md: {names - set(LAYERS)}"


@pytest.mark.parametrize(
    "where, line",
    [
        ("model/cluster.py", "from rockscc.pipeline import Session"),  # at the top
        ("xmlgraph/graph.py", "def late():\n    from rockscc.engine import make\n"),  # lazily, in a function
        ("backends/pxe.py", "from rockscc import commands"),  # a submodule through the package
        (
            "partitions/layout.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import rockscc.cli.context\n",
        ),
    ],
)
def test_a_wrong_way_import_fails_the_check(tmp_path, where, line):
    """The check itself: a copy of the package with one import added the wrong way is caught,
    naming the file and line."""
    copy = tmp_path / "rockscc"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert not [w for w in wrong_way_imports(copy) if (w[0].rsplit(":", 1)[0], w[2]) not in ALLOWED]
    target = copy / where
    lines_before = target.read_text().count("\n")
    target.write_text(target.read_text() + "\n" + line + "\n")
    found = [w for w in wrong_way_imports(copy) if (w[0].rsplit(":", 1)[0], w[2]) not in ALLOWED]
    assert len(found) == 1, found
    file, lineno = found[0][0].rsplit(":", 1)
    assert file == f"rockscc/{where}" and int(lineno) > lines_before


def test_the_architecture_table_lists_the_layers_in_order():
    """docs/architecture.md's table names every layer, bottom first, as LAYERS does."""
    text = (REPO / "docs" / "architecture.md").read_text()
    rows = re.findall(r"^\| `rockscc(?:\.(\w+))?(?:\.py)?/?` \|", text, re.M)
    assert [row or "rockscc" for row in rows] == [name for name in LAYERS if name not in ("rockscc", "__main__")]
