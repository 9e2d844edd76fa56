"""`rockscc add roll`."""

from __future__ import annotations

from pathlib import Path

from rockscc.cli.command import Arg, Command, Param
from rockscc.errors import RocksccError
from rockscc.model.rolls import install, read_meta


class AddRoll(Command):
    """Add a roll: a directory holding nodes/, graphs/<graph>/ and an optional roll.toml (name,
    version, appliances it adds, commands), or an installed Python package (pkg:<module>).
    Its node and graph files merge between the built-in base and the site; its appliances
    and commands become available."""

    name = "add roll"
    args = [Arg("path", help="roll directory, or pkg:<python module>")]
    params = [Param("name", help="roll name (default: roll.toml's, else the directory's)"),
              Param("enabled", kind="bool", default=True)]
    examples = ["rockscc add roll /export/rolls/viz", "rockscc add roll pkg:rockscc_hpc_roll"]
    mutates = True

    def run(self, ctx, opts) -> None:
        cluster = ctx.cluster
        if opts.path.startswith(("pkg:", "builtin:")):
            spec = opts.path
            from rockscc.model import Roll

            directory = cluster.roll_path(Roll(path=spec))
        else:
            directory = Path(opts.path).resolve()
            if not directory.is_dir():
                raise RocksccError(f"{opts.path}: no such directory")
            try:
                spec = str(directory.relative_to(cluster.root.resolve()))
            except ValueError:
                spec = str(directory)
        meta = read_meta(directory, opts.name or directory.name)
        if opts.name:
            meta.name = opts.name
        install(cluster, spec, meta, enabled=opts.enabled)
        ctx.out(f'added roll "{meta.name}" {meta.version}'.rstrip() + (f" with appliances {', '.join(meta.appliances)}" if meta.appliances else ""))
