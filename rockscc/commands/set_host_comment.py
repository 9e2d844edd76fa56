"""`rockscc set host comment`."""

from __future__ import annotations

from rockscc.commands._host import SetHostField


class SetHostComment(SetHostField):
    """Set the comment of hosts (comment="" clears it)."""

    field = "comment"
    example = "'GPU node'"

    def convert(self, ctx, raw):
        return raw or None
