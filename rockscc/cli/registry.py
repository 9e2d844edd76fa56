"""Finding commands. A built-in command lives in `rockscc/commands/<verb>_<object>….py` (a `__`
in the module name stands for a `-` in the command: load_rocks__dump.py is `load rocks-dump`), so
the command line maps to a module without importing every command; rolls add commands through the
`rockscc.commands` entry-point group (name = the command words, value = `module:Class`).

Start-up cost is part of every edit (issue 17), so the registry imports nothing it does not need
to run the command line in hand: built-in commands are found by listing file names and imported
one at a time, and installed entry points (importlib.metadata, which brings in the email package:
more CPU than the edit itself) are read only when no built-in or roll command names the line —
for `help`, the reference, and plugin commands. A plugin adds commands; it cannot take over a
command line a built-in or roll command names (it never could for the same name).

The verb `test` is spelled `try` in module names (try_node.py is `test node`): tools take a
module named test_*.py for a test file (pytest collects it, packagers and coverage may skip it)."""

from __future__ import annotations

import importlib
import importlib.util
import os
from functools import cache
from pathlib import Path

import rockscc.commands
from rockscc.cli.command import Command
from rockscc.errors import RocksccError

MODULE_VERBS = {"try": "test"}  # module-name spelling -> command verb
_extra: dict[str, type[Command]] = {}
_lazy: dict[str, object] = {}  # command words -> loader (rolls' commands, imported when run)


@cache
def _builtin() -> dict[str, str]:
    """Command words -> module, from the file names of rockscc/commands/ (one module per command,
    no subpackages; `_x.py` are shared helpers). A listing, not pkgutil: nothing to import."""
    modules = {
        entry.name[:-3]
        for directory in rockscc.commands.__path__
        for entry in os.scandir(directory)
        if entry.name.endswith(".py") and entry.is_file()
    }
    return {command_words(m): f"rockscc.commands.{m}" for m in sorted(modules) if not m.startswith("_")}


def command_words(module: str) -> str:
    """`set_host_attr` -> "set host attr", `load_rocks__dump` -> "load rocks-dump", `try_node` -> "test node"."""
    verb, *rest = module.replace("__", "-").split("_")
    return " ".join([MODULE_VERBS.get(verb, verb), *rest])


@cache
def _plugins() -> dict[str, str]:
    """Installed entry-point commands. The registry's one deferred import: see the module's
    docstring (only `help`, the reference and command lines nothing else names come here)."""
    from importlib.metadata import entry_points

    return {" ".join(ep.name.split()): ep.value for ep in entry_points(group="rockscc.commands")}


def register(cls: type[Command]) -> None:
    """Add a command at run time (used for commands shipped inside roll directories)."""
    _extra[cls.name] = cls


def register_lazy(name: str, loader) -> None:
    """A command whose class is imported only when it runs (a roll's command module)."""
    _lazy[name] = loader


def register_roll_commands(cluster) -> None:
    """Make the enabled rolls' commands runnable (directory rolls: roll.toml [commands])."""
    from rockscc.model.rolls import read_meta

    for name, roll in cluster.rolls.items():
        if not roll.enabled:
            continue
        try:
            path = cluster.roll_path(roll)
            meta = read_meta(path, name)
        except RocksccError:
            continue  # `rockscc check` and `list roll` report broken rolls
        for words, target in meta.commands.items():
            register_lazy(words, lambda p=path, t=target, r=name: _load_roll_command(p, t, r))


def _load_roll_command(root: Path, target: str, roll: str):
    file, _, cls_name = target.partition(":")
    source = (root / file).resolve()
    if root.resolve() not in source.parents or not source.is_file():
        raise RocksccError(f'roll "{roll}": command module {file} is not a file inside the roll')
    spec = importlib.util.spec_from_file_location(f"rockscc_roll_{roll}_{source.stem}", source)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        return getattr(module, cls_name)
    except Exception as exc:  # a broken roll must not take the command line down
        raise RocksccError(f'roll "{roll}": cannot load command {target}: {type(exc).__name__}: {exc}') from None


def unregister_all_extra() -> None:
    _extra.clear()
    _lazy.clear()


def names() -> list[str]:
    return sorted(set(_builtin()) | set(_plugins()) | set(_extra) | set(_lazy))


def _own() -> frozenset[str]:
    """Built-in and rolls' command names as a set, made again only when rolls' commands changed
    (a load resolves every line). Installed plugins are not among them: see resolve()."""
    key = (tuple(_extra), tuple(_lazy))
    if _known_cache.get("key") != key:
        _known_cache["key"], _known_cache["names"] = key, frozenset(_builtin()) | set(_extra) | set(_lazy)
    return _known_cache["names"]


_known_cache: dict = {}


def load(name: str) -> type[Command]:
    if name in _extra:
        return _extra[name]
    if name in _lazy and name not in _builtin():
        cls = _lazy[name]()
        if not (isinstance(cls, type) and issubclass(cls, Command)):
            raise RocksccError(f'command "{name}" from a roll is not a rockscc Command class')
        return cls
    if name in _builtin():
        return _builtin_class(name)
    target = _plugins()[name]
    module_name, _, attr = target.partition(":")
    try:
        value = getattr(importlib.import_module(module_name), attr) if attr else importlib.import_module(module_name)
    except (ImportError, AttributeError) as exc:
        raise RocksccError(f'command "{name}" from a roll cannot be loaded ({target}): {exc}') from None
    return value


@cache
def _builtin_class(name: str) -> type[Command]:
    module = importlib.import_module(_builtin()[name])
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, Command) and value.name == name:
            return value
    raise RocksccError(f'internal: module {module.__name__} declares no command "{name}"')


def resolve(words: list[str]) -> tuple[str | None, list[str]]:
    """The longest prefix of `words` that names a command, and the remaining words. Built-in and
    rolls' commands first; installed plugins only for a line none of those names (module docstring)."""
    for table in (_own, _plugins):  # called in turn: _plugins() reads the installation
        known = table()
        for size in range(len(words), 0, -1):
            if any("=" in w for w in words[:size]):
                continue
            candidate = " ".join(words[:size])
            if candidate in known:
                return candidate, words[size:]
    return None, words


def subtree(words: list[str]) -> list[str]:
    """Commands starting with the given words (for help on a partial command)."""
    prefix = [w for w in words if "=" not in w]
    while prefix:
        found = [n for n in names() if n.split()[: len(prefix)] == prefix]
        if found:
            return found
        prefix = prefix[:-1]
    return []
