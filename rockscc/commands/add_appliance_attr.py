"""`rockscc add appliance attr`."""

from __future__ import annotations

from rockscc.commands._attr import AddAttrBase


class AddApplianceAttr(AddAttrBase):
    """Add an attribute of appliances; one already set for that appliance is an error (Rocks 6/7 spelling)."""

    level = "appliance"
