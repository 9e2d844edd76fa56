"""Shared parts of the PXE and boot-flag commands."""

from __future__ import annotations

from rockscc.cli.command import Arg

HOSTS_OR_GLOBAL = Arg("host", repeat=True, optional=True, help="hosts (none: the global table)")


def hosts_or_none(ctx, tokens: list[str]):
    """The named hosts, or None when no host was named (the command then acts globally)."""
    return ctx.hosts(tokens) if tokens else None
