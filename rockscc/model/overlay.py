"""An overlay is one source of node and graph files: the built-in base, a roll, or the site."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rockscc.errors import RocksccError


@dataclass(frozen=True)
class Overlay:
    """`path/nodes/*.xml` and `path/graphs/<graph>/*.xml`; later overlays win over earlier ones."""

    name: str  # "base", the roll's name, or "site"
    path: Path

    def nodes_dir(self) -> Path:
        return self.path / "nodes"

    def graph_dir(self, graph: str) -> Path:
        return self.path / "graphs" / graph

    def xml_files(self, directory: Path) -> list[Path]:
        """The `*.xml` files of `directory` (its nodes/ or a graph's folder), sorted. A folder or
        file that is a link out of the overlay's tree is refused: node and graph files, like
        includes, are read only from the description and its rolls."""
        if not directory.is_dir():
            return []
        paths = sorted(directory.glob("*.xml"))
        for path in (directory, *(p for p in paths if p.is_symlink())):
            real = outside(path, self.path)
            if real is not None:
                shown = path.relative_to(self.path) if path.is_relative_to(self.path) else path
                raise RocksccError(f"{shown} ({self.name}) leads outside {self.path} (a link to {real})")
        return paths


def _builtin_base() -> Path:
    """rockscc's own `nodes/`, `graphs/default/` and `rolls/`: inside the installed package, where
    the wheel carries them (rockscc/data/, pyproject.toml's force-include), else at the top of the
    source tree they live in (a checkout, an editable install)."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "data"
    return installed if (installed / "nodes").is_dir() else package.parent


BUILTIN_BASE = _builtin_base()


def files_signature(overlays: list[Overlay]) -> tuple:
    """(path, size, mtime) of every node, graph and include file of the overlays: a stat each, no
    reads (what a build's input stamps cover of them)."""
    entries: list[tuple[str, int, int]] = []
    for overlay in overlays:
        for sub in ("nodes", "graphs", "include"):
            _scan(str(overlay.path / sub), entries)
    return tuple(sorted(entries))


def _scan(directory: str, entries: list) -> None:
    """os.scandir, not Path.rglob: this runs on every build, and rglob is ~10x slower."""
    try:
        with os.scandir(directory) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    _scan(entry.path, entries)
                else:
                    try:
                        st = entry.stat()
                    except OSError:
                        continue
                    entries.append((entry.path, st.st_size, st.st_mtime_ns))
    except (FileNotFoundError, NotADirectoryError):
        pass


def find_include(roots: list[Path], name: str) -> Path | None:
    """`include/NAME` in the last of `roots` (overlay directories) that has it, or None. NAME is
    a relative path without ".."; the file (links followed) must lie inside its overlay's tree:
    an include never reads anything outside the description and its rolls."""
    if not name or name.startswith("/") or ".." in Path(name).parts or "\0" in name:
        raise RocksccError(f'"{name}" is not a file under include/ (a relative path without "..")')
    for root in reversed(roots):
        candidate = root / "include" / name
        if candidate.is_file():
            real = outside(candidate, root)
            if real is not None:
                raise RocksccError(f"include/{name} leads outside {root} (a link to {real})")
            return candidate
    return None


def outside(path: Path, tree: Path) -> Path | None:
    """Where `path` really is (links followed) when that is outside `tree`, else None."""
    real = path.resolve()
    return None if real.is_relative_to(tree.resolve()) else real
