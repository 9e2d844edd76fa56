"""`rockscc set host cpus`."""

from __future__ import annotations

from rockscc.commands._host import SetHostField


class SetHostCpus(SetHostField):
    """Set the cpus of hosts."""

    field = "cpus"
    kind = "int"
    example = "8"

    def convert(self, ctx, raw):
        value = super().convert(ctx, raw)
        if value < 1:
            from rockscc.errors import RocksccError

            raise RocksccError(f"cpus: {value} must be at least 1")
        return value
