"""`rockscc set appliance attr`."""

from __future__ import annotations

from rockscc.commands._attr import SetAttrBase


class SetApplianceAttr(SetAttrBase):
    """Set an attribute of appliances; the most specific level wins: host > appliance > os > global."""

    level = "appliance"
