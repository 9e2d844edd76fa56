"""The `rockscc` entry point: global options, dispatch, transactions, and error reporting."""

from __future__ import annotations

import gc
import os
import sys
import traceback
from pathlib import Path

from rockscc import __version__
from rockscc.cli import registry
from rockscc.cli.command import Command
from rockscc.cli.context import Context
from rockscc.errors import RocksccError
from rockscc.model import transaction
from rockscc.model.codec import SchemaError, dotted
from rockscc.model.store import cluster_wide

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
    return main()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.umask(os.umask(0o022) | 0o022)  # nothing rockscc creates is group- or world-writable
    try:
        cluster_dir, words = _global_options(argv)
        if words is None:
            return 0
        ctx = Context(cluster_dir)
        execute(words, ctx)
        return 0
    except RocksccError as exc:
        sys.stdout.flush()
        sys.stderr.write(f"error - {exc}\n")
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
            traceback.print_exc()
        sys.stderr.write(f"error - internal error: {type(exc).__name__}: {exc} (set ROCKSCC_DEBUG=1 for details)\n")
        return 70


def _global_options(argv: list[str]) -> tuple[Path | None, list[str] | None]:
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


def execute(words: list[str], ctx: Context) -> None:
    """Run one command line (also used by `load` for each of its lines)."""
    _roll_commands(ctx)
    name, rest = registry.resolve(words)
    if name is None:
        typed = [w for w in words if "=" not in w]
        below = registry.subtree(words)
        if below and len(below[0].split()) > len(typed) and typed[0] != "help" \
                and all(n.split()[: len(typed)] == typed for n in below):
            ctx.out(_listing(below))  # a partial command: list what it can become
            return
        hint = f" (commands starting with \"{' '.join(below[0].split()[:1])}\": rockscc help)" if below else " (try: rockscc help)"
        raise RocksccError(f'invalid command "{" ".join(typed)}"{hint}')
    cls = registry.load(name)
    if rest[:1] == ["help"] or "--help" in rest or "-h" in rest:
        ctx.out(cls.help_text())
        return
    opts, ctx.output = cls.bind(rest)
    command = cls()
    if cls.mutates and not ctx.in_transaction:
        with transaction(ctx.root) as cluster:
            ctx.use(cluster, in_transaction=True)
            try:
                _run(command, ctx, opts)
            finally:
                ctx.in_transaction = False
        for hook in ctx.after_commit:
            hook()
        ctx.after_commit.clear()
    else:
        _run(command, ctx, opts)
        if ctx.in_transaction:  # a line of `load`: the hosts it edited are checked and settled now
            try:
                ctx.cluster.end_command()
            except SchemaError as exc:
                raise RocksccError(f"{dotted(exc.path)}: {exc.message}") from None


def _roll_commands(ctx: Context) -> None:
    """Register the enabled rolls' commands of the description in use, if there is one."""
    if getattr(ctx, "rolls_registered", False):
        return
    ctx.rolls_registered = True
    registry.unregister_all_extra()
    try:
        cluster = ctx.cluster if ctx.loaded else cluster_wide(ctx.root)  # rolls are cluster-wide: no hosts read
    except RocksccError:
        return  # no description here (init, help, test …): only built-in commands
    registry.register_roll_commands(cluster)


def _run(command: Command, ctx: Context, opts) -> None:
    for arg in command.args:
        if arg.kind != "host":
            continue
        value = getattr(opts, arg.name.replace("-", "_"))
        if arg.repeat:
            setattr(opts, arg.name.replace("-", "_"), ctx.hosts(value, default_all=arg.optional))
        elif value is not None:
            setattr(opts, arg.name.replace("-", "_"), ctx.cluster.host(value))
    command.run(ctx, opts)


def _listing(names: list[str]) -> str:
    lines = []
    for name in names:
        try:
            summary = registry.load(name).summary()
        except RocksccError as exc:
            summary = f"(unavailable: {exc})"
        lines.append(f"  {name:<32} {summary}")
    return "\n".join(lines)
