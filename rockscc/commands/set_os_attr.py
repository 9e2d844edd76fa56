"""`rockscc set os attr`."""

from __future__ import annotations

from rockscc.commands._attr import SetAttrBase


class SetOsAttr(SetAttrBase):
    """Set an attribute of operating systems; the most specific level wins: host > appliance > os > global."""

    level = "os"
