"""`rockscc set host attr`."""

from __future__ import annotations

from rockscc.commands._attr import SetAttrBase


class SetHostAttr(SetAttrBase):
    """Set an attribute of hosts (the most specific level: host > appliance > os > global)."""

    level = "host"
