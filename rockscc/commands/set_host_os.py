"""`rockscc set host os`."""

from __future__ import annotations

from rockscc.commands._host import SetHostField


class SetHostOs(SetHostField):
    """Set the os of hosts."""

    field = "os"
    example = "linux"
