"""Which hosts a command line names: the one resolver every command's host arguments go through.

A token is, in this order:
- a host name:                       compute-0-3
- an appliance name (all its hosts): compute
- a rack (its hosts but frontends):  rack2
- a pattern, HPC ranges and shell globs mixed:
      compute-0-[0-12,15]     numbers 0 to 12 and 15 (not the characters 0, 1, 2 — what shells mean)
      compute-[0-1]-[00-07]   several ranges; a bound written with leading zeros asks for that width
      compute-*  node?  c[ab]-1   shell globs (a bracket that is not a list of numbers is a glob class)
- an address or interface name of a host: 10.1.255.254, compute-0-3.ipmi

It answers from the host table's rows (names, memberships, racks), so selecting a hundred hosts
of ten thousand decodes a hundred records. A token that names no host is an error.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rockscc.errors import RocksccError

if TYPE_CHECKING:
    from rockscc.model.cluster import Cluster

_RANGE = re.compile(r"^\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*$")
_RACK = re.compile(r"rack(\d+)")
MAX_RANGE = 1_000_000  # numbers a range may span (a typo like [0-99999999999] is refused, not expanded)


def select(cluster: Cluster, tokens: list[str], *, default_all: bool = True) -> list[str]:
    """Names of the hosts `tokens` name, sorted as Rocks lists hosts, each once."""
    from rockscc.model.cluster import sort_key

    table = cluster.host_table()
    if not tokens:
        chosen: set[str] = set(table) if default_all else set()
    else:
        chosen = set()
        for token in tokens:
            matched = match(cluster, token)
            if not matched:
                raise RocksccError(f'cannot resolve host "{token}"')
            chosen.update(matched)
    return sorted(chosen, key=lambda name: sort_key(name, *table.summary(name)))


def match(cluster: Cluster, token: str) -> list[str]:
    table = cluster.host_table()
    if token in table:
        return [token]
    if token in cluster.appliances:
        membership = cluster.appliances[token].membership
        return [name for name in table if table.summary(name)[0] == membership]
    rack = _RACK.fullmatch(token)
    if rack:
        frontend = cluster.appliances["frontend"].membership if "frontend" in cluster.appliances else None
        return [name for name in table if table.summary(name)[1] == int(rack[1]) and table.summary(name)[0] != frontend]
    if any(c in token for c in "*?["):
        test = pattern(token)
        return [name for name in table if test(name)]
    return sorted(table.holders("ip", token) | table.holders("name", token))


def pattern(token: str):
    """A predicate for host names matching `token` (ranges and globs, see the module's doc)."""
    parts: list[str] = []
    ranges: list[list[tuple[int, int, int]]] = []
    i = 0
    while i < len(token):
        char = token[i]
        if char == "[":
            end = token.find("]", i + 2)
            if end < 0:
                raise RocksccError(f'host pattern "{token}": "[" without "]"')
            body = token[i + 1 : end]
            if _RANGE.match(body):
                ranges.append(_bounds(token, body))
                parts.append(r"(\d+)")
            else:
                negate = body.startswith("!")
                inner = body[1:] if negate else body
                # literal inside the class: a backslash, and what a later Python reads as a nested
                # set or a set operation ("[", "&&", "~~", "||", "--"; today a FutureWarning on stderr)
                inner = re.sub(r"[\\\[&~|]", r"\\\g<0>", inner).replace("--", "-\\-")
                parts.append("[" + ("^" if negate else "") + inner + "]")
            i = end + 1
            continue
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        i += 1
    try:
        regex = re.compile("".join(parts))
    except re.error as exc:
        raise RocksccError(f'host pattern "{token}": {exc}') from None

    def test(name: str) -> bool:
        found = regex.fullmatch(name)
        if found is None:
            return False
        for text, spans in zip(found.groups(), ranges, strict=True):
            number, unpadded = int(text), len(text) == 1 or text[0] != "0"
            if not any(
                low <= number <= high and (len(text) == width if width else unpadded) for low, high, width in spans
            ):
                return False
        return True

    return test


def _bounds(token: str, body: str) -> list[tuple[int, int, int]]:
    """The intervals of `0-12,15`, each with the width its zero-padded bounds ask for (`00-12`:
    two digits; 0: written without leading zeros)."""
    spans = []
    for item in body.split(","):
        low_text, _, high_text = item.partition("-")
        high_text = high_text or low_text
        low, high = int(low_text), int(high_text)
        if low > high:
            raise RocksccError(f'host pattern "{token}": range {item} runs backwards')
        if high - low > MAX_RANGE:
            raise RocksccError(f'host pattern "{token}": range {item} spans more than {MAX_RANGE} numbers')
        padded = low_text.startswith("0") and len(low_text) > 1 or high_text.startswith("0") and len(high_text) > 1
        spans.append((low, high, max(len(low_text), len(high_text)) if padded else 0))
    return spans
