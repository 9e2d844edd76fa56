"""`rockscc build --watch`: rebuild and re-validate on every save (for roll developers).

Each round is `build_once()`: the caller loads the description afresh and builds with a new
Session, so a round sees exactly what a `rockscc build` started at that moment would."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from rockscc.errors import RocksccError


def watch(root: Path, outdir: Path, build_once: Callable[[], None], out: Callable[[str], None]) -> None:
    from watchfiles import watch as watch_changes

    _once(build_once)
    out(f"watching {root} for changes (Ctrl-C to stop)")
    ignored = (str(outdir), "/.", ".lock", ".tmp")

    def relevant(change, path: str) -> bool:
        return not any(part in path for part in ignored)

    for changes in watch_changes(root, watch_filter=relevant, raise_interrupt=False):
        names = sorted({str(p).removeprefix(str(root) + "/") for _, p in changes})
        out(f"changed: {', '.join(names)}")
        _once(build_once)


def _once(build_once: Callable[[], None]) -> None:
    try:
        build_once()
    except RocksccError as exc:  # keep watching: the next save may fix it
        sys.stderr.write(f"error - {exc}\n")
