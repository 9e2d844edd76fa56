"""`rockscc add roll`."""

from __future__ import annotations

from pathlib import Path

from rockscc.cli.command import Arg, Command, Param
from rockscc.errors import RocksccError
from rockscc.model import Appliance
from rockscc.model.names import check_path_safe
from rockscc.model.rolls import RollMeta, install, read_meta
from rockscc.xmlgraph.rollscan import RollDeclarations, appliance_fields, scan_roll


class AddRoll(Command):
    """Add a roll: a directory holding nodes/, graphs/<graph>/ and an optional roll.toml (name,
    version, appliances it adds, commands, attrs, os_attrs, appliance_attrs, bootflags), or an
    installed Python package (pkg:<module>). Its node and graph files merge between the built-in
    base and the site; its appliances and commands become available.

    A Rocks roll declares its appliances and settings in its frontend <post> scripts: the literal
    `rocks add appliance`, `rocks set|add appliance attr`, `rocks set|add [os] attr` and
    `rocks set host bootflags flags=` lines there are taken as if roll.toml said them (roll.toml
    wins). Attributes and boot flags only fill what the description does not set already; an
    appliance that exists with the same membership and node gets the roll's attributes."""

    name = "add roll"
    args = [Arg("path", help="roll directory, or pkg:<python module>")]
    params = [
        Param("name", help="roll name (default: roll.toml's, else the directory's)"),
        Param("enabled", kind="bool", default=True),
    ]
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
        declared = scan_roll(directory)
        for note in merge_declared(meta, declared):
            ctx.warn(note)
        install(cluster, spec, meta, enabled=opts.enabled)
        ctx.out(
            f'added roll "{meta.name}" {meta.version}'.rstrip()
            + (f" with appliances {', '.join(meta.appliances)}" if meta.appliances else "")
        )


def merge_declared(meta: RollMeta, declared: RollDeclarations) -> list[str]:
    """Add what the roll's post scripts declare to its roll.toml metadata (roll.toml wins);
    returns notes on what was not taken."""
    notes = [f"{d.file}:{d.line}: {d.message}" for d in declared.skipped]
    for name, found in declared.appliances.items():
        if name in meta.appliances:
            continue
        fields = appliance_fields(found)
        if not fields["node"]:
            notes.append(f'{found.origin}: appliance "{name}" has no graph node (a device, not installed): not added')
            continue
        try:
            check_path_safe("appliance", name)
            check_path_safe("node", fields["node"])
        except RocksccError as exc:
            notes.append(f"{found.origin}: {exc}: not added")
            continue
        meta.appliances[name] = Appliance(**fields)
    for name, attrs in declared.appliance_attrs.items():
        target = meta.appliances[name].attrs if name in meta.appliances else meta.appliance_attrs.setdefault(name, {})
        for key, value in attrs.items():
            target.setdefault(key, value)
    for key, value in declared.attrs.items():
        meta.attrs.setdefault(key, value)
    for os_name, attrs in declared.os_attrs.items():
        for key, value in attrs.items():
            meta.os_attrs.setdefault(os_name, {}).setdefault(key, value)
    if meta.bootflags is None:
        meta.bootflags = declared.bootflags
    return notes
