"""`rockscc add host attr`."""

from __future__ import annotations

from rockscc.commands._attr import AddAttrBase


class AddHostAttr(AddAttrBase):
    """Add an attribute of hosts; one already set for that host is an error (Rocks 6/7 spelling)."""

    level = "host"
