"""`rockscc add os attr`."""

from __future__ import annotations

from rockscc.commands._attr import AddAttrBase


class AddOsAttr(AddAttrBase):
    """Add an attribute of operating systems; one already set for that os is an error (Rocks 6/7 spelling)."""

    level = "os"
