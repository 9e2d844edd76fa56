"""A host's whole expansion made from a record of another host's, its own values filled in.

Hosts of one appliance mostly differ in values a node file only *copies* into the kickstart
(`&hostname;`, `<var name="Node_Hostname"/>`, an IP in a `<var ref>`), never tests. So a walk is
expanded once with each such value replaced by a hole (`\\x01NAME\\x01`: a character XML text
cannot hold, so a node file cannot forge one); the resulting profile, dependencies and warnings
are kept as a record, and a later host gets its profile by putting its own values in the holes.

Exact, because the record's key is everything the expansion's outcome depends on:
- the walk: the node list (compiled from the tree's graph and node files, whose hashes the record's
  dependencies hold; a record lives as long as its tree), the graph and root, evals, description;
- every attribute read where its value decides something (an edge test, a filter, an eval's
  policy), by value: `decided`;
- every attribute copied into text, by what matters of it: absent, a *hole* (a value that passes
  every test the copied text goes through unchanged: non-empty, no whitespace, no hole mark), or
  else its exact value (it is then shown as itself): `copied`.
A recording expander (HoleExpander) reads attributes only through these two doors. Whatever it
cannot fill per host it refuses (NotRecordable) and the host is expanded as usual: an `<eval>`
that runs (its program may read anything), a hole in a package name (enable/disable compare
names), in a `<file>`'s shell (quoting and the here-doc word depend on the text), in a warning,
an included file holding the mark. One test on copied text is kept as a guard instead: whether a
main line contains the marker of a skipped eval, checked again on the filled line.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields

from rockscc.errors import RocksccError
from rockscc.xmlgraph.expand import EVAL_SKIPPED, Expander
from rockscc.xmlgraph.fileop import here_doc_word
from rockscc.xmlgraph.profile import Profile, Script

MARK = "\x01"  # XML 1.0 text cannot hold it: only a hole puts it in expanded text
HOLE = object()  # the key's value of a copied attribute whose value is a hole
_PROFILE_FIELDS = tuple(f.name for f in fields(Profile) if f.init)
CAP = 32  # records per walk: a walk whose hosts differ in a decided value stops recording


class NotRecordable(Exception):
    """The expansion read or made something a hole cannot stand for: expand the host as usual."""


def is_hole(value: str | None) -> bool:
    """A value the copied text's tests (strip, splitlines, emptiness) treat like any other."""
    return bool(value) and MARK not in value and "".join(value.split()) == value


def copied_key(value: str | None) -> object:
    return HOLE if is_hole(value) else value


def hole(name: str) -> str:
    return f"{MARK}{name}{MARK}"


class HoleExpander(Expander):
    """Expands a walk with holes for the copied attributes, noting how every attribute was read
    (no node tables: this is the one expansion the record is made of)."""

    def __init__(self, tree, attrs: dict[str, str], *, evals: bool, cluster_dir) -> None:
        super().__init__(tree, attrs, evals=evals, cluster_dir=cluster_dir)
        self.expansions = None
        self.decided: dict[str, str | None] = {}
        self.copied: dict[str, object] = {}
        for value in attrs.values():
            if MARK in value:  # a value that could pass for a hole: not recorded
                raise NotRecordable
        self.shown = {name: hole(name) if is_hole(value) else value for name, value in attrs.items()}
        self.vars = dict(self.shown)

    def attr(self, name: str) -> str | None:
        value = self.attrs.get(name)
        self.decided[name] = value
        self.deps[f"attr:{name}"] = self.shown.get(name)
        return value

    def _copied_attr(self, name: str) -> str | None:
        value = self.attrs.get(name)
        self.copied[name] = copied_key(value)
        shown = self.shown.get(name)
        self.deps[f"attr:{name}"] = shown
        return shown

    def _var(self, part, node) -> str:
        self.copied[part.name] = copied_key(self.attrs.get(part.name))  # whether it is one decides
        return super()._var(part, node)

    def _varset(self, part) -> None:
        if part.ref is not None and part.val is None:
            self.copied[part.ref] = copied_key(self.attrs.get(part.ref))  # likewise
        super()._varset(part)

    def _run_eval(self, part, script: str) -> str:
        raise NotRecordable

    def _read_text(self, path, *, strict: bool = False) -> str:
        text = super()._read_text(path, strict=strict)
        if MARK in text:
            raise NotRecordable
        return text

    def _render_file(self, name: str, **values) -> str:
        body = values["body"]
        if MARK in name or any(
            MARK in value for key, value in values.items() if key != "body" and isinstance(value, str)
        ):
            raise NotRecordable  # quoting and redirections depend on the text
        if MARK in body:  # the here-doc word depends on the body's lines: checked again per host
            self.guards.append((here_doc_word, _parts(body), here_doc_word(body)))
        return super()._render_file(name, **values)

    def _package(self, item, name: str, profile: Profile) -> None:
        if MARK in name:
            raise NotRecordable
        super()._package(item, name, profile)

    def _eval_skipped_in(self, line: str) -> bool:
        found = _eval_skipped(line)
        if MARK in line:
            self.guards.append((_eval_skipped, _parts(line), found))
        return found

    def expand(self, host: str, nodes: list) -> Profile:
        self.guards: list[tuple] = []
        return super().expand(host, nodes)


@dataclass
class Record:
    """One recorded expansion: the profile's parts, where its holes are, deps, warnings; and the
    values the recording host had in its holes (to specialize it, WalkRecords.served)."""

    profile: Profile
    deps: dict
    warnings: list
    guards: list  # (test, parts of the text it tested, its result): a test copied text went through
    main_holes: list  # (index, parts)
    pre_holes: list
    post_holes: list
    debug_holes: list
    boot_pre_holes: list
    boot_post_holes: list
    dep_holes: list  # (key, attribute name)
    made_for: dict = field(default_factory=dict)  # hole name -> the recording host's value
    key: tuple = ()  # (decided, copied) the record is filed under
    specialized: bool = False  # tried (or made from one): not specialized again

    def fill(self, host: str, attrs: dict[str, str]) -> tuple[Profile, dict, list] | None:
        """This record with the host's values in its holes; None when a guard does not hold."""
        for check, parts, found in self.guards:
            if check(_fill(parts, attrs)) != found:
                return None
        profile, deps = self._filled(host, lambda parts: _fill(parts, attrs))
        for key, name in self.dep_holes:
            deps[key] = attrs[name]
        return profile, deps, list(self.warnings)

    def specialize(self, values: dict[str, str]) -> Record | None:
        """This record with some holes filled for good (values every later host of its key has);
        None when a guard's outcome would no longer be the recorded one."""
        guards = []
        for check, parts, found in self.guards:
            text = _fill_some(parts, values)
            if MARK in text:
                guards.append((check, _parts(text), found))
            elif check(text) != found:
                return None
        profile, deps = self._filled(self.profile.host, lambda parts: _fill_some(parts, values))
        for key, name in self.dep_holes:
            if name in values:
                deps[key] = values[name]
        made = make_record(profile, deps, self.warnings, guards)
        made.specialized = True
        return made

    def _filled(self, host: str, fill) -> tuple[Profile, dict]:
        p = self.profile
        main, pre, post = list(p.main), list(p.pre), list(p.post)
        debug, boot_pre, boot_post = list(p.debug), list(p.boot_pre), list(p.boot_post)
        for index, parts in self.main_holes:
            main[index] = (fill(parts), main[index][1])
        for scripts, holes in ((pre, self.pre_holes), (post, self.post_holes)):
            for index, parts in holes:
                s = scripts[index]
                scripts[index] = Script(s.kind, fill(parts), s.arg, s.interpreter, s.origin, s.node)
        for texts, holes in (
            (debug, self.debug_holes),
            (boot_pre, self.boot_pre_holes),
            (boot_post, self.boot_post_holes),
        ):
            for index, parts in holes:
                texts[index] = fill(parts)
        # every other field of Profile, copied (a field added to Profile is carried, never dropped)
        given = dict(host=host, main=main, pre=pre, post=post, debug=debug, boot_pre=boot_pre, boot_post=boot_post)
        for name in _PROFILE_FIELDS:
            if name not in given:
                given[name] = copy.copy(getattr(p, name))
        return Profile(**given), dict(self.deps)


def make_record(profile: Profile, deps: dict, warnings: list, guards: list) -> Record:
    """The record of a hole expansion; NotRecordable where a hole sits where it cannot be filled."""
    for name in (*profile.packages, *profile.disabled, *profile.nodes, *profile.commented):
        if MARK in name:
            raise NotRecordable
    for warning in warnings:
        if MARK in f"{warning.file}{warning.message}{warning.severity}":
            raise NotRecordable
    for script in (*profile.pre, *profile.post):
        if MARK in f"{script.arg}{script.interpreter}{script.origin}{script.node}":
            raise NotRecordable
    if any(MARK in key for key in deps) or any(MARK in origin for _line, origin in profile.main):
        raise NotRecordable

    def holes(texts) -> list:
        return [(index, _parts(text)) for index, text in enumerate(texts) if MARK in text]

    dep_holes = []
    for key, value in deps.items():
        if value is not None and MARK in value:
            parts = _parts(value)
            if len(parts) != 3 or parts[0] or parts[2]:  # an attribute's value is the hole alone
                raise NotRecordable
            dep_holes.append((key, parts[1]))
    return Record(
        profile,
        deps,
        warnings,
        guards,
        holes(line for line, _origin in profile.main),
        holes(script.body for script in profile.pre),
        holes(script.body for script in profile.post),
        holes(profile.debug),
        holes(profile.boot_pre),
        holes(profile.boot_post),
        dep_holes,
    )


def _eval_skipped(line: str) -> bool:
    return EVAL_SKIPPED in line


def _parts(text: str) -> tuple:
    """Text split at its holes: static text at even places, attribute names at odd ones."""
    parts = tuple(text.split(MARK))
    if len(parts) % 2 == 0:
        raise NotRecordable  # an odd number of marks: not holes
    return parts


def _fill(parts: tuple, attrs: dict[str, str]) -> str:
    out = list(parts)
    out[1::2] = [attrs[name] for name in parts[1::2]]
    return "".join(out)


def _fill_some(parts: tuple, values: dict[str, str]) -> str:
    """The text with the holes `values` names filled, the others left as holes."""
    out = list(parts)
    out[1::2] = [values[name] if name in values else hole(name) for name in parts[1::2]]
    return "".join(out)


@dataclass
class WalkRecords:
    """The records of one walk (node list, graph, root, evals, description), by key shape:
    (decided names, copied names keyed by value, copied names keyed by copied_key) ->
    {values -> Record}; specialized shapes are tried first."""

    nodes: list  # kept so that the id() this entry is keyed by stays this list's
    shapes: dict[tuple, dict[tuple, Record]] = field(default_factory=dict)
    recorded: int = 0
    refused: int = 0  # hole expansions that were NotRecordable

    def find(self, attrs: dict[str, str]) -> Record | None:
        for (decided, exact, copied), table in self.shapes.items():
            key = (*map(attrs.get, decided), *map(attrs.get, exact), *map(copied_key, map(attrs.get, copied)))
            found = table.get(key)
            if found is not None:
                return found
        return None

    def add(self, decided: dict, exact: dict, copied: dict, record: Record, *, first: bool = False) -> None:
        shape = (tuple(decided), tuple(exact), tuple(copied))
        table = self.shapes.get(shape)
        if table is None:
            table = {}
            self.shapes = {shape: table, **self.shapes} if first else {**self.shapes, shape: table}
        table[(*decided.values(), *exact.values(), *copied.values())] = record
        self.recorded += 1

    def served(self, found: Record, attrs: dict[str, str]) -> None:
        """A second host served by a general record: the holes it fills with the recording host's
        values are the walk's constants (the cluster's name, its kickstart host): a record with
        them filled in, keyed by their values, is tried first (fewer holes to fill per host)."""
        found.specialized = True
        same = {name: value for name, value in found.made_for.items() if attrs.get(name) == value}
        if not same or len(self.shapes) >= CAP:
            return
        special = found.specialize(same)
        if special is not None:
            decided, copied = found.key
            rest = {name: kind for name, kind in copied.items() if name not in same}
            self.add(decided, same, rest, special, first=True)

    @property
    def recording(self) -> bool:
        return self.recorded < CAP and self.refused < 2


class HostRecords:
    """The records of a node tree (one per session), per walk."""

    def __init__(self) -> None:
        self._walks: dict[tuple, WalkRecords] = {}

    def walk(self, nodes: list, graph: str, root: str, evals: bool, cluster_dir) -> WalkRecords:
        key = (id(nodes), graph, root, evals, cluster_dir)
        walk = self._walks.get(key)
        if walk is None:
            walk = self._walks[key] = WalkRecords(nodes)
        return walk


def record(tree, walk: WalkRecords, nodes: list, host, read: list, deps: dict, dedup) -> tuple | None:
    """Expand the host with holes and keep the record; (profile, deps, warnings) filled for this
    host, or None when the expansion cannot be recorded (the caller expands it as usual)."""
    try:
        expander = HoleExpander(tree, host.attrs, evals=host.evals, cluster_dir=host.cluster_dir)
        for name in read:
            expander.attr(name)
        expander.deps.update(deps)
        profile = expander.expand(host.hostname, nodes)
        made = make_record(profile, expander.deps, dedup(expander.warnings), expander.guards)
    except NotRecordable:
        walk.refused += 1
        return None
    except RocksccError:  # the usual expansion raises it again, with its own context
        return None
    made.made_for = {name: host.attrs[name] for name, kind in expander.copied.items() if kind is HOLE}
    made.key = (expander.decided, expander.copied)
    walk.add(expander.decided, {}, expander.copied, made)
    return made.fill(host.hostname, host.attrs)
