"""The `rockscc` entry point: global options and error reporting. Running a command line is
cli/dispatch.py's job; this module imports it only when there is one to run, so `--version` and
`--help` cost the interpreter's start and little more (every import here is paid by every command:
issue 17, tests/cli/test_startup.py). Even rockscc.errors (dataclasses, inspect, json) and pathlib
are imported by `main`, after `entry` has set the collector's thresholds: the imports make
objects enough for a dozen young collections under the default ones (~6 ms)."""

from __future__ import annotations

import gc
import os
import sys

from rockscc import __version__

TYPE_CHECKING = False  # typing's, without importing typing (~5 ms; a command imports it later)
if TYPE_CHECKING:
    from pathlib import Path

USAGE = """usage: rockscc [-C DIR] <verb> <object> [<subobject>...] [args...] [key=value...]

Global options:
  -C DIR       use the cluster description in DIR (default: search upward for cluster.toml)
  --version    print the version
  -h, --help   this help; 'rockscc help' lists every command, 'rockscc <command> help' explains one
"""


def entry() -> int:
    """The `rockscc` program. A command loads a whole description at once (10 000 hosts: ~200 000
    objects, no cycles) and a build makes tens of thousands of jobs; with the default thresholds
    the cyclic collector rescans all of it many times for nothing (~0.08 s of a no-op build).
    Collect young objects in larger batches, as other batch tools do (mypy)."""
    gc.set_threshold(100_000, 50, 50)
    return _leave(main())


def _leave(status: int) -> int:
    """End the process without tearing its heap down: a build of ten thousand hosts leaves
    hundreds of thousands of objects that the interpreter's exit would free one by one (~0.04 s,
    a tenth of a no-op build). What an exit must do is done first: the exit handlers (the sandbox
    worker's stop), the standard streams flushed. Not when another thread still runs (the
    interpreter would wait for it), a profiler or tracer runs (`python -m cProfile`, coverage:
    they write their results as the interpreter exits), or a stream cannot be flushed (the
    normal exit reports it)."""
    threading = sys.modules.get("threading")  # not imported: no thread was started through it
    if (threading is not None and threading.active_count() > 1) or sys.getprofile() or sys.gettrace():
        return status
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return status
    import atexit

    atexit._run_exitfuncs()
    os._exit(status)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from rockscc.errors import RocksccError, printable  # here, not at the top: the module docstring

    os.umask(os.umask(0o022) | 0o022)  # nothing rockscc creates is group- or world-writable
    try:
        cluster_dir, words = _global_options(argv)
        if words is None:
            return 0
        # deferred: the model and the command table, only when there is a command (module docstring)
        from rockscc.cli.context import Context
        from rockscc.cli.dispatch import execute

        execute(words, Context(cluster_dir))
        return 0
    except RocksccError as exc:
        sys.stdout.flush()
        sys.stderr.write(f"error - {printable(str(exc))}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("error - interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # the file system said no (full, read-only, permissions): nothing half-written
        sys.stdout.flush()
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"error - {where}{exc.strerror or exc}\n")
        return 1
    except Exception as exc:  # a bug in rockscc: say so plainly, keep the traceback for --debug
        if os.environ.get("ROCKSCC_DEBUG"):
            import traceback

            traceback.print_exc()
        sys.stderr.write(f"error - internal error: {type(exc).__name__}: {exc} (set ROCKSCC_DEBUG=1 for details)\n")
        return 70


def _global_options(argv: list[str]) -> tuple[Path | None, list[str] | None]:
    from pathlib import Path

    from rockscc.errors import RocksccError

    cluster_dir = None
    while argv and argv[0].startswith("-"):
        option = argv.pop(0)
        if option == "-C":
            if not argv:
                raise RocksccError("-C needs a directory")
            cluster_dir = Path(argv.pop(0)).resolve()  # one spelling per directory: the build log keys on paths
        elif option.startswith("-C"):
            cluster_dir = Path(option[2:]).resolve()
        elif option in ("-h", "--help"):
            sys.stdout.write(USAGE)
            return None, None
        elif option == "--version":
            sys.stdout.write(f"rockscc {__version__}\n")
            return None, None
        else:
            raise RocksccError(f'unknown option "{option}"\n{USAGE}')
    if cluster_dir is not None and not cluster_dir.is_dir():
        raise RocksccError(f"-C {cluster_dir}: no such directory")
    return cluster_dir, argv or ["help"]
