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


def _builtin_base() -> Path:
    """rockscc's own `nodes/`, `graphs/default/` and `rolls/`: inside the installed package, where
    the wheel carries them (rockscc/data/, pyproject.toml's force-include), else at the top of the
    source tree they live in (a checkout, an editable install)."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "data"
    return installed if (installed / "nodes").is_dir() else package.parent


BUILTIN_BASE = _builtin_base()
