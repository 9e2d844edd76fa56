"""`rockscc list roll`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.errors import RocksccError
from rockscc.model.rolls import appliances_of, conflicts, read_meta


class ListRoll(Command):
    """List rolls in merge order (base, then these, then the site): version, enabled, where
    they are, the appliances and commands they add, how many node files they hold; node files
    two rolls both define are reported (the later roll wins)."""

    name = "list roll"
    args = [Arg("roll", repeat=True, optional=True)]
    examples = ["rockscc list roll"]

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        rows = []
        for name, roll in cluster.rolls.items():
            if opts.roll and name not in opts.roll:
                continue
            path = None
            try:
                path = cluster.roll_path(roll)
                commands = ", ".join(read_meta(path, name).commands)
            except RocksccError as exc:
                commands = f"(broken: {exc})"
            nodes = len(list((path / "nodes").glob("*.xml"))) if path and (path / "nodes").is_dir() else 0
            rows.append(
                [
                    name,
                    roll.version,
                    "yes" if roll.enabled else "no",
                    roll.path,
                    ", ".join(appliances_of(cluster, name)),
                    commands,
                    nodes,
                ]
            )
        ctx.table(["roll", "version", "enabled", "path", "appliances", "commands", "nodes"], rows, owner=False)
        for finding in conflicts(cluster):
            ctx.warn(str(finding))
