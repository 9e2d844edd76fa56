"""What commands use to get a compiled artifact: build what is stale, return the file's text."""

from __future__ import annotations

from pathlib import Path

from rockscc.build import engine
from rockscc.errors import RocksccError


def artifact(root: Path, relpath: str, *, host: str | None = None) -> str:
    """The text of build/<relpath>, rebuilt first if any of its inputs changed."""
    options = engine.BuildOptions(hosts=[host] if host else None)
    report = engine.build(root, options)
    path = engine.output_dir(root, None) / relpath
    if report.errors:
        raise RocksccError("; ".join(report.errors))
    try:
        return path.read_text()
    except FileNotFoundError:
        raise RocksccError(f"the build produced no {relpath}") from None
