"""compile_host: from the merged node tree and one host's attributes to its Profile (what its
kickstart is made of) and exactly what it read. Rendering and validating the kickstart is the
backends' job; pipeline.Session chains the two.

Shared work: graphs, node files and their compiled form are loaded once per tree; the walk and
order are cached per (graph, root, values of the attributes edge tests read), so ten thousand
hosts of one appliance cost one walk; a node's expansion is shared by the hosts that read the
same values in it (expansions.py), so only the nodes that read what differs are filled per host; and
a whole walk is expanded once with holes for the values it only copies (host name, address): a
later host whose decided values match gets its profile by filling the holes (hostrecords.py).
The tree's caches are the session's: a session holds its trees.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from rockscc.errors import Diagnostic, RocksccError
from rockscc.model.overlay import Overlay, find_include
from rockscc.xmlgraph import ir
from rockscc.xmlgraph.depkeys import files_found, walk_start
from rockscc.xmlgraph.expand import Expander
from rockscc.xmlgraph.expansions import NodeExpansions
from rockscc.xmlgraph.graph import Graph
from rockscc.xmlgraph.hostrecords import HostRecords, record
from rockscc.xmlgraph.nodes import NodeIndex, NodeSource
from rockscc.xmlgraph.profile import Profile, Script
from rockscc.xmlgraph.xmlfile import read_xml


@dataclass
class HostInput:
    """The compiler's view of a host: its attributes, where its walk starts, whether <eval> runs."""

    attrs: dict[str, str]
    root: str  # graph root node of the appliance
    graph: str = "default"
    evals: bool = True
    cluster_dir: Path | None = None  # what an <eval> calling `rocks` reads

    @property
    def hostname(self) -> str:
        return self.attrs.get("hostname", "")


@dataclass
class CompileResult:
    """A host's compiled profile, the node files it was built from and what it read."""

    host: str
    profile: Profile
    nodes: list[str]
    deps: dict[str, str | None]
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def partition_programs(self) -> list[Script]:
        """The `%pre` sections in kickstart order: what the installer runs before partitioning."""
        return self.profile.pre


class NodeTree:
    """Every overlay's graphs and node files, parsed once."""

    def __init__(self, overlays: list[Overlay]) -> None:
        self.overlays = list(overlays)
        self.index = NodeIndex(self.overlays)
        self._graphs: dict[str, Graph] = {}
        self._compiled: dict[str, list[ir.CompiledNode]] = {}
        self._walks: dict[tuple, tuple[list[str], list[str]]] = {}
        self._walk_inputs: dict[tuple, tuple[list[ir.CompiledNode], dict[str, str | None]]] = {}
        self._hashes: dict[Path, str] = {}
        self._filter_names: dict[str, list[str]] = {}  # graph -> the attributes its edge tests read, sorted
        self.expansions = NodeExpansions()  # one node's expansion shared by hosts (expansions.py)
        self.host_records: HostRecords | None = HostRecords()  # a whole walk's, with holes (hostrecords.py)

    @classmethod
    def load(cls, overlays: list[Overlay]) -> NodeTree:
        return cls(overlays)

    def graph(self, name: str) -> Graph:
        if name not in self._graphs:
            self._graphs[name] = Graph.load(self.overlays, name)
            if not self._graphs[name].files:
                raise RocksccError(
                    f'graph "{name}" has no files (looked in graphs/{name}/ of '
                    + ", ".join(o.name for o in self.overlays)
                    + ")"
                )
        return self._graphs[name]

    def file_hash(self, path: Path) -> str:
        if path not in self._hashes:
            self._hashes[path] = hashlib.sha256(path.read_bytes()).hexdigest()
        return self._hashes[path]

    def find_include(self, name: str) -> Path | None:
        return find_include([o.path for o in self.overlays], name)

    def file_candidates(self, relpath: str) -> list[tuple[Path, Path]]:
        """(overlay directory, path) where a file named relative to an overlay's top
        (`include/motd`) may be, the overlay that wins first (site, rolls, base)."""
        return [(overlay.path, overlay.path / relpath) for overlay in reversed(self.overlays)]

    def compile_file(self, path: Path) -> ir.CompiledNode:
        """A node file outside the index (`rockscc test node FILE`), named after its file."""
        return _compile_source(
            NodeSource(path, str(path), self.overlays[-1].name if self.overlays else "test"), path.stem
        )

    def compiled(self, name: str, origin: str = "") -> list[ir.CompiledNode]:
        """The compiled node files making node `name` (N.xml + extend-N.xml, or replace-N.xml)."""
        if name not in self._compiled:
            sources = self.index.sources(name)
            if sources is None:
                where = f" (edge at {origin})" if origin else ""
                raise RocksccError(
                    f'cannot find node "{name}": no nodes/{name}.xml in '
                    + ", ".join(o.name for o in self.overlays)
                    + where
                )
            self._compiled[name] = [_compile_source(s, name) for s in sources]
        return self._compiled[name]

    def sources(self, name: str) -> list[NodeSource]:
        return self.index.sources(name) or []

    def walk(self, graph_name: str, root: str, attrs: dict[str, str]) -> tuple[list[str], list[str]]:
        """(ordered node names, the attribute names the walk depended on)."""
        names = self._filter_names.get(graph_name)
        if names is None:
            names = self._filter_names[graph_name] = sorted(self.graph(graph_name).filter_names)
        key = (graph_name, root, tuple(map(attrs.get, names)))
        if key not in self._walks:
            graph = self.graph(graph_name)
            traversed, taken, _ = graph.walk(root, attrs)
            origins = {e.dst: e.origin for e in taken}
            for node in traversed:
                self.compiled(node, origins.get(node, ""))
            self._walks[key] = (graph.order(traversed), names)
        return self._walks[key]

    def walk_inputs(self, graph_name: str, order: list[str]) -> tuple[list[ir.CompiledNode], dict[str, str | None]]:
        """The compiled nodes of a walk in order, and the files and node sources they come from
        (dependencies shared by every host with this walk: computed once per walk)."""
        key = (graph_name, tuple(order))
        if key not in self._walk_inputs:
            files = self.graph(graph_name).files
            deps: dict[str, str | None] = {f"graph:{graph_name}": files_found([path for _display, path in files])}
            for _display, path in files:
                deps[f"file:{path}"] = self.file_hash(path)
            compiled = []
            for name in order:
                deps[f"nodes:{name}"] = files_found(s.path for s in self.sources(name))
                for node in self.compiled(name):
                    path = _path_of(self, node)
                    deps[f"file:{path}"] = self.file_hash(path)
                    compiled.append(node)
            self._walk_inputs[key] = (compiled, deps)
        return self._walk_inputs[key]


def _compile_source(source: NodeSource, name: str) -> ir.CompiledNode:
    root = read_xml(source.path, source.display)
    if root.tag not in ("kickstart", "jumpstart"):
        raise RocksccError(
            f"{source.display}:{root.sourceline}: a node file's top element must be <kickstart>, not <{root.tag}>"
        )
    return ir.compile_node(root, name, source.display, source.overlay)


def compile_host(tree: NodeTree, host: HostInput) -> CompileResult:
    """Walk the host's graph from its appliance's root, order the nodes, expand them."""
    order, walk_attrs = tree.walk(host.graph, host.root, host.attrs)
    compiled, file_deps = tree.walk_inputs(host.graph, order)
    deps = {"walk:": walk_start(host.graph, host.root), **file_deps}
    if tree.host_records is not None:
        walk = tree.host_records.walk(compiled, host.graph, host.root, host.evals, host.cluster_dir)
        found = walk.find(host.attrs)
        filled = found.fill(host.hostname, host.attrs) if found is not None else None
        if filled is not None and not found.specialized:
            walk.served(found, host.attrs)
        if filled is None and found is None and walk.recording:
            filled = record(tree, walk, compiled, host, walk_attrs, deps, _dedup)
        if filled is not None:
            profile, read, warnings = filled
            return CompileResult(host.hostname, profile, order, read, warnings)
    return expand_nodes(tree, compiled, host, order=order, read=walk_attrs, deps=deps)


def expand_nodes(
    tree: NodeTree,
    nodes: list[ir.CompiledNode],
    host: HostInput,
    *,
    order: list[str] | None = None,
    read: list[str] = (),
    deps: dict[str, str | None] | None = None,
) -> CompileResult:
    """Expand compiled nodes, in the order given, for the host. `read`: attributes already read
    (the walk's edge tests); `deps`: files already read (the graph and node files)."""
    expander = Expander(tree, host.attrs, evals=host.evals, cluster_dir=host.cluster_dir)
    for name in read:
        expander.attr(name)
    expander.deps.update(deps or {})
    profile = expander.expand(host.hostname, nodes)
    names = order if order is not None else [node.name for node in nodes]
    return CompileResult(host.hostname, profile, names, expander.deps, _dedup(expander.warnings))


def _path_of(tree: NodeTree, node: ir.CompiledNode) -> Path:
    for source in tree.sources(node.name):
        if source.display == node.display and source.overlay == node.overlay:
            return source.path
    raise RocksccError(f"internal: lost the file of node {node.name}")


def _dedup(warnings: list[Diagnostic]) -> list[Diagnostic]:
    """Sorted, each once: the order Diagnostic's own comparison gives (its fields in order),
    compared in C through a key instead of the dataclass's __lt__ (thousands of hosts, ~30
    warnings each with evals off)."""
    return sorted(set(warnings), key=_diagnostic_order)


def _diagnostic_order(d: Diagnostic) -> tuple:
    return (d.file, d.line, d.message, d.severity)
