"""Attributes at the four levels (global, os, appliance, host): the shared logic of the
`set|list|remove [os|appliance|host] attr` commands."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.errors import RocksccError
from rockscc.model.cluster import is_intrinsic
from rockscc.model.names import check_attr_name


def checked_name(name: str) -> str:
    check_attr_name(name)
    if is_intrinsic(name):
        raise RocksccError(f'attribute "{name}" is intrinsic (it comes from the host record); set the record instead')
    return name


def checked_value(value: str) -> str:
    if any(ord(c) < 32 and c not in "\t" for c in value):
        raise RocksccError("attribute values must not contain newlines or control characters")
    return value


class AttrLevel:
    """One level: how its owners are named and where their attribute tables live."""

    level = ""  # "", "os", "appliance"
    owner_kind = "str"

    def tables(self, ctx, owners) -> list[tuple[str, dict]]:
        raise NotImplementedError


class Global(AttrLevel):
    def tables(self, ctx, owners):
        return [("global", ctx.cluster.attrs)]


class Os(AttrLevel):
    level = "os"

    def tables(self, ctx, owners):
        return [(o, ctx.cluster.os.setdefault(o, {})) for o in owners]


class ApplianceLevel(AttrLevel):
    level = "appliance"

    def tables(self, ctx, owners):
        apps = ctx.cluster.appliances
        for name in owners:
            if name not in apps:
                raise RocksccError(f'appliance "{name}" is not defined')
        return [(n, apps[n].attrs) for n in owners]


class HostLevel(AttrLevel):
    level = "host"
    owner_kind = "host"

    def tables(self, ctx, owners):
        return [(h.name, h.attrs) for h in owners]


LEVELS = {"": Global(), "os": Os(), "appliance": ApplianceLevel(), "host": HostLevel()}


def owner_arg(level: str, *, optional: bool = False) -> list[Arg]:
    if not level:
        return []
    kind = "host" if level == "host" else "str"
    return [Arg(level, kind=kind, repeat=True, optional=optional)]


EXAMPLE_OWNER = {"": "", "os": "linux ", "appliance": "compute ", "host": "compute-0-0 "}


def declare(cls, verb: str, tail: list[Arg], example_tail: str) -> None:
    """Name, arguments and example of a `<verb> [<level>] attr` command from its level."""
    prefix = f"{cls.level} " if cls.level else ""
    cls.name = f"{verb} {prefix}attr"
    cls.args = owner_arg(cls.level) + tail
    cls.examples = [f"rockscc {verb} {prefix}attr {EXAMPLE_OWNER[cls.level]}{example_tail}"]


class SetAttrBase(Command):
    level = ""
    mutates = True

    def __init_subclass__(cls, **kw) -> None:
        super().__init_subclass__(**kw)
        declare(cls, "set", [Arg("attr"), Arg("value")], "Kickstart_Timezone Europe/Paris")

    def run(self, ctx, opts) -> None:
        name, value = checked_name(opts.attr), checked_value(opts.value)
        for _, table in LEVELS[self.level].tables(ctx, getattr(opts, self.level, None) or []):
            table[name] = value


class AddAttrBase(Command):
    """Rocks 6/7's `add [level] attr`: like set, but an attribute already set at that level for
    that owner is an error (Rocks: 'attribute exists'), so a roll's post script and a site's
    edit cannot silently overwrite each other."""

    level = ""
    mutates = True

    def __init_subclass__(cls, **kw) -> None:
        super().__init_subclass__(**kw)
        declare(cls, "add", [Arg("attr"), Arg("value")], "Kickstart_Timezone Europe/Paris")

    def run(self, ctx, opts) -> None:
        name, value = checked_name(opts.attr), checked_value(opts.value)
        tables = LEVELS[self.level].tables(ctx, getattr(opts, self.level, None) or [])
        for owner, table in tables:
            if name in table:
                where = f" of {self.level} {owner}" if self.level else ""
                raise RocksccError(
                    f'attribute "{name}"{where} already exists (value "{table[name]}"); '
                    f"use set {self.level + ' ' if self.level else ''}attr to change it"
                )
        for _, table in tables:
            table[name] = value


class RemoveAttrBase(Command):
    level = ""
    mutates = True

    def __init_subclass__(cls, **kw) -> None:
        super().__init_subclass__(**kw)
        declare(cls, "remove", [Arg("attr")], "Kickstart_Timezone")

    def run(self, ctx, opts) -> None:
        removed = 0
        for _, table in LEVELS[self.level].tables(ctx, getattr(opts, self.level, None) or []):
            removed += table.pop(opts.attr, None) is not None
        if not removed:
            raise RocksccError(f'attribute "{opts.attr}" is not set at this level')
        if self.level == "os":
            for os_name in [o for o, t in ctx.cluster.os.items() if not t]:
                del ctx.cluster.os[os_name]


class ListAttrBase(Command):
    level = ""

    def __init_subclass__(cls, **kw) -> None:
        super().__init_subclass__(**kw)
        prefix = f"{cls.level} " if cls.level else ""
        cls.name = f"list {prefix}attr"
        cls.args = owner_arg(cls.level, optional=True)
        cls.examples = [f"rockscc list {prefix}attr"]

    def run(self, ctx, opts) -> None:
        owners = getattr(opts, self.level, None) or []
        if self.level == "os" and not owners:
            owners = sorted(ctx.cluster.os)
        if self.level == "appliance" and not owners:
            owners = list(ctx.cluster.appliances)
        rows = []
        for owner, table in LEVELS[self.level].tables(ctx, owners):
            rows += [([owner] if self.level else []) + [k, v] for k, v in table.items()]
        header = ([self.level] if self.level else []) + ["attr", "value"]
        ctx.table(header, rows, owner=bool(self.level))
