"""`rockscc remove appliance attr`."""

from __future__ import annotations

from rockscc.commands._attr import RemoveAttrBase


class RemoveApplianceAttr(RemoveAttrBase):
    """Remove an attribute from the appliance level."""

    level = "appliance"
