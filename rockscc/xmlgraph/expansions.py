"""One node's expansion shared by the hosts that read the same values in it.

Expanding a node for a host is a deterministic function of the node, the session's files, and
the values it reads from the expander's state: the host's attributes, Rocks' variable dictionary
(`<var>`, as earlier nodes' `<var val/ref>` left it), and the owner/mode earlier `<file>`s gave
a file. So the expander records, while it expands a node, every (kind, name) it reads *before
that node writes it*, with the value it found, and what the node did: the profile entries it
added, the package operations in order, the variables and file modes it set, the dependencies
and warnings it recorded. A later host whose state holds the same values for those names would
read the same values at every step, so it would do exactly the same: the recorded effects are
replayed instead (an *exact* trace memo, not a heuristic).

What varies per host in the node (a host name in a `<var>`) is a read like any other, so a node
that reads it gets one entry per host: entries per node are capped (CAP) and past the cap the
node is only looked up, never recorded again — memory stays bounded at any cluster size.

Not memoized: a node in which an `<eval>` ran (its program may read anything: Rocks ran evals
per host, rockscc does too), and a node whose expansion raised an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat

MISSING = object()  # "no such key" as a recorded value: absent differs from any string
CAP = 256  # recorded value combinations per node; a node past it is looked up, not recorded

ATTR, VAR, FILE_MODE = "a", "v", "f"  # the three kinds of state a node's expansion reads


@dataclass(frozen=True)
class Effects:
    """What expanding one node did to the expander and the profile (replayed in this order)."""

    contributed: bool
    main: tuple
    pre: tuple
    post: tuple
    debug: tuple
    boot_pre: tuple
    boot_post: tuple
    package_ops: tuple  # ("enable" | "disable", name) in the order they ran
    package_origins: tuple  # (name, origin): setdefault in order
    debian_names: tuple  # (name, value): assigned in order
    vars: tuple  # (name, value) of the variables the node set, in order
    file_modes: tuple  # (file name, (owner, perms)) the node set, in order
    deps: tuple  # (key, value) the node recorded, in order
    warnings: tuple


@dataclass
class NodeEntry:
    """The recorded expansions of one node: per *shape* (the names read, by kind: attributes,
    variables, file modes), the values read -> Effects."""

    node: object  # kept so that the id() the table is keyed by stays this node's
    shapes: dict[tuple, dict[tuple, Effects]] = field(default_factory=dict)
    recorded: int = 0

    def find(self, attrs: dict, vars: dict, file_modes: dict) -> Effects | None:
        for (a, v, f), table in self.shapes.items():  # one shape, or a few: filters choose what is read
            values = (*map(attrs.get, a, repeat(MISSING)), *map(vars.get, v, repeat(MISSING)))
            if f:
                values += tuple(map(file_modes.get, f, repeat(MISSING)))
            found = table.get(values)
            if found is not None:
                return found
        return None

    def add(self, reads: dict[tuple, object], effects: Effects) -> None:
        """Record an expansion under what it read: {(kind, name): value read}."""
        if self.recorded >= CAP:
            return
        shape = tuple(tuple(name for kind, name in reads if kind == k) for k in (ATTR, VAR, FILE_MODE))
        values = tuple(value for k in (ATTR, VAR, FILE_MODE) for (kind, _), value in reads.items() if kind == k)
        self.shapes.setdefault(shape, {})[values] = effects
        self.recorded += 1

    @property
    def full(self) -> bool:
        return self.recorded >= CAP


class NodeExpansions:
    """The table of a node tree (one per session): (node, evals on, description dir) -> entry."""

    def __init__(self) -> None:
        self._entries: dict[tuple, NodeEntry] = {}

    def entry(self, node, evals: bool, cluster_dir) -> NodeEntry:
        key = (id(node), evals, cluster_dir)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = NodeEntry(node)
        return entry
