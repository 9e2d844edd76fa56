"""`rockscc build --watch`: rebuild and re-validate on every save (for roll developers).

Each round is `build_once()`: the caller loads the description afresh and builds with a new
Session, so a round sees exactly what a `rockscc build` started at that moment would. What is
watched: the description's directory and every enabled roll's directory outside it (`sources()`,
asked again after each round: a roll added, enabled or removed changes what is watched)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from pathlib import Path

from rockscc.errors import RocksccError, printable

ARMED_MS = 200  # how soon after watching starts the first round runs (and how often the watcher wakes)


def watch(
    root: Path,
    outdir: Path,
    build_once: Callable[[], None],
    out: Callable[[str], None],
    sources: Callable[[], list[Path]] = list,
) -> None:
    """Build, then build again on every change, until Ctrl-C. A round runs only once the watcher
    is active (its first, empty, yield): a save during the first build, or just after a roll came
    or went, is seen by the next round instead of being lost between two watchers.

    SIGINT and SIGTERM both stop it as Ctrl-C does: a round in progress is interrupted cleanly
    (its workers stopped, nothing half-written), an idle watch returns. The handler is installed
    here because a watch started in the background (`rockscc build --watch &` from a script)
    inherits SIGINT ignored, and Python then installs none of its own."""
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        _rounds(root, outdir, build_once, out, sources)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _rounds(
    root: Path,
    outdir: Path,
    build_once: Callable[[], None],
    out: Callable[[str], None],
    sources: Callable[[], list[Path]],
) -> None:
    from watchfiles import watch as watch_changes

    ignored = (str(outdir), "/.", ".lock", ".tmp")

    def relevant(change, path: str) -> bool:
        return not any(part in path for part in ignored)

    paths = _watched(root, sources, [root])
    first, due = True, True  # due: a round owed before any change is seen (watching just began)
    while True:
        for changes in watch_changes(
            *paths, watch_filter=relevant, raise_interrupt=False, yield_on_timeout=True, rust_timeout=ARMED_MS
        ):
            if changes:
                out(f"changed: {', '.join(sorted({_shown(Path(p), root) for _, p in changes}))}")
            elif not due:
                continue
            due = False
            _once(build_once)
            now = _watched(root, sources, paths)
            if now != paths:  # a roll came or went: watch its directory from now on
                paths, due = now, True
                out(f"watching {', '.join(map(str, paths))} for changes")
                break
            out(
                f"watching {', '.join(map(str, paths))} for changes (Ctrl-C to stop)"
                if first
                else "watching for changes"
            )  # the round is over
            first = False
        else:
            return  # Ctrl-C


def _watched(root: Path, sources: Callable[[], list[Path]], previous: list[Path]) -> list[Path]:
    """The description's directory, and each source directory outside it that exists."""
    try:
        found = sources()
    except RocksccError:
        return previous  # the description does not load now: watch what was watched
    extra = sorted({p.resolve() for p in found if p.is_dir() and not p.resolve().is_relative_to(root.resolve())})
    return [root, *extra]


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _once(build_once: Callable[[], None]) -> None:
    from rockscc.model.store import release_descriptions

    try:
        build_once()
    except RocksccError as exc:  # keep watching: the next save may fix it
        sys.stderr.write(f"error - {printable(str(exc))}\n")
    finally:
        release_descriptions()
