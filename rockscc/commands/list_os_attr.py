"""`rockscc list os attr`."""

from __future__ import annotations

from rockscc.commands._attr import ListAttrBase


class ListOsAttr(ListAttrBase):
    """List the attributes set at the os level."""

    level = "os"
