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

Runs of nodes. Looking up and replaying each of a walk's ~50 nodes per host costs more than the
few nodes that really differ: after a walk's second host, each maximal run of nodes that both
hosts expanded alike (one recorded combination each: they read nothing that differed) becomes a
*run*, with a table of its own. A run is the composition of its nodes, and a composition of
deterministic steps is deterministic in what it reads before writing: the first node's reads, and
each later node's reads that no earlier node of the run wrote (their values are the run's own
doing). So a run is recorded from its nodes' traces (hits or recordings, never a node expanded
without one) and replayed as one when a later host holds the same values for those reads; a host
that differs in one of them misses and expands the run node by node (each node's own table still
serves it), then records the new combination (capped like a node's).
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
        hit = self._hit(attrs, vars, file_modes)
        return hit[2] if hit is not None else None

    def find_traced(self, attrs: dict, vars: dict, file_modes: dict) -> tuple[list, Effects] | None:
        """find, with what the found expansion read first: ([((kind, name), value)], effects), the
        trace a run is composed of."""
        hit = self._hit(attrs, vars, file_modes)
        if hit is None:
            return None
        (a, v, f), values, found = hit
        names = [(ATTR, n) for n in a] + [(VAR, n) for n in v] + [(FILE_MODE, n) for n in f]
        return list(zip(names, values)), found

    def _hit(self, attrs: dict, vars: dict, file_modes: dict) -> tuple[tuple, tuple, Effects] | None:
        """(shape, the values read, effects) of the recorded expansion whose reads this state
        matches, None if none does."""
        for shape, table in self.shapes.items():  # one shape, or a few: filters choose what is read
            a, v, f = shape
            values = (*map(attrs.get, a, repeat(MISSING)), *map(vars.get, v, repeat(MISSING)))
            if f:
                values += tuple(map(file_modes.get, f, repeat(MISSING)))
            found = table.get(values)
            if found is not None:
                return shape, values, found
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


@dataclass(frozen=True)
class RunEffects:
    """What expanding a run of nodes did: its nodes' effects in order, as one (`contributed`
    unused; `warnings` holds each node's own warnings before its expansion's, as expand adds
    them), the nodes' labels and those of the nodes that contributed (the traversal comment)."""

    effects: Effects
    labels: tuple
    commented: tuple


@dataclass
class Run:
    """Nodes start..end-1 of a walk, shared as one (their table: NodeEntry of RunEffects)."""

    start: int
    end: int
    entry: NodeEntry


@dataclass
class WalkRuns:
    """The runs of one node list (a walk), planned after its second host (see the docstring)."""

    nodes: list  # kept so that the id() the table is keyed by stays this list's
    hosts: int = 0
    starting: dict[int, Run] = field(default_factory=dict)  # start index -> run


class NodeExpansions:
    """The table of a node tree (one per session): (node, evals on, description dir) -> entry,
    and (node list, evals on, description dir) -> its runs."""

    WALKS = 256  # node lists given runs (a walk per appliance and edge values; one-off lists past it get none)

    def __init__(self) -> None:
        self._entries: dict[tuple, NodeEntry] = {}
        self._walks: dict[tuple, WalkRuns] = {}

    def entry(self, node, evals: bool, cluster_dir) -> NodeEntry:
        key = (id(node), evals, cluster_dir)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = NodeEntry(node)
        return entry

    def runs(self, nodes: list, evals: bool, cluster_dir) -> WalkRuns | None:
        key = (id(nodes), evals, cluster_dir)
        walk = self._walks.get(key)
        if walk is None and len(self._walks) < self.WALKS:
            walk = self._walks[key] = WalkRuns(nodes)
        return walk

    def expanded(self, walk: WalkRuns, evals: bool, cluster_dir) -> None:
        """A host of the walk was expanded whole: after the second, plan its runs — maximal
        stretches of two or more nodes each holding exactly one recorded combination."""
        walk.hosts += 1
        if walk.hosts != 2:
            return
        alike = []
        for node in walk.nodes:
            entry = self._entries.get((id(node), evals, cluster_dir))
            alike.append(entry is not None and entry.recorded == 1)
        start = None
        for index, same in enumerate([*alike, False]):
            if same and start is None:
                start = index
            elif not same and start is not None:
                if index - start >= 2:
                    walk.starting[start] = Run(start, index, NodeEntry(walk))
                start = None


def compose(nodes: list, labels: list, traces: list) -> tuple[dict, RunEffects]:
    """The trace of a run from its nodes' traces [(reads, effects)]: what it read before it wrote
    it (a later node's read of a name an earlier node of the run wrote is the run's own doing),
    and its effects, in order."""
    reads: dict = {}
    written: set = set()
    parts: dict[str, list] = {name: [] for name in _CONCATENATED}
    warnings, commented = [], []
    for node, label, (node_reads, effects) in zip(nodes, labels, traces):
        for key, value in node_reads:
            if key not in written and key not in reads:
                reads[key] = value
        written.update((VAR, name) for name, _ in effects.vars)
        written.update((FILE_MODE, name) for name, _ in effects.file_modes)
        for name in _CONCATENATED:
            parts[name] += getattr(effects, name)
        warnings += [*node.warnings, *effects.warnings]
        if effects.contributed:
            commented.append(label)
    merged = Effects(True, **{name: tuple(items) for name, items in parts.items()}, warnings=tuple(warnings))
    return reads, RunEffects(merged, tuple(labels), tuple(commented))


_CONCATENATED = (
    "main",
    "pre",
    "post",
    "debug",
    "boot_pre",
    "boot_post",
    "package_ops",
    "package_origins",
    "debian_names",
    "vars",
    "file_modes",
    "deps",
)
