"""`rockscc remove host attr`."""

from __future__ import annotations

from rockscc.commands._attr import RemoveAttrBase


class RemoveHostAttr(RemoveAttrBase):
    """Remove a host-level attribute; the value from a less specific level shows through again."""

    level = "host"
