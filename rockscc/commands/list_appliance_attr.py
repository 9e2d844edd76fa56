"""`rockscc list appliance attr`."""

from __future__ import annotations

from rockscc.commands._attr import ListAttrBase


class ListApplianceAttr(ListAttrBase):
    """List the attributes set at the appliance level."""

    level = "appliance"
