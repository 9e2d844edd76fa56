"""The dependency keys a compile records besides files and attributes, and how their values are
spelled: the compiler records them (compiler.py, expand.py) and the build evaluates them again
(pipeline/deps.py) with these same functions, so a recorded value and a current one compare.

- `walk:`          the graph a host's walk reads and the node it starts from (its appliance's)
- `graph:<name>`   the files of a graph across the overlays (one added, removed or renamed)
- `nodes:<name>`   the files making a node (a site file shadowing a base node, an extend- file)
- `include:<name>` the file an <include> found, None when there is none (one appearing later,
                   or one of a later overlay shadowing it)
- `env:`           every attribute of the host, names and values: an <eval>'s environment (a
                   program may read any variable, and one added later, not only the `$NAME`s
                   its text shows)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path


def walk_start(graph: str, root: str) -> str:
    return f"{graph}/{root}"


def files_found(paths: Iterable[Path]) -> str:
    """A set of files found, in the order they are read (`graph:` and `nodes:` keys)."""
    return "|".join(str(path) for path in paths)


def include_signature(path: Path | None) -> str | None:
    return None if path is None else str(path)


def environment_signature(attrs: Mapping[str, str]) -> str:
    return hashlib.sha256(repr(sorted(attrs.items())).encode()).hexdigest()
