"""An overlay is one source of node and graph files: the built-in base, a roll, or the site."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Overlay:
    """`path/nodes/*.xml` and `path/graphs/<graph>/*.xml`; later overlays win over earlier ones."""

    name: str  # "base", the roll's name, or "site"
    path: Path

    def nodes_dir(self) -> Path:
        return self.path / "nodes"

    def graph_dir(self, graph: str) -> Path:
        return self.path / "graphs" / graph


BUILTIN_BASE = Path(__file__).resolve().parent.parent.parent
"""The repository root holding rockscc's own `nodes/` and `graphs/default/`."""


def find_include(roots: list[Path], name: str) -> Path | None:
    """`include/NAME` in the last of `roots` (overlay directories) that has it, or None. NAME is
    a relative path without ".."; the file (links followed) must lie inside its overlay's tree:
    an include never reads anything outside the description and its rolls."""
    from rockscc.errors import RocksccError

    if not name or name.startswith("/") or ".." in Path(name).parts or "\0" in name:
        raise RocksccError(f'"{name}" is not a file under include/ (a relative path without "..")')
    for root in reversed(roots):
        candidate = root / "include" / name
        if candidate.is_file():
            real, tree = candidate.resolve(), root.resolve()
            if not real.is_relative_to(tree):
                raise RocksccError(f"include/{name} leads outside {root} (a link to {real})")
            return candidate
    return None


class LooseFileTree:
    """The tree of a node file read on its own (`test node`, `test partition`): its includes
    resolve as in a roll's source tree, ../include/NAME from the file's nodes/ directory."""

    def __init__(self, node_file: Path) -> None:
        self.root = node_file.resolve().parent.parent

    def find_include(self, name: str) -> Path | None:
        return find_include([self.root], name)

    def file_hash(self, path: Path) -> str:
        import hashlib

        return hashlib.sha256(path.read_bytes()).hexdigest()
