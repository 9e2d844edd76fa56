"""Expanding compiled nodes for one host: filters, `<var>`, `&entity;`, `<eval>`, `<include>`,
into a Profile. Records every attribute and file it reads (the build's exact dependencies)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rockscc.errors import Diagnostic, RocksccError
from rockscc.model.overlay import outside
from rockscc.xmlgraph import evals, ir
from rockscc.xmlgraph.depkeys import environment_signature, include_signature
from rockscc.xmlgraph.expansions import ATTR, FILE_MODE, MISSING, VAR, Effects, compose
from rockscc.xmlgraph.fileop import render_file
from rockscc.xmlgraph.profile import Profile, Script
from rockscc.xmlgraph.xmlfile import parse_xml_text

EVAL_SKIPPED = "# rockscc: <eval>"  # marks where a disabled eval's output would be
# mode="xml" output is more node XML, which may hold more evals and xml includes: an eval that
# prints itself, or an include of itself, would recurse until the interpreter's stack ends (an
# internal error), and one that prints two of itself would run sandboxes without end
MAX_NESTING = 16  # levels of mode="xml" output inside mode="xml" output (Rocks' files use one or two)
MAX_NESTED_EVALS = 256  # evals run from mode="xml" output, per host


class Expander:
    def __init__(self, tree, attrs: dict[str, str], *, evals: bool, cluster_dir: Path | None) -> None:
        self.tree = tree
        self.attrs = attrs
        self.vars = dict(attrs)  # Rocks 5.0's variable dictionary, mutated by <var val/ref>
        self.evals = evals
        self.cluster_dir = cluster_dir
        self.deps: dict[str, str | None] = {}
        self.warnings: list[Diagnostic] = []
        self.file_modes: dict[str, tuple[str, str]] = {}  # file name -> (owner, perms) of its last <file>
        self.failed_evals = 0  # evals that exited non-zero and were let through (rocks_eval_errors)
        # while a node is recorded (expansions.py): (kind, name) -> value read before the node
        # wrote it, and (kind, name) -> None of what it wrote; None when not recording
        self._reads: dict[tuple, object] | None = None
        self._written: dict[tuple, None] | None = None
        self._ran_eval = False
        self.expansions = getattr(tree, "expansions", None)
        self._nesting = 0  # how deep in mode="xml" output the expansion is
        self._nested_evals = 0

    @contextmanager
    def _nested(self, origin: str) -> Iterator[None]:
        """Expanding the mode="xml" output of the eval or include at `origin`."""
        if self._nesting >= MAX_NESTING:
            raise RocksccError(
                f'{origin}: mode="xml" output nested more than {MAX_NESTING} levels deep '
                "(an <eval> that prints itself, or an <include> of itself?)"
            )
        self._nesting += 1
        try:
            yield
        finally:
            self._nesting -= 1

    # --- what a node's expansion reads and writes, recorded when asked --------------------------
    def _read(self, kind: str, name: str, value: object) -> None:
        if self._reads is not None and (kind, name) not in self._written and (kind, name) not in self._reads:
            self._reads[kind, name] = value

    def _set_var(self, name: str, value: str) -> None:
        self.vars[name] = value
        if self._written is not None:
            self._written[VAR, name] = None

    # --- reading the host's values (each read is a dependency) ---------------------------------
    def attr(self, name: str) -> str | None:
        value = self.attrs.get(name)
        self.deps[f"attr:{name}"] = value
        if self._reads is not None:
            self._read(ATTR, name, self.attrs.get(name, MISSING))
        return value

    def _copied_attr(self, name: str) -> str | None:
        """An attribute read only to be copied into text (`&name;`, `<var>`, `<var ref>`), never
        to decide anything: hostrecords.py fills these per host."""
        return self.attr(name)

    def passes(self, item: ir.Item) -> bool:
        if not item.filter:
            return True
        for name in item.filter.names:
            self.attr(name)
        return item.filter.passes(self.attrs)

    # --- filling parts -----------------------------------------------------------------------
    def fill(self, parts: tuple, node: ir.CompiledNode) -> str:
        out: list[str] = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, ir.Var):
                out.append(self._var(part, node))
            elif isinstance(part, ir.Entity):
                out.append(self._entity(part))
            elif isinstance(part, ir.VarSet):
                self._varset(part)
            elif isinstance(part, ir.Eval):
                out.append(self._eval(part, node))
            elif isinstance(part, ir.Include):
                out.append(self._include(part, node))
            elif isinstance(part, ir.FileOp):
                out.append(self._file(part, node))
        return "".join(out)

    def _file(self, op: ir.FileOp, node: ir.CompiledNode) -> str:
        if op.filter:
            for name in op.filter.names:
                self.attr(name)
            if not op.filter.passes(self.attrs):
                return ""
        name = self.fill(op.name, node)
        owner, perms = self.fill(op.owner, node), self.fill(op.perms, node)
        if self._reads is not None:
            self._read(FILE_MODE, name, self.file_modes.get(name, MISSING))
            self._written[FILE_MODE, name] = None
        earlier_owner, earlier_perms = self.file_modes.get(name, ("", ""))
        owner, perms = owner or earlier_owner, perms or earlier_perms
        self.file_modes[name] = (owner, perms)
        body = self._file_include(op, node) if op.include else self.fill(op.body, node)
        return self._render_file(
            name,
            mode=op.mode,
            expanded=op.expanded,
            owner=owner,
            perms=perms,
            expr=self.fill(op.expr, node),
            src=self.fill(op.src, node),
            body=body,
        )

    def _render_file(self, name: str, **values) -> str:
        return render_file(name, **values)

    def _file_include(self, op: ir.FileOp, node: ir.CompiledNode) -> str:
        """`<file include="PATH">` (Rocks 6.2+ profile.py `Pass1NodeHandler.startElement_file`): the
        body is that file's text read as node XML (so `&attr;` in it is filled), looked up like
        the description's node files, relative to an overlay (Rocks: the distribution's build
        directory). Rocks used an empty body for a missing file; rockscc also warns."""
        if Path(op.include).is_absolute() or ".." in Path(op.include).parts:
            raise RocksccError(
                f'{op.origin}: <file include="{op.include}">: a build reads only files of the '
                "description and its rolls: name it relative to one (e.g. include/motd)"
            )
        path = None
        for root, candidate in self.tree.file_candidates(op.include):  # a file made later in a higher overlay wins
            found = candidate.is_file()
            self.deps[f"file:{candidate}"] = self.tree.file_hash(candidate) if found else None
            if found:
                real = outside(candidate, root)
                if real is not None:
                    raise RocksccError(
                        f'{op.origin}: <file include="{op.include}">: leads outside {root} (a link to {real})'
                    )
                path = candidate
                break
        if path is None:
            self.warnings.append(
                Diagnostic.at(
                    op.origin,
                    f'<file include="{op.include}">: no such file in any '
                    "overlay (the description, a roll, the base); body left empty, as in Rocks",
                )
            )
            return self.fill(op.body, node)
        root = parse_xml_text(f"<file-include>{self._read_text(path)}</file-include>", op.include)
        return self.fill(op.body, node) + self.fill(ir._parts(root, node), node)

    def _var(self, part: ir.Var, node: ir.CompiledNode) -> str:
        if self._reads is not None:  # whether it is an attribute decides what is recorded below
            self._read(ATTR, part.name, self.attrs.get(part.name, MISSING))
            self._read(VAR, part.name, self.vars.get(part.name, MISSING))
        if part.name in self.attrs:
            self._copied_attr(part.name)
        value = self.vars.get(part.name)
        if value is None:
            self.deps[f"attr:{part.name}"] = None
            self.warnings.append(
                Diagnostic(node.display, 0, f'<var name="{part.name}"/> is undefined (empty string, as in Rocks)')
            )
            return ""
        return value

    def _entity(self, part: ir.Entity) -> str:
        value = self._copied_attr(part.name)
        if value is None:
            raise RocksccError(
                f"{part.origin}: undefined entity &{part.name}; (no attribute {part.name} for this host)"
            )
        return value

    def _varset(self, part: ir.VarSet) -> None:
        if part.val is not None:
            self._set_var(part.name, part.val)
        else:
            if self._reads is not None:
                self._read(ATTR, part.ref, self.attrs.get(part.ref, MISSING))
                self._read(VAR, part.ref, self.vars.get(part.ref, MISSING))
            if part.ref in self.attrs:
                self._copied_attr(part.ref)
            self._set_var(part.name, self.vars.get(part.ref, ""))

    def _eval(self, part: ir.Eval, node: ir.CompiledNode) -> str:
        script = self.fill(part.script, node)
        if not self.evals:
            self.warnings.append(Diagnostic.at(part.origin, "<eval> not run (eval disabled)"))
            return f"\n{EVAL_SKIPPED} from {part.origin} not run (eval disabled)\n"
        output = self._run_eval(part, script)
        if part.mode == "xml":
            root = parse_xml_text(f"<eval-output>{output}</eval-output>", f"output of <eval> at {part.origin}")
            with self._nested(part.origin):
                return self.fill(ir._parts(root, node), node)
        return output

    def _run_eval(self, part: ir.Eval, script: str) -> str:
        """Run one eval with what it reads recorded, its interpreter chosen and its exit status
        handled by the host's rocks_eval_errors (ignore | warn | fail; Rocks used the output
        whatever the status: the default warns). What it reads: its environment (every attribute:
        a program may read any of them, and one added later, not only the `$NAME`s its text
        shows) and, when it may call `rocks`, the description. What else it reads on the build
        machine is not tracked (docs/incremental.md)."""
        self._ran_eval = True  # its program may read anything: this node is not shared (expansions.py)
        if self._nesting:
            self._nested_evals += 1
            if self._nested_evals > MAX_NESTED_EVALS:
                raise RocksccError(
                    f'{part.origin}: more than {MAX_NESTED_EVALS} <eval>s from mode="xml" output for one host '
                    "(evals that print evals without end?)"
                )
        self.deps["env:"] = environment_signature(self.attrs)
        has_applets = part.shell in evals.PYTHONS and self._record_applets()
        if evals.wants_description(part.shell, script, has_applets) and self.cluster_dir is not None:
            from rockscc.model.store import hosts_digest

            self.deps["model:cluster.toml"] = _digest_of(
                self.cluster_dir / "cluster.toml"
            )  # it may read anything there
            self.deps["model:hosts"] = hosts_digest(self.cluster_dir)  # the host files too
        policy = (self.attr(evals.ERRORS_ATTR) or evals.DEFAULT_POLICY).strip().lower()
        if policy not in evals.ERROR_POLICIES:
            raise RocksccError(
                f'{part.origin}: attribute {evals.ERRORS_ATTR}="{policy}": not one of '
                + ", ".join(evals.ERROR_POLICIES)
            )
        python = None
        if part.shell in evals.PYTHONS:
            python = evals.python_interpreter(self.attr(evals.PYTHON_ATTR), script, part.origin)
        env = {k: v for k, v in self.vars.items() if v is not None}
        run = evals.run_eval(
            part.shell, script, env, part.origin, self.cluster_dir, python=python, has_applets=has_applets
        )
        if run.note is not None:
            self.warnings.append(Diagnostic.at(part.origin, f"<eval> {run.note}"))
        if run.failure is not None:
            self.failed_evals += 1
            if policy == "fail":
                raise RocksccError(f"{part.origin}: <eval> failed ({run.failure})")
            if policy == "warn":
                self.warnings.append(
                    Diagnostic.at(
                        part.origin,
                        f"<eval> failed ({run.failure}); its output is used, "
                        f"as Rocks did (attribute {evals.ERRORS_ATTR}=fail stops the build)",
                    )
                )
        return run.stdout

    def _record_applets(self) -> bool:
        """Whether some overlay has include/applets (Rocks' Python evals import from there); their
        files are recorded as inputs. The sandbox sees them through the description's view."""
        found = False
        for overlay in self.tree.overlays:
            directory = overlay.path / "include" / "applets"
            if directory.is_dir():
                found = True
                for path in sorted(directory.rglob("*.py")):
                    self.deps[f"file:{path}"] = self.tree.file_hash(path)
        return found

    def _find_include(self, part: ir.Include) -> Path | None:
        """The include file named, recorded whether found or not: a file that appears later (or
        one of a later overlay that shadows it) changes what the host gets."""
        try:
            path = self.tree.find_include(part.file)
        except RocksccError as exc:
            raise RocksccError(f'{part.origin}: <include file="{part.file}">: {exc}') from None
        self.deps[f"include:{part.file}"] = include_signature(path)
        if path is not None:
            self.deps[f"file:{path}"] = self.tree.file_hash(path)
        return path

    def _read_text(self, path: Path, *, strict: bool = False) -> str:
        """An included file's text (`strict`: undecodable bytes are an error, else replaced)."""
        return path.read_text() if strict else path.read_text(errors="replace")

    def _include(self, part: ir.Include, node: ir.CompiledNode) -> str:
        path = self._find_include(part)
        if path is None:
            if part.required:
                raise RocksccError(
                    f'{part.origin}: <include file="{part.file}">: no include/{part.file} in any overlay'
                )
            return ""
        text = self._read_text(path)
        if part.mode == "xml":
            root = parse_xml_text(f"<include-output>{text}</include-output>", f"include/{part.file}")
            with self._nested(part.origin):
                return self.fill(ir._parts(root, node), node)
        return text

    # --- building the profile -----------------------------------------------------------------
    def expand(self, host: str, nodes: list[ir.CompiledNode]) -> Profile:
        profile = Profile(host)
        walk = self.expansions.runs(nodes, self.evals, self.cluster_dir) if self.expansions is not None else None
        index, count = 0, len(nodes)
        while index < count:
            run = walk.starting.get(index) if walk is not None else None
            if run is not None:
                self._run(run, walk, nodes, profile)
                index = run.end
                continue
            self._expand_node(nodes[index], profile)
            index += 1
        if walk is not None:
            self.expansions.expanded(walk, self.evals, self.cluster_dir)
        return profile

    def _expand_node(self, node: ir.CompiledNode, profile: Profile, traces: list | None = None) -> str:
        label = f"{node.display} ({node.overlay})"
        profile.nodes.append(label)
        self.warnings.extend(node.warnings)
        if self._node(node, label, profile, traces):
            profile.commented.append(label)
        return label

    def _run(self, run, walk, nodes: list[ir.CompiledNode], profile: Profile) -> None:
        """A run of nodes (expansions.py): replayed as one when this host reads the same values in
        it as an earlier host did, else expanded node by node and recorded (each node's trace)."""
        found = run.entry.find(self.attrs, self.vars, self.file_modes)
        if found is not None:
            profile.nodes.extend(found.labels)
            profile.commented.extend(found.commented)
            self.vars.update(found.effects.vars)
            self.file_modes.update(found.effects.file_modes)
            self._replay(found.effects, profile)
            return
        if run.entry.full:  # past the cap: this run is expanded node by node from now on
            del walk.starting[run.start]
        part, traces = nodes[run.start : run.end], []
        labels = [self._expand_node(node, profile, traces) for node in part]
        if not run.entry.full and all(trace is not None for trace in traces):
            run.entry.add(*compose(part, labels, traces))

    def _node(self, node: ir.CompiledNode, label: str, profile: Profile, traces: list | None = None) -> bool:
        """Expand one node into the profile: replayed when a host with the same values read has
        been expanded (expansions.py), else expanded and, while its entry has room, recorded.
        `traces`: where to append what the node read and did, (reads, effects), or None when it
        was expanded without a record (a run holding it is then not recorded)."""
        if self.expansions is None:
            return self._items(node.items, node, label, profile)
        entry = self.expansions.entry(node, self.evals, self.cluster_dir)
        if traces is None:
            effects = entry.find(self.attrs, self.vars, self.file_modes)
        else:
            hit = entry.find_traced(self.attrs, self.vars, self.file_modes)
            effects = hit[1] if hit is not None else None
            if hit is not None:
                traces.append(hit)
        if effects is not None:
            self.vars.update(effects.vars)
            self.file_modes.update(effects.file_modes)
            return self._replay(effects, profile)
        if entry.full:
            if traces is not None:
                traces.append(None)
            return self._items(node.items, node, label, profile)
        effects, reads = self._record(node, label)
        if not self._ran_eval:
            entry.add(reads, effects)
        if traces is not None:
            traces.append(None if self._ran_eval else (list(reads.items()), effects))
        return self._replay(effects, profile)

    def _record(self, node: ir.CompiledNode, label: str) -> tuple[Effects, dict[tuple, object]]:
        """Expand a node into an empty profile with fresh deps and warnings, noting what it read
        and wrote; its effects are then replayed onto the host's (the same as expanding in place)."""
        deps, warnings = self.deps, self.warnings
        self.deps, self.warnings, self._reads, self._written, self._ran_eval = {}, [], {}, {}, False
        part = _NodePart()
        try:
            contributed = self._items(node.items, node, label, part)
            written = self._written
            effects = Effects(
                contributed,
                tuple(part.main),
                tuple(part.pre),
                tuple(part.post),
                tuple(part.debug),
                tuple(part.boot_pre),
                tuple(part.boot_post),
                tuple(part.ops),
                tuple(part.package_origins.items()),
                tuple(part.debian_names.items()),
                tuple((n, self.vars[n]) for kind, n in written if kind == VAR),
                tuple((n, self.file_modes[n]) for kind, n in written if kind == FILE_MODE),
                tuple(self.deps.items()),
                tuple(self.warnings),
            )
            return effects, self._reads
        finally:
            self.deps, self.warnings, self._reads, self._written = deps, warnings, None, None

    def _replay(self, effects: Effects, profile: Profile) -> bool:
        """The node's profile entries, dependencies and warnings (its variables and file modes are
        set by the caller on a hit: a recorded node set them itself)."""
        profile.main.extend(effects.main)
        profile.pre.extend(effects.pre)
        profile.post.extend(effects.post)
        profile.debug.extend(effects.debug)
        profile.boot_pre.extend(effects.boot_pre)
        profile.boot_post.extend(effects.boot_post)
        for name, origin in effects.package_origins:
            profile.package_origins.setdefault(name, origin)
        for name, value in effects.debian_names:
            profile.debian_names[name] = value
        for op, name in effects.package_ops:
            profile.enable(name) if op == "enable" else profile.disable(name)
        self.deps.update(effects.deps)
        self.warnings.extend(effects.warnings)
        return effects.contributed

    def _items(self, items: list[ir.Item], node: ir.CompiledNode, label: str, profile: Profile) -> bool:
        contributed = False
        for item in items:
            if not self.passes(item):
                continue
            kind = item.kind
            if kind == "varset":
                self.fill(item.parts, node)
            elif kind == "fragment":
                contributed |= self._fragment(item, node, label, profile)
            elif kind == "main":
                failed_before = self.failed_evals
                profile.main.append((_main_line(item, self.fill(item.parts, node)), item.origin))
                # a command missing its eval's output is no command: the installer would stop on it
                why = (
                    "was not run"
                    if self._eval_skipped_in(profile.main[-1][0])
                    else "failed"
                    if self.failed_evals > failed_before
                    else None
                )
                if why:
                    line = " ".join(profile.main[-1][0].replace("\n", " ").split())
                    profile.main[-1] = (f"# rockscc: not emitted, its <eval> {why}: {line}", item.origin)
            elif kind == "package":
                self._package(item, self.fill(item.parts, node).strip(), profile)
                contributed = True
            elif kind in ("pre", "post"):
                script = Script(
                    kind,
                    self.fill(item.parts, node),
                    item.attr("arg", "") or "",
                    item.attr("interpreter", "") or "",
                    item.origin,
                    label,
                )
                (profile.pre if kind == "pre" else profile.post).append(script)
                contributed = True
            elif kind == "debug":
                profile.debug.extend(self.fill(item.parts, node).strip().splitlines())
                contributed = True
            elif kind == "boot":
                target = profile.boot_pre if item.attr("order", "post") == "pre" else profile.boot_post
                target.append(self.fill(item.parts, node))
        return contributed

    def _fragment(self, item: ir.Item, node, label: str, profile: Profile) -> bool:
        """A top-level eval/include: in xml mode its output is more node XML."""
        (part,) = item.parts
        if isinstance(part, ir.Eval) and part.mode == "xml" and self.evals:
            output = self._run_eval(part, self.fill(part.script, node))
            root = parse_xml_text(f"<kickstart>{output}</kickstart>", f"output of <eval> at {part.origin}")
            with self._nested(part.origin):
                return self._items(ir.compile_fragment(root, node), node, label, profile)
        if isinstance(part, ir.Include) and part.mode == "xml":
            path = self._find_include(part)
            if path is not None:
                root = parse_xml_text(
                    f"<kickstart>{self._read_text(path, strict=True)}</kickstart>", f"include/{part.file}"
                )
                with self._nested(part.origin):
                    return self._items(ir.compile_fragment(root, node), node, label, profile)
        self.fill(item.parts, node)  # text outside any section goes nowhere, as in Rocks
        return False

    def _eval_skipped_in(self, line: str) -> bool:
        return EVAL_SKIPPED in line

    def _package(self, item: ir.Item, name: str, profile: Profile) -> None:
        if not name:
            return
        if item.attr("type") == "meta":
            name = "@" + name
        profile.package_origins.setdefault(name, item.origin)
        debian = item.attr("debian")
        if debian is not None:  # what the package is called on Debian ("" = nothing there)
            profile.debian_names[name] = debian
        if item.attr("disable") is not None:  # any value, even "no", disables (Rocks 5.0)
            profile.disable(name)
        else:
            profile.enable(name)


class _NodePart(Profile):
    """One node's own profile entries while it is recorded, its package operations in order
    (enable/disable depend on what earlier nodes did: they are replayed, not their result)."""

    def __init__(self) -> None:
        super().__init__("")
        self.ops: list[tuple[str, str]] = []

    def enable(self, name: str) -> None:
        self.ops.append(("enable", name))

    def disable(self, name: str) -> None:
        self.ops.append(("disable", name))


def _digest_of(path: Path) -> str | None:
    import hashlib

    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _main_line(item: ir.Item, text: str) -> str:
    tag = item.attr("tag")
    if tag in ("bootloader", "lilo"):
        return f"bootloader {text.strip()}"
    if tag == "include":
        return f"%include {text.strip()}"
    if tag == "langsupport":
        return f"langsupport --default={text.strip()}"
    return f"{tag} {text}"
