"""The compile pipeline of one description: the only place where the stages are chained, and the
owner of every cache a compile uses.

    model: Cluster, Host ─► xmlgraph.compile_host ─► Profile (+ what it read)
    Profile %pre + the host's hardware ─► partitions.Planner ─► PlannedHost
    Profile (+ the planned directives, attribute partition_inline) ─► backends.kickstart: render, validate
    the description ─► specs ─► backends: boot files, Xen and libvirt configs, network files

Every command that compiles goes through a Session — `build` (each --watch round is a new Session),
`build HOST…`, `list host profile|xml|partition plan|graph`, `report graph`, `report host vm`,
`list node xml`, `check`, `test node`, `test partition` and the VM commands, which build before they
start a VM — so each compiles with the same CompileOptions and validation as a build.

Where every cache lives
-----------------------
A Session owns every cache of a compile. They start empty with the session and end with it, so
nothing survives from one description, or one --watch round, to the next; a forked build worker
inherits its parent's (copy on write).

    memo        Memo: results kept between builds, build/.rockscc-cache/memo.sqlite (rockscc/memo.py);
                the engine points it at the build directory for a build's duration
    _trees      the node tree: parsed graphs, compiled node files, walks, file hashes (xmlgraph/compiler.py)
    renderer    kickstart sections rendered once each; the templates' frames also through `memo`
                (backends/kickstart)
    validator   pykickstart verdicts by kickstart skeleton, in memory and through `memo` (backends/kickstart)
    planner     partition plans, %pre chain results, per-step /tmp snapshots (partitions/__init__.py,
                partitions/programs.py: ChainCache); plans through `memo`
    _dep_keys   dependency keys with their file paths resolved (and _dep_key_lists: by key sequence)
    _salt       the kickstart templates' identity
    _facts      what the cluster-wide specs read of each host, one build's (pipeline/hostfacts.py; kept
                between builds through `memo`, by each host record's digest)
    _base       the facts base, if it holds for one build's hosts (pipeline/hostfacts.py; recorded
                through `memo` when the network spec is made in full)
    _stamps     one build's input stamps (engine/stamps.py), made again by each build

A build's own state is the engine's, made per build: the manifest (engine/manifest.py), the
DepResolver's values (engine/jobs.py); and the session's, made again by each build (Session.build
drops them): the input stamps and their group verdicts (engine/stamps.py), the hosts' facts.

Process-wide state outside any session is listed in PROCESS_WIDE below, each with why it may be
(tests/test_caches.py fails when a module-level cache is added and not listed there).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rockscc.engine.jobs import DepResolver
from rockscc.engine.make import BuildOptions, BuildReport, build, output_dir
from rockscc.engine.manifest import Manifest
from rockscc.engine.stamps import Stamps
from rockscc.errors import Diagnostic, RocksccError
from rockscc.memo import Memo, code_identity
from rockscc.model import Cluster, Hardware, Host
from rockscc.model.cluster import truthy
from rockscc.model.defaults import DEFAULT_DIALECT, PRESEED_DIALECTS
from rockscc.model.overlay import BUILTIN_BASE, Overlay, files_signature, stamped_dirs
from rockscc.partitions import PlannedHost, Planner
from rockscc.pipeline import deps, hostfacts, producers
from rockscc.pipeline.hostfacts import Facts

if TYPE_CHECKING:  # the stages are imported where they are used: a no-op build loads neither lxml nor Jinja2
    from rockscc.backends.kickstart import Renderer, Validator
    from rockscc.xmlgraph.compiler import CompileResult, HostInput, NodeTree

PROCESS_WIDE = {
    # module:name -> why it may live outside a session
    "rockscc.grammar.cond:_parser": "the cond= grammar's parser: built from a file shipped with rockscc",
    "rockscc.grammar.cond:parse_cond": "a pure function of the cond= text, bounded (lru_cache)",
    "rockscc.grammar.partition:_parser": "the partition grammar's parser: built from a file shipped with rockscc",
    "rockscc.grammar.xlcfg:_parser": "the xl config grammar's parser: built from a file shipped with rockscc",
    "rockscc.backends.kickstart:_parser": "pykickstart's parser per release: built once (~28 ms), reset after each use",
    "rockscc.backends.kickstart:_line_parser": "pykickstart's parser per release for hole lines alone (holes.py): "
    "built once, reset after each use",
    "rockscc.backends.kickstart:_handler_class": "pykickstart's handler class per release: a function of the "
    "installation",
    "rockscc.backends.kickstart:_lean_parser": "pykickstart parsers with a few commands each (by release and "
    "command names), bounded (lru_cache), reset after each use",
    "rockscc.backends.kickstart:_template": "the compiled Jinja2 templates shipped with rockscc: a function of the code",
    "rockscc.backends.kickstart:_render_identity": "the shipped templates' and the installed Jinja2's digest: "
    "a function of the installation",
    "rockscc.backends.kickstart.holes:_starts_section": "a pure function of one line, bounded (lru_cache)",
    "rockscc.backends.boot:_loader_texts": "a pure function of an action, the kickstart URL and the label, "
    "bounded (lru_cache)",
    "rockscc.backends.boot:_ipxe_text": "a pure function of an action, the kickstart URL and the label, bounded (lru_cache)",
    "rockscc.backends.kickstart:_head_findings": "a pure function of a kickstart head's text, bounded (lru_cache)",
    "rockscc.partitions.deadvalues:canonical": "a pure function of a program's text, bounded (lru_cache)",
    "rockscc.partitions.deadvalues:_templates": "program shapes for canonical(): derived from texts alone, bounded",
    "rockscc.partitions.programs:_interpreter": "a pure function of a %pre header, bounded (lru_cache)",
    "rockscc.sandbox.pool:_workers": "the sandbox worker process of this process (by pid: a forked build worker "
    "starts its own); a process resource, not a cache",
    "rockscc.xmlgraph.evals:_views": "what an <eval>'s `rocks` command reads (cluster.toml without secrets): one "
    "entry, keyed by the file's inode, size and mtime, so never stale",
    "rockscc.model.codec:_decoder": "the decoder of each model type: a function of the code",
    "rockscc.model.codec:_trusted_decoder": "the decoder of each model type for rockscc's own cache: a function of the code",
    "rockscc.model.names:check_word": "a pure check of one value, bounded (lru_cache; only values that passed)",
    "rockscc.model.names:check_dns_name": "a pure check of one value, bounded (lru_cache; only values that passed)",
    "rockscc.model.names:check_path": "a pure check of one value, bounded (lru_cache; only values that passed)",
    "rockscc.model.names:check_pxe_action": "a pure check of one PXE action, bounded (lru_cache; only actions that passed)",
    "rockscc.memo:code_identity": "the running rockscc's own code: constant for a process",
    "rockscc.runtime.connection:_connections": "libvirt connections by URI: a process resource of the VM "
    "commands, not a compile cache",
    "rockscc.runtime.move:observers": "not a cache: the hooks tests register to watch each step of a VM move",
    "rockscc.cli.registry:_builtin": "the built-in command modules: a function of the code",
    "rockscc.cli.registry:_plugins": "installed entry-point commands: a function of the installation",
    "rockscc.cli.registry:_extra": "commands registered at run time: the command table, not a cache",
    "rockscc.cli.registry:_lazy": "the enabled rolls' commands of the description in use: the command table",
    "rockscc.model.commit:_faults": "tests' fault injection: how often each commit step ran in this process",
    "rockscc.model.alloc:as_ints": "addresses as integers: a pure function of its argument",
    "rockscc.model.services:_range_addresses": "the addresses of a range: a pure function of its bounds",
    "rockscc.cli.registry:_builtin_class": "the class each built-in command module declares: a function of the code",
    "rockscc.cli.registry:_known_cache": "the command names as a set, keyed by the command table it was made from",
    "rockscc.engine.output:_NO_TMPFILE": "output directories whose file system refused an unnamed file (O_TMPFILE): "
    "a property of the mount, not of what is built; a handful of entries",
    "rockscc.engine.output:_PROC_FDS": "this process's /proc/self/fd, opened once (by pid: a forked build worker "
    "opens its own); a process resource, not a cache",
    "rockscc.engine.output:_CHECKED_DIRS": "directories below the build directory seen not to be links: emptied at "
    "the start of every build (engine.make.build), a handful of entries",
}


WARM_SAMPLE = 8  # hosts of each appliance (VMs apart) looked at for their hardware before forking
WARM_KINDS = 16  # at most this many compiles before forking: the workers wait for them


@dataclass(frozen=True)
class CompileOptions:
    """Every option that changes what a compile produces. `rockscc build` and every command that
    compiles take them from the same command-line parameters (commands/_compile.py); the build
    stamps and records all of them (a field added here is covered without touching the engine)."""

    evals: bool = True  # run <eval> scripts (off: each is replaced by a marked comment)


@dataclass
class HostCompile:
    """What a host's profile job writes: its validated kickstart, its partition plan (hosts with
    declared disks), what the compile read and what it warned about."""

    kickstart: str
    plan: PlannedHost | None
    deps: dict[str, str | None]
    warnings: list[Diagnostic] = field(default_factory=list)


@dataclass
class Fragment:
    """One node file's part of a kickstart (`rockscc test node`)."""

    kickstart: str
    warnings: list[Diagnostic]
    error: RocksccError | None = None  # what the validation of a build would say of it


class Session:
    """One description (or none: `test node`, `test partition`), compiled with one set of options."""

    def __init__(self, cluster: Cluster | None = None, options: CompileOptions = CompileOptions()) -> None:
        self.cluster = cluster
        self.options = options
        self.memo = Memo()
        self.planner = Planner(self.memo)
        self._trees: dict[tuple[Overlay, ...], NodeTree] = {}
        self._cluster_tree: NodeTree | None = None
        self._dep_keys: dict[str, str] = {}
        self._dep_key_lists: dict[tuple[str, ...], tuple[str, ...]] = {}  # a record's key sequence, evaluated
        self._hardware_digests: dict[tuple, tuple] = {}  # (id(hardware), hwprofile) -> (hardware, digest)
        self._salt: str | None = None
        self._facts: dict[str, Facts] | None = None
        self._base: tuple[hostfacts.Base | None] | None = None  # (facts base or None,) once looked up
        self._stamps: Stamps | None = None

    @cached_property
    def renderer(self) -> Renderer:
        from rockscc.backends.kickstart import Renderer

        return Renderer(self.memo)

    @cached_property
    def validator(self) -> Validator:
        from rockscc.backends.kickstart import Validator

        return Validator(self.memo)

    @cached_property
    def preseed_validator(self):
        from rockscc.backends.preseed import Validator

        return Validator(self.memo)

    # --- the node tree -------------------------------------------------------------------------
    def tree(self) -> NodeTree:
        """The description's merged node and graph files, parsed once per session."""
        if self._cluster_tree is None:
            self._cluster_tree = self._tree(tuple(self.cluster.overlays()))
        return self._cluster_tree

    def _tree(self, overlays: tuple[Overlay, ...]) -> NodeTree:
        if overlays not in self._trees:
            from rockscc.xmlgraph.compiler import NodeTree

            self._trees[overlays] = NodeTree.load(list(overlays))
        return self._trees[overlays]

    # --- one host ------------------------------------------------------------------------------
    def host_input(self, host: Host) -> HostInput:
        """The compiler's view of a host: its attributes, its appliance's graph and root, and
        whether its <eval>s run (the option, unless the host's attribute eval says no)."""
        from rockscc.xmlgraph.compiler import HostInput

        attrs = self.cluster.resolve_attrs(host)
        appliance = self.cluster.appliance_of(host)
        evals = self.options.evals and not _says_no(attrs.get("eval"))
        return HostInput(
            attrs=attrs, root=appliance.node, graph=appliance.graph, evals=evals, cluster_dir=self.cluster.root
        )

    def profile(self, host: Host) -> CompileResult:
        """The host's Profile (what its kickstart is made of) and what compiling it read."""
        from rockscc.xmlgraph.compiler import compile_host

        return compile_host(self.tree(), self.host_input(host))

    def compile(self, host: Host, *, plan: bool) -> HostCompile:
        """The host's validated kickstart, as `rockscc build` writes it. `plan`: also plan its
        partitions when its disks are declared (the kickstart needs the plan only with
        partition_inline)."""
        from rockscc.xmlgraph.compiler import compile_host

        host_input = self.host_input(host)
        result = compile_host(self.tree(), host_input)
        attrs = host_input.attrs
        read = result.deps | self._option_deps
        read["attr:eval"] = attrs.get("eval")
        read["attr:kickstart_dialect"] = attrs.get("kickstart_dialect")
        dialect = attrs.get("kickstart_dialect") or DEFAULT_DIALECT
        if dialect in PRESEED_DIALECTS:
            return self._preseed(host, result, attrs, read, dialect, plan=plan)
        planned, inline = self._partitions(host, result.profile.pre, attrs, read, wanted=plan)
        if planned is not None:  # what the kickstart %includes at install time, read as the installer will
            self.validator.validate_partition_info(planned.info_text, dialect, host.name)
        kickstart = self.renderer.render(result.profile, dialect, planned.info_text if inline else None)
        self.validator.validate(kickstart, dialect, host.name, result.profile)
        warnings = result.warnings + (planned.warnings if planned is not None else [])
        return HostCompile(kickstart.text, planned if plan else None, read, warnings)

    def _preseed(
        self, host: Host, result: CompileResult, attrs: dict[str, str], read: dict, dialect: str, *, plan: bool
    ) -> HostCompile:
        """A Debian installer preseed (backends/preseed): rendered from the profile and the
        partition plan (its partman recipe), so the plan is always made."""
        from rockscc.backends import preseed

        planned, _ = self._partitions(host, result.profile.pre, attrs, read, wanted=True)
        read["attr:debian_allow_unauthenticated"] = attrs.get("debian_allow_unauthenticated")
        options = preseed.Options(allow_unauthenticated=truthy(attrs.get("debian_allow_unauthenticated")))
        rendered = preseed.render(result.profile, planned.plan if planned else None, dialect, options)
        self.preseed_validator.validate(rendered, host.name)
        warnings = result.warnings + (planned.warnings if planned is not None else [])
        return HostCompile(rendered.text, planned if plan else None, read, warnings)

    def _partitions(
        self, host: Host, pre: list, attrs: dict[str, str], read: dict, *, wanted: bool
    ) -> tuple[PlannedHost | None, bool]:
        """(the host's plan, whether its kickstart inlines it): planned when its disks are declared
        and the plan is wanted or inlined (attribute partition_inline). Records what it read."""
        hardware = self.cluster.hardware_of(host)
        read["hw:"] = self._hardware_digest(host, hardware)  # none declared yet is an input too
        if hardware is None:
            return None, False
        inline = truthy(attrs.get("partition_inline"))
        read["attr:partition_inline"] = attrs.get("partition_inline")
        if not (wanted or inline):
            return None, False
        return self.planner.plan(pre, hardware, host.name, host.partitions), inline

    def _hardware_digest(self, host: Host, hardware: Hardware | None) -> str:
        """deps.hardware_digest, once per hardware object and profile for hosts without recorded
        partitions (the hosts of a hardware profile share its object)."""
        if host.partitions:
            return deps.hardware_digest(self.cluster, host)
        key = (id(hardware), host.hwprofile)
        known = self._hardware_digests.get(key)
        if known is None or known[0] is not hardware:  # the object kept in the entry: its id stays its own
            if len(self._hardware_digests) > 4096:
                self._hardware_digests.clear()
            known = self._hardware_digests[key] = (hardware, deps.hardware_digest(self.cluster, host))
        return known[1]

    @cached_property
    def _option_deps(self) -> dict[str, str]:
        return {f"opt:{f.name}": str(getattr(self.options, f.name)) for f in fields(self.options)}

    def partition_plan(self, host: Host) -> PlannedHost:
        """The host's partition plan, as `rockscc build` writes it."""
        if self.cluster.hardware_of(host) is None:
            raise RocksccError(f'host "{host.name}" has no declared disks (set host hwprofile, or add host disk)')
        return self.compile(host, plan=True).plan

    def check_hosts(self, hosts: list[Host]) -> list[Diagnostic]:
        """Compile hosts as a build would, collecting errors and warnings instead of stopping
        (`rockscc check`; an <eval> that was not run is no finding)."""
        found: list[Diagnostic] = []
        for host in hosts:
            try:
                found.extend(w for w in self.compile(host, plan=False).warnings if "not run" not in w.message)
            except RocksccError as exc:
                from rockscc.xmlgraph.lint import diagnostic_of

                found.append(diagnostic_of(exc, f"host {host.name}: "))
        return found

    # --- node files without a host -------------------------------------------------------------
    def node_profile(self, name: str, attrs: dict[str, str]) -> CompileResult:
        """Node `name` of the description's tree (N.xml with its extend-/replace- files) expanded
        with the given attributes (`rockscc list node xml`)."""
        tree = self.tree()
        return self._expand_alone(tree, tree.compiled(name), attrs, keep_missing=True)

    def node_file(self, path: Path, attrs: dict[str, str], *, keep_missing: bool = True) -> CompileResult:
        """A node file on its own, its <include>s found next to it (`../include/`, as in a roll's
        source tree)."""
        if not path.is_file():
            raise RocksccError(f"{path}: no such file")
        tree = self._file_tree(path)
        return self._expand_alone(tree, [tree.compile_file(path)], attrs, keep_missing=keep_missing)

    def _expand_alone(self, tree: NodeTree, nodes: list, attrs: dict[str, str], *, keep_missing: bool) -> CompileResult:
        """Nodes expanded for a host that is not in the description. An &entity; without a value
        is kept as `&name;` and reported (`keep_missing`: the fragment can be read on its own), or
        is an error naming it."""
        attrs, notes = dict(attrs), []
        for node in nodes:
            for name in sorted(node.entity_names - set(attrs)):
                if not keep_missing:
                    raise RocksccError(f"{node.display}: &{name}; needs a value: give {name}=… on the command line")
                notes.append(Diagnostic(node.display, 0, f"no value for &{name}; (give {name}=… on the command line)"))
                attrs[name] = f"&{name};"
        from rockscc.xmlgraph.compiler import HostInput, expand_nodes

        host = HostInput(
            attrs,
            root=nodes[0].name if nodes else "",
            evals=self.options.evals,
            cluster_dir=self.cluster.root if self.cluster is not None else None,
        )
        result = expand_nodes(tree, nodes, host)
        result.warnings = sorted(set(notes + result.warnings))
        return result

    def fragment(self, path: Path, attrs: dict[str, str], dialect: str) -> Fragment:
        """The part of a kickstart a node file contributes, rendered and checked as a build
        renders and checks a whole one (`rockscc test node`)."""
        result = self.node_file(path, attrs)
        kickstart = self.renderer.render(result.profile, dialect)
        try:
            self.validator.validate(kickstart, dialect, result.host, result.profile, fragment=True)
        except RocksccError as exc:
            return Fragment(kickstart.text, result.warnings, exc)
        return Fragment(kickstart.text, result.warnings)

    def partition_trial(self, path: Path, hardware: Hardware, attrs: dict[str, str], *, base: bool) -> PlannedHost:
        """The %pre programs of a node file (and, with `base`, of rockscc's nodes/partition.xml,
        as the built-in graph follows them) planned on the given disks (`rockscc test partition`)."""
        scripts = self.node_file(path, attrs, keep_missing=False).profile.pre
        if base:
            scripts += self.node_file(BUILTIN_BASE / "nodes" / "partition.xml", attrs, keep_missing=False).profile.pre
        planned = self.planner.plan(scripts, hardware, attrs.get("hostname", ""))
        dialect = attrs.get("kickstart_dialect") or DEFAULT_DIALECT
        if dialect not in PRESEED_DIALECTS:  # as a build checks it (compile)
            self.validator.validate_partition_info(planned.info_text, dialect, attrs.get("hostname", ""))
        return planned

    def _file_tree(self, path: Path) -> NodeTree:
        return self._tree((Overlay("test", path.resolve().parent.parent),))

    # --- graphs as pictures ----------------------------------------------------------------------
    def host_walk(self, host: Host) -> HostWalk:
        """The part of the graph a host's profile is built from (`rockscc list host graph`)."""
        tree = self.tree()
        appliance = self.cluster.appliance_of(host)
        graph = tree.graph(appliance.graph)
        traversed, taken, filtered = graph.walk(appliance.node, self.cluster.resolve_attrs(host))
        names = traversed | {e.dst for e in filtered}
        return HostWalk(
            host.name,
            traversed,
            graph.order(traversed),
            {(e.src, e.dst) for e in taken},
            {(e.src, e.dst) for e in filtered},
            self._overlay_of(names),
            [o.name for o in tree.overlays],
        )

    def appliance_walks(self, appliances: list[str]) -> tuple[list[ApplianceWalk], dict[str, str], list[str]]:
        """The whole graph each appliance's profiles can be built from (`rockscc report graph`),
        the overlay of each node and the overlays in merge order."""
        tree = self.tree()
        walks, names = [], set()
        for name in appliances:
            appliance = self.cluster.appliance_by_membership(name)[1]
            graph = tree.graph(appliance.graph)
            reach, stack, edges = {appliance.node}, [appliance.node], set()
            while stack:
                for edge in graph.edges.get(stack.pop(), []):
                    edges.add((edge.src, edge.dst, edge.filter))
                    if edge.dst not in reach:
                        reach.add(edge.dst)
                        stack.append(edge.dst)
            walks.append(ApplianceWalk(name, appliance.node, reach, graph.order(reach), edges))
            names |= reach
        return walks, self._overlay_of(names), [o.name for o in tree.overlays]

    def _overlay_of(self, names: set[str]) -> dict[str, str]:
        """The overlay each node's file comes from (the last one, which wins); absent: no file."""
        tree = self.tree()
        return {name: tree.sources(name)[-1].overlay for name in names if tree.sources(name)}

    # --- VMs -----------------------------------------------------------------------------------
    def vm_config(self, host: Host, kind: str, mode: str) -> str:
        """A VM's Xen config (`kind="xen"`) or libvirt domain XML (`"libvirt"`), install or boot,
        as `rockscc build` writes it."""
        from rockscc.backends.libvirt_xml import domain_xml
        from rockscc.backends.xen import xl_config
        from rockscc.pipeline.specs import vm_spec

        return (xl_config if kind == "xen" else domain_xml)(vm_spec(self.cluster, host), mode)

    # --- building ------------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        return self.cluster.root

    def build(self, options: BuildOptions, wait_message: Callable[[], None] | None = None) -> BuildReport:
        """Build what is stale (engine/make.py), with this session's jobs, stamps and memo."""
        self._stamps = self._facts = self._base = None  # one build's: the description may have changed since the last
        return build(output_dir(self.root, options.out), options, self, wait_message)

    def jobs(self, resolver: DepResolver, manifest: Manifest, outdir: Path, hosts: list[str] | None) -> list:
        deps.register(resolver, self, manifest)
        wanted = producers.Wanted(outdir, hosts)
        return [job for producer in producers.ALL for job in producer(self, wanted)]

    def host_facts(self) -> dict[str, Facts]:
        """What the cluster-wide specs read of every host (pipeline/hostfacts.py), once a build."""
        if self._facts is None:
            self._facts = hostfacts.host_facts(self.cluster, self.memo, self.stamps().digests)
        return self._facts

    def host_boots(self) -> list[str]:
        """The files the hosts' own PXE actions boot (pipeline/hostfacts.py)."""
        return hostfacts.host_boots(self.memo, self.stamps(), self.host_facts, self.facts_base)

    def facts_base(self) -> hostfacts.Base | None:
        """The recorded facts base if it holds for this build's hosts (hostfacts.py), once a build."""
        if self._base is None:
            self._base = (hostfacts.settled_base(self.cluster, self.memo, self.stamps().digests),)
        return self._base[0]

    def record_facts_base(self, fingerprint: str, salt: str, outdir: str) -> None:
        """The network spec of `fingerprint` was made from this build's host facts: record them."""
        hostfacts.record_base(self.cluster, self.memo, self.host_facts(), fingerprint, salt, outdir)

    def stamps(self) -> Stamps:
        if self._stamps is None:
            stamped = stamped_dirs(self.cluster.overlays())
            self._stamps = Stamps(self.cluster, self.options, lambda: self.tree_signature, stamped)
        return self._stamps

    def host_stamps(self, hosts: list[str] | None) -> dict[str, str]:
        """Each host's stamp (Stamps.of_hosts): of every host, or of those of `hosts` in the
        description. It covers each of the host's jobs (producers.HOST_JOBS): their salts (the
        templates, the backends' code: rockscc's code identity, which holds them all, so a
        no-op build need not import the kickstart backend to learn its templates' digest), and
        the records they read (its own; a VM's container's too), looked up in the host index."""
        table = self.cluster.host_table()
        names = list(table) if hosts is None else [name for name in dict.fromkeys(hosts) if name in table]
        return self.stamps().of_hosts(code_identity(), table.containers(), names)

    @cached_property
    def tree_signature(self) -> tuple:
        """(path, size, mtime) of every node, graph and include file of the description's overlays."""
        return files_signature(self.cluster.overlays())

    def warm_up(self, jobs: list, resolver: DepResolver) -> None:
        """Run a few compiles, of one host of each kind (_kinds), before the other workers are
        forked (in the first worker: engine/workers.py), so that they inherit what hosts of a kind
        share instead of each making it again: the parsed node tree, the walk's record, the
        partition chain's result (and the sandbox worker that ran it), pykickstart's verdict on
        the kickstart skeleton. The results are dropped (the workers run these jobs again); a
        kind missed here is only made once per worker."""
        for job in self._kinds(jobs):
            try:
                job.run(resolver)
            except Exception:
                pass  # the real run reports it

    def _kinds(self, jobs: list) -> list:
        """The first job of each kind of host: appliance, VM or not, hardware profile, own
        hardware or not. Hosts are grouped by their index rows (no record decoded) and only the
        first WARM_SAMPLE hosts of each group are decoded for their hardware: ten thousand hosts
        cost a few milliseconds here, not a decode each."""
        table = self.cluster.host_table()
        groups: dict[tuple, list] = {}
        for job in jobs:
            if job.host in table:
                group = groups.setdefault((table.summary(job.host)[0], table.vm_container(job.host) is None), [])
                if len(group) < WARM_SAMPLE:
                    group.append(job)
        kinds: dict[tuple, Any] = {}
        for group, sample in groups.items():
            for job in sample:
                host = table[job.host]
                kinds.setdefault((group, host.hwprofile, host.hardware is None), job)
        return list(kinds.values())[:WARM_KINDS]

    def profile_salt(self) -> str:
        """The identity of what renders a kickstart: editing a template rebuilds every kickstart."""
        if self._salt is None:
            from rockscc.backends.kickstart import template_identity

            self._salt = "profile-1:" + template_identity()
        return self._salt

    def dep_keys(self, deps: dict[str, Any]) -> dict[str, Any]:
        """`deps` with each key as the engine evaluates it (dep_key), in order. The hosts of one
        record read the same keys in the same order (~150 a host, thousands of hosts): the
        evaluated keys are remembered by that key sequence, and the dict is made in one zip
        (which keeps the first position and the last value of keys that evaluate alike, as
        inserting them one by one does)."""
        keys = tuple(deps)
        evaluated = self._dep_key_lists.get(keys)
        if evaluated is None:
            if len(self._dep_key_lists) > 256:
                self._dep_key_lists.clear()
            evaluated = self._dep_key_lists[keys] = tuple(map(self.dep_key, keys))
        return dict(zip(evaluated, deps.values()))

    def dep_key(self, key: str) -> str:
        """A dependency key as the engine evaluates it: files by absolute path (made once each).
        Links are not followed: the key names the path the compiler read, whose hash follows it
        to whatever it points at now. A key naming a link's target would not see the link
        pointed elsewhere (the old target unchanged, the node's path the same)."""
        found = self._dep_keys.get(key)
        if found is None:
            prefix, _, rest = key.partition(":")
            found = self._dep_keys[key] = f"file:{os.path.abspath(rest)}" if prefix == "file" else key
        return found


@dataclass
class HostWalk:
    """The part of the graph a host's profile is built from (`rockscc list host graph`)."""

    host: str
    included: set[str]
    order: list[str]
    taken: set[tuple[str, str]]
    filtered: set[tuple[str, str]]
    overlay_of: dict[str, str]
    overlays: list[str]


@dataclass
class ApplianceWalk:
    """The whole graph an appliance's profiles can be built from (`rockscc report graph`)."""

    appliance: str
    root: str
    reach: set[str]
    order: list[str]
    edges: set[tuple]  # (src, dst, Filter)


def _says_no(value: str | None) -> bool:
    return (value or "").strip().lower() in ("no", "off", "false", "0")


__all__ = ["ApplianceWalk", "CompileOptions", "Fragment", "HostCompile", "HostWalk", "Session"]
