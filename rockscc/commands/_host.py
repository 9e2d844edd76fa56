"""Shared shapes of host-editing commands: `set host <field> H… <field>=value`."""

from __future__ import annotations

from rockscc.cli.command import Arg, Command
from rockscc.errors import RocksccError


class SetHostField(Command):
    """Base: subclasses set `field` (the Host attribute), `kind` and a docstring."""

    field = ""
    kind = "str"
    mutates = True

    def __init_subclass__(cls, **kw) -> None:
        super().__init_subclass__(**kw)
        if cls.field:
            cls.name = f"set host {cls.field}"
            cls.args = [Arg("host", kind="host", repeat=True), Arg(cls.field, help=f"the new {cls.field}")]
            cls.examples = [f"rockscc set host {cls.field} compute-0-0 {cls.example}"]

    example = ""

    def run(self, ctx, opts) -> None:
        raw = getattr(opts, self.field)
        value = self.convert(ctx, raw)
        for host in opts.host:
            self.apply(ctx, host, value)

    def convert(self, ctx, raw: str):
        if self.kind == "int":
            try:
                value = int(raw)
            except ValueError:
                raise RocksccError(f'{self.field}: "{raw}" is not an integer') from None
            if value < 0:
                raise RocksccError(f"{self.field}: {value} must not be negative")
            return value
        return raw

    def apply(self, ctx, host, value) -> None:
        setattr(host, self.field, value)
