"""`rockscc build --watch`: rebuild and re-validate on every save (for roll developers)."""

from __future__ import annotations

import sys

from rockscc.engine import make
from rockscc.errors import RocksccError


def watch(root, options: make.BuildOptions, ctx) -> None:
    from watchfiles import watch as watch_changes

    from rockscc.commands.build import run_build

    outdir = make.output_dir(root, options.out)
    _once(root, options, ctx, run_build)
    ctx.out(f"watching {root} for changes (Ctrl-C to stop)")
    ignored = (str(outdir), "/.", ".lock", ".tmp")

    def relevant(change, path: str) -> bool:
        return not any(part in path for part in ignored)

    for changes in watch_changes(root, watch_filter=relevant, raise_interrupt=False):
        names = sorted({str(p).removeprefix(str(root) + "/") for _, p in changes})
        ctx.out(f"changed: {', '.join(names)}")
        _once(root, options, ctx, run_build)


def _once(root, options, ctx, run_build) -> None:
    try:
        run_build(root, options, ctx)
    except RocksccError as exc:  # keep watching: the next save may fix it
        sys.stderr.write(f"error - {exc}\n")
