"""The sandbox's errors."""

from __future__ import annotations

from rockscc.errors import RocksccError


class SandboxUnavailable(RocksccError):
    """This machine cannot give user code the full sandbox: the message names what is missing.
    User code then does not run at all (never in a weaker sandbox)."""
