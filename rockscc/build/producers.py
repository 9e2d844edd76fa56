"""The producers of build jobs, one function per artifact family (wired as backends land)."""

from __future__ import annotations

ALL: list = []
