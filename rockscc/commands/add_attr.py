"""`rockscc add attr`."""

from __future__ import annotations

from rockscc.commands._attr import AddAttrBase


class AddAttr(AddAttrBase):
    """Add an attribute (global level); an attribute already set there is an error (Rocks 6/7 spelling; `set attr` changes one)."""

    level = ""
