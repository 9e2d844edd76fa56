"""`rockscc list attr`."""

from __future__ import annotations

from rockscc.commands._attr import ListAttrBase


class ListAttr(ListAttrBase):
    """List the attributes set at the global level."""

    level = ""
