"""`rockscc set attr`."""

from __future__ import annotations

from rockscc.commands._attr import SetAttrBase


class SetAttr(SetAttrBase):
    """Set an attribute (global level); the most specific level wins: host > appliance > os > global."""

    level = ""
