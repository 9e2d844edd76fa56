"""`rockscc remove attr`."""

from __future__ import annotations

from rockscc.commands._attr import RemoveAttrBase


class RemoveAttr(RemoveAttrBase):
    """Remove an attribute from the global level."""

    level = ""
