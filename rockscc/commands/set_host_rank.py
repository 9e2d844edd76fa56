"""`rockscc set host rank`."""

from __future__ import annotations

from rockscc.commands._host import SetHostField


class SetHostRank(SetHostField):
    """Set the rank of hosts."""

    field = "rank"
    kind = "int"
    example = "2"
