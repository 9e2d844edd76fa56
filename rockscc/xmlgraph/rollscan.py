"""What a Rocks roll declares in its frontend `<post>` scripts.

A Rocks roll has no metadata file: its frontend install runs `rocks add appliance …`, `rocks set
appliance attr …`, `rocks set attr …`, `rocks set os attr …` and `rocks set host bootflags
flags=…` lines in `<post>` sections (Rocks 7 core `nodes/database-data.xml`, kvm
`nodes/kvm-server-db-data.xml`, the Rocks 5.0 Xen roll's `nodes/xen-server.xml`). `add roll`
reads those lines so the roll's appliances, attributes and boot flags arrive with it, as they did
when the frontend was installed.

Only literal lines are taken: one using a host's attribute (`&name;`), a shell variable, a command
substitution or a Python string is left out and reported, since its value exists only at install
time. Lines are read in file order (files sorted by name), so a later line wins as in Rocks."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from rockscc.errors import Diagnostic, RocksccError
from rockscc.xmlgraph.xmlfile import ENTITY_OPEN, read_xml

_COMMAND = re.compile(r"^\s*(?:/opt/rocks/bin/)?rocks\s+(add|set)\s+(.*)$")
_YES = {"yes", "y", "true", "on", "1"}


@dataclass
class DeclaredAppliance:
    name: str
    params: dict[str, str]
    origin: str = ""


@dataclass
class RollDeclarations:
    appliances: dict[str, DeclaredAppliance] = field(default_factory=dict)
    appliance_attrs: dict[str, dict[str, str]] = field(default_factory=dict)  # also of appliances it does not add
    attrs: dict[str, str] = field(default_factory=dict)  # global
    os_attrs: dict[str, dict[str, str]] = field(default_factory=dict)
    bootflags: str | None = None  # global
    skipped: list[Diagnostic] = field(default_factory=list)  # lines whose values exist only at install time


def scan_roll(directory: Path) -> RollDeclarations:
    found = RollDeclarations()
    nodes = directory / "nodes"
    for path in sorted(nodes.glob("*.xml")) if nodes.is_dir() else []:
        display = f"nodes/{path.name}"
        try:
            root = read_xml(path, display)
        except RocksccError:
            continue  # `check` and the build report a broken file where it is used
        for post in root.iter("post"):
            if post.get("os", "linux") != "linux":
                continue
            for line_no, line in _logical_lines(post):
                _take(line, f"{display}:{line_no}", found)
    return found


def _logical_lines(post) -> list[tuple[int, str]]:
    """The post's own text (not that of nested <file>/<eval>), continuation lines joined."""
    text = post.text or ""
    for child in post:
        text += child.tail or ""  # a nested element's body is not a command line
    start = post.sourceline or 0
    lines, pending, first = [], "", 0
    for offset, raw in enumerate(text.split("\n")):
        if not pending:
            first = start + offset
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        lines.append((first, pending + raw))
        pending = ""
    if pending:
        lines.append((first, pending))
    return lines


def _take(line: str, origin: str, found: RollDeclarations) -> None:
    match = _COMMAND.match(line)
    if not match:
        return
    verb, rest = match[1], match[2]
    try:
        words = shlex.split(rest, comments=True)
    except ValueError:
        return
    literal = not any(ENTITY_OPEN in w or "$" in w or "`" in w or "%" in w for w in words)
    target = _classify(verb, words)
    if target is None:
        return
    if not literal:
        found.skipped.append(
            Diagnostic.at(
                origin, f"rocks {verb} {' '.join(words[:3])} …: its value is known only at install time; not taken"
            )
        )
        return
    kind, args, params = target
    if kind == "appliance":
        found.appliances[args[0]] = DeclaredAppliance(args[0], params, origin=origin)
    elif kind == "appliance attr" and len(args) >= 3:
        found.appliance_attrs.setdefault(args[0], {})[args[1]] = " ".join(args[2:])
    elif kind == "attr" and len(args) >= 2:
        found.attrs[args[0]] = " ".join(args[1:])
    elif kind == "os attr" and len(args) >= 3:
        found.os_attrs.setdefault(args[0], {})[args[1]] = " ".join(args[2:])
    elif kind == "bootflags" and not args and "flags" in params:
        found.bootflags = params["flags"]


def _classify(verb: str, words: list[str]):
    """(kind, positional args, key=value params) of a rocks command line this scan takes, else None."""
    head = words[:3]
    table = [
        (["appliance", "attr"], "appliance attr"),
        (["os", "attr"], "os attr"),
        (["attr"], "attr"),
        (["appliance"], "appliance"),
        (["host", "bootflags"], "bootflags"),
    ]
    for prefix, kind in table:
        if head[: len(prefix)] == prefix:
            if kind == "bootflags" and verb != "set":
                return None
            if kind == "appliance" and verb != "add":
                return None
            rest = words[len(prefix) :]
            args = [w for w in rest if "=" not in w]
            params = dict(w.split("=", 1) for w in rest if "=" in w)
            if kind.endswith("attr"):  # attr=/value= fill trailing positionals (Rocks 6/7)
                args += [params[k] for k in ("attr", "value") if k in params]
            return kind, args, params
    return None


def appliance_fields(declared: DeclaredAppliance) -> dict:
    """The declaration as rockscc's appliance fields (Rocks: compute= is schedulable=)."""
    params = declared.params
    fields: dict = {
        "membership": params.get("membership") or declared.name.replace("-", " ").title(),
        "node": params.get("node", ""),
        "graph": params.get("graph") or "default",
    }
    if "short-name" in params:
        fields["short_name"] = params["short-name"]
    if "compute" in params:
        fields["schedulable"] = params["compute"].lower() in _YES
    if "public" in params:
        fields["public"] = params["public"].lower() in _YES
    if "os" in params:
        fields["os"] = params["os"]
    return fields
