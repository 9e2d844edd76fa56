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
