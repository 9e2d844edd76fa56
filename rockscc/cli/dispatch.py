"""Running one command line: find the command, parse its words, run it (in a transaction when it
edits the description), register the rolls' commands of the description in use."""

from __future__ import annotations

from rockscc.cli import registry
from rockscc.cli.command import Command
from rockscc.cli.context import Context
from rockscc.errors import RocksccError
from rockscc.model import transaction
from rockscc.model.codec import SchemaError, dotted
from rockscc.model.store import cluster_wide
from rockscc.model.timing import phase, started


def execute(words: list[str], ctx: Context) -> None:
    """Run one command line (also used by `load` for each of its lines)."""
    if not ctx.loaded:
        started()
    _roll_commands(ctx)
    name, rest = registry.resolve(words)
    if name is None:
        typed = [w for w in words if "=" not in w]
        below = registry.subtree(words)
        if (
            below
            and len(below[0].split()) > len(typed)
            and typed[0] != "help"
            and all(n.split()[: len(typed)] == typed for n in below)
        ):
            ctx.out(listing(below))  # a partial command: list what it can become
            return
        hint = (
            f' (commands starting with "{" ".join(below[0].split()[:1])}": rockscc help)'
            if below
            else " (try: rockscc help)"
        )
        raise RocksccError(f'invalid command "{" ".join(typed)}"{hint}')
    cls = registry.load(name)
    if rest[:1] == ["help"] or "--help" in rest or "-h" in rest:
        ctx.out(cls.help_text())
        return
    opts, ctx.output = cls.bind(rest)
    command = cls()
    if cls.mutates and not ctx.in_transaction:
        with transaction(ctx.root, lazy=True) as cluster:
            ctx.use(cluster, in_transaction=True)
            try:
                with phase("command"):
                    _run(command, ctx, opts)
            finally:
                ctx.in_transaction = False
        for hook in ctx.after_commit:
            hook()
        ctx.after_commit.clear()
    elif ctx.in_transaction:  # a line of `load`: its phases are the load's
        _run(command, ctx, opts)
        try:  # the hosts the line edited are checked and settled now
            ctx.cluster.end_command()
        except SchemaError as exc:
            raise RocksccError(f"{dotted(exc.path)}: {exc.message}") from None
    else:
        with phase("command"):
            _run(command, ctx, opts)


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


def listing(names: list[str]) -> str:
    """One line per command, its words and summary (`help`, and a partial command line)."""
    lines = []
    for name in names:
        try:
            summary = registry.load(name).summary()
        except RocksccError as exc:
            summary = f"(unavailable: {exc})"
        lines.append(f"  {name:<32} {summary}")
    return "\n".join(lines)
