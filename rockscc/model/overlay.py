"""An overlay is one source of node and graph files: the built-in base, a roll, or the site."""

from __future__ import annotations

import os
import time
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


# A file is known unchanged when its stat identity is: size, mtime, and — as git does — ctime and
# inode, which no tool sets back (`cp -p`, `touch -r` and archives restore an mtime, not a ctime).
# Times come from a coarse clock (a kernel tick; a second or two on some filesystems): two writes
# within one tick leave the same times, and a same-sized second write looks like no change. A file
# whose times are this recent when its identity is taken may still change unseen: its identity is
# not trusted the next time (git's "racily clean" entries).
RACY_NS = 2_000_000_000


def stat_identity(st: os.stat_result) -> tuple[int, int, int, int]:
    """(size, mtime, ctime, inode): equal before and after means the file was not written."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def racy(st: os.stat_result, now_ns: int | None = None) -> bool:
    """Whether the file may still be rewritten without its identity changing."""
    return max(st.st_mtime_ns, st.st_ctime_ns) >= (time.time_ns() if now_ns is None else now_ns) - RACY_NS


STAMPED = ("nodes", "graphs", "include")  # the folders of an overlay whose files input stamps list


def stamped_dirs(overlays: list[Overlay]) -> tuple[str, ...]:
    """The folders files_signature lists, as absolute path prefixes (each ending in a separator):
    a file read elsewhere (a `<file include>` of another folder) is not covered by the stamps."""
    return tuple(os.path.join(os.path.abspath(overlay.path), sub, "") for overlay in overlays for sub in STAMPED)


def files_signature(overlays: list[Overlay]) -> tuple:
    """(path, stat identity) of every node, graph and include file of the overlays: a stat each,
    no reads (what a build's input stamps cover of them). When a file is racily recent, the
    signature also holds the moment it was taken, so that it never equals the next one: the next
    build then checks exactly instead of trusting the stamp."""
    entries: list[tuple] = []
    now = time.time_ns()
    recent = False
    for overlay in overlays:
        tree = os.path.realpath(overlay.path)
        for sub in STAMPED:
            recent |= _scan(str(overlay.path / sub), entries, now, tree, set())
    entries.sort()
    if recent:
        entries.append(("racy", now))
    return tuple(entries)


def _scan(directory: str, entries: list, now: int, tree: str, seen: set) -> bool:
    """Add the files under `directory`; whether one is racily recent. os.scandir, not
    Path.rglob: this runs on every build, and rglob is ~10x slower. A link to a folder is
    followed when the folder lies in the overlay's tree (`tree`, its real path), as the compiler
    follows it (a graph's folder, an include's sub-folder): listed as a file, its own stat would
    not change when a file in it is rewritten. `seen`: the real paths listed, against loops."""
    recent = False
    real = os.path.realpath(directory)
    if real in seen:
        return recent
    seen.add(real)
    try:
        with os.scandir(directory) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False) or (entry.is_symlink() and _folder_in(entry.path, tree)):
                    recent |= _scan(entry.path, entries, now, tree, seen)
                else:
                    try:
                        st = entry.stat()
                    except OSError:
                        continue
                    entries.append((entry.path, *stat_identity(st)))
                    recent |= racy(st, now)
    except (FileNotFoundError, NotADirectoryError):
        pass
    return recent


def _folder_in(path: str, tree: str) -> bool:
    """Whether `path` (a link) leads to a folder inside `tree` (a real path)."""
    real = os.path.realpath(path)
    return os.path.isdir(real) and (real == tree or real.startswith(tree + os.sep))


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
    try:
        real = path.resolve()
    except RuntimeError:  # a loop of links (Python < 3.13; 3.13 leaves it to the read, which says so)
        raise RocksccError(f"{path}: a loop of symbolic links") from None
    return None if real.is_relative_to(tree.resolve()) else real
