"""`rockscc set host rack`."""

from __future__ import annotations

from rockscc.commands._host import SetHostField


class SetHostRack(SetHostField):
    """Set the rack of hosts."""

    field = "rack"
    kind = "int"
    example = "2"
