"""`rockscc remove os attr`."""

from __future__ import annotations

from rockscc.commands._attr import RemoveAttrBase


class RemoveOsAttr(RemoveAttrBase):
    """Remove an attribute from the os level."""

    level = "os"
