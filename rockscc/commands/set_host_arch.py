"""`rockscc set host arch`."""

from __future__ import annotations

from rockscc.commands._host import SetHostField


class SetHostArch(SetHostField):
    """Set the arch of hosts."""

    field = "arch"
    example = "x86_64"
