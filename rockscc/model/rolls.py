"""Rolls: directories (or installed Python packages) holding nodes/, graphs/<graph>/, an optional
roll.toml (name, version, description, appliances, commands) and command modules.

Adding a roll records it in the description and adds its appliances (marked with the roll's
name); enabled rolls' node and graph files are merged between the built-in base and the site
(cluster.overlays); their commands are registered when a command line is run (cli/registry.py:
register_roll_commands). Disabling a roll removes all of that while keeping its record."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from rockscc.errors import Diagnostic, RocksccError
from rockscc.model import Appliance, Cluster, Roll
from rockscc.model.codec import SchemaError, decode
from rockscc.model.names import check_path_safe

META = "roll.toml"


@dataclass
class RollMeta:
    """A roll's roll.toml: its name, appliances, commands and attribute defaults."""

    name: str
    version: str = ""
    description: str = ""
    appliances: dict[str, Appliance] = field(default_factory=dict)
    commands: dict[str, str] = field(default_factory=dict)  # "verb object" -> "file.py:Class"
    # what the roll's frontend install set in Rocks' database: defaults, never over the site's values
    attrs: dict[str, str] = field(default_factory=dict)  # global
    os_attrs: dict[str, dict[str, str]] = field(default_factory=dict)
    appliance_attrs: dict[str, dict[str, str]] = field(default_factory=dict)  # of appliances it does not add
    bootflags: str | None = None  # global boot flags (the Xen roll's dom0_mem=1024M)


def read_meta(path: Path, default_name: str) -> RollMeta:
    meta_file = path / META
    if not path.is_dir():
        raise RocksccError(f"{path}: not a roll directory")
    if not (path / "nodes").is_dir() and not (path / "graphs").is_dir():
        raise RocksccError(f"{path}: a roll holds nodes/ or graphs/<graph>/; neither is there")
    data: dict = {}
    if meta_file.is_file():
        try:
            data = tomllib.loads(meta_file.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise RocksccError(f"{meta_file}: {exc}") from None
    try:
        appliances = {
            name: decode(Appliance, value, ("appliances", name)) for name, value in data.get("appliances", {}).items()
        }
    except SchemaError as exc:
        raise RocksccError(f"{meta_file}: {exc}") from None
    name = check_path_safe("roll", str(data.get("name", default_name)))
    commands = {" ".join(str(k).split()): str(v) for k, v in data.get("commands", {}).items()}
    meta = RollMeta(name, str(data.get("version", "")), str(data.get("description", "")), appliances, commands)
    meta.attrs = _strings(data.get("attrs", {}), meta_file, "attrs")
    meta.os_attrs = {
        os: _strings(t, meta_file, f"os_attrs.{os}") for os, t in _table(data, "os_attrs", meta_file).items()
    }
    meta.appliance_attrs = {
        a: _strings(t, meta_file, f"appliance_attrs.{a}") for a, t in _table(data, "appliance_attrs", meta_file).items()
    }
    if "bootflags" in data:
        meta.bootflags = str(data["bootflags"])
    return meta


def _table(data: dict, key: str, where: Path) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise RocksccError(f"{where}: {key} must be a table")
    return value


def _strings(table, where: Path, key: str) -> dict[str, str]:
    if not isinstance(table, dict) or not all(isinstance(v, str | int | float | bool) for v in table.values()):
        raise RocksccError(f"{where}: {key} must be a table of name = value")
    return {str(k): (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in table.items()}


def install(cluster: Cluster, path_spec: str, meta: RollMeta, *, enabled: bool = True) -> None:
    """Record the roll and add what it declares. An appliance the description already has from
    no roll (init's compute, say) with the same membership and root node is the same appliance:
    the roll's attributes are added to it. The roll's attributes and boot flags are defaults:
    a value the site already set is kept."""
    if meta.name in cluster.rolls:
        raise RocksccError(f'roll "{meta.name}" is already added')
    for app_name, appliance in meta.appliances.items():
        existing = cluster.appliances.get(app_name)
        if existing is not None and _same(existing, appliance):
            _defaults(existing.attrs, appliance.attrs)
            continue
        if existing is not None and existing.roll != meta.name:
            raise RocksccError(
                f'roll "{meta.name}" adds appliance "{app_name}", which already exists '
                f'(membership "{existing.membership}", node "{existing.node}")'
            )
        if any(a.membership == appliance.membership for n, a in cluster.appliances.items() if n != app_name):
            raise RocksccError(f'roll "{meta.name}": membership "{appliance.membership}" is already used')
        appliance.roll = meta.name
        cluster.appliances[app_name] = appliance
    for app_name, attrs in meta.appliance_attrs.items():
        if app_name in cluster.appliances:
            _defaults(cluster.appliances[app_name].attrs, attrs)
    _defaults(cluster.attrs, meta.attrs)
    for os_name, attrs in meta.os_attrs.items():
        _defaults(cluster.os.setdefault(os_name, {}), attrs)
    if meta.bootflags is not None and cluster.bootflags is None:
        cluster.bootflags = meta.bootflags
    cluster.rolls[meta.name] = Roll(path=path_spec, enabled=enabled, version=meta.version, name=meta.name)


def _same(existing: Appliance, declared: Appliance) -> bool:
    return existing.roll is None and existing.membership == declared.membership and existing.node == declared.node


def _defaults(table: dict[str, str], values: dict[str, str]) -> None:
    for key, value in values.items():
        table.setdefault(key, value)


def roll_named(cluster: Cluster, name: str) -> Roll:
    roll = cluster.rolls.get(name)
    if roll is None:
        raise RocksccError(f'roll "{name}" is not added (see rockscc list roll)')
    return roll


def appliances_of(cluster: Cluster, roll: str) -> list[str]:
    return [name for name, a in cluster.appliances.items() if a.roll == roll]


def check_unused(cluster: Cluster, roll: str, verb: str) -> None:
    memberships = {cluster.appliances[a].membership for a in appliances_of(cluster, roll)}
    users = sorted(h.name for h in cluster.hosts.values() if h.membership in memberships)
    if users:
        raise RocksccError(
            f'cannot {verb} roll "{roll}": hosts of its appliances exist ({", ".join(users[:5])}'
            f"{' …' if len(users) > 5 else ''}); remove them first"
        )


def conflicts(cluster: Cluster) -> list[Diagnostic]:
    """Node files defined by more than one roll (the later roll wins, as Rocks' rpm -i --force did)."""
    seen: dict[str, str] = {}
    found = []
    for name, roll in cluster.rolls.items():
        if not roll.enabled:
            continue
        try:
            nodes = cluster.roll_path(roll) / "nodes"
        except RocksccError:  # a roll whose module is gone: `list roll` shows it broken
            continue
        for path in sorted(nodes.glob("*.xml")) if nodes.is_dir() else []:
            if path.name in seen:
                found.append(
                    Diagnostic(f"nodes/{path.name}", 0, f"defined by rolls {seen[path.name]} and {name}; {name} wins")
                )
            seen[path.name] = name
    return found
