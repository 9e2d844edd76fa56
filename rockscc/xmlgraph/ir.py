"""Node files compiled once into a host-independent form: items (what a node contributes to the
kickstart, with its filter) whose text is a list of parts — literal strings and the few things
that depend on the host (`<var>`, `&entity;`, `<eval>`). Filling the parts per host is then a
cheap loop instead of an XML walk (see expand.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from lxml import etree

from rockscc.errors import Diagnostic
from rockscc.grammar.cond import Filter
from rockscc.xmlgraph.xmlfile import ENTITY_REF

# kgen's whitelist of <main> children (Rocks 5.0 plus what Rocks 7 added)
MAIN_COMMANDS = frozenset(
    "include main auth clearpart device driverdisk install nfs cdrom interactive harddrive url keyboard "
    "lang langsupport lilo lilocheck bootloader mouse network part volgroup logvol raid reboot rootpw skipx "
    "text timezone upgrade xconfig zerombr autopart eula firstboot ignoredisk sshpw firewall selinux services "
    "graphical cmdline".split()
)
DROPPED = frozenset({"description", "changelog", "copyright"})
SCREEN_DSL = frozenset("screen title code variable name label type value size default option help validate".split())


# --- parts --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Var:
    """`<var name=/>` in a part: the attribute's value."""

    name: str


@dataclass(frozen=True)
class Entity:
    """`&name;` in a part: an entity resolved at expansion."""

    name: str
    origin: str


@dataclass(frozen=True)
class VarSet:
    """`<var name val=/ref=>`: Rocks 5.0's sequential, global assignment (emits nothing)."""

    name: str
    val: str | None
    ref: str | None


@dataclass(frozen=True)
class Eval:
    """`<eval>` in a part: a script whose output replaces it."""

    shell: str
    mode: str  # quote | xml
    script: tuple  # parts
    origin: str


@dataclass(frozen=True)
class Include:
    """`<include file=/>` in a part: a file's text."""

    file: str
    mode: str
    required: bool
    origin: str


@dataclass(frozen=True)
class FileOp:
    """`<file>` inside a script: shell that writes a file at install time (rendered per host by
    xmlgraph/fileop.py, since its filter, name and earlier owner/perms depend on the host)."""

    name: tuple  # parts
    mode: str  # create | append | pipe
    expanded: bool  # vars="expanded": unquoted here-doc
    owner: tuple  # parts ("" = none)
    perms: tuple
    expr: tuple  # command whose output goes to the file first
    src: tuple  # pipe mode: the input (default: the file itself)
    include: str  # include="PATH": the body comes from that file of the description
    body: tuple
    filter: Filter
    origin: str


Part = str | Var | Entity | VarSet | Eval | Include | FileOp


# --- items --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    """One element of a node file (main, package, pre, post …) with its filter and parts."""

    kind: str  # main | package | pre | post | debug | boot | varset | eval
    filter: Filter
    origin: str  # nodes/x.xml:LINE
    parts: tuple = ()
    attrs: tuple = ()  # sorted (key, value) pairs of the element (arg, interpreter, tag, type …)

    def attr(self, key: str, default: str | None = None) -> str | None:
        return self._attr_map.get(key, default)

    @cached_property  # items are shared by every host: the map is built once
    def _attr_map(self) -> dict[str, str]:
        return dict(self.attrs)


@dataclass
class CompiledNode:
    """A node file compiled once per tree: its items, warnings and entity names."""

    name: str
    display: str
    overlay: str
    items: list[Item] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    entity_names: set[str] = field(default_factory=set)


def compile_node(root: etree._Element, name: str, display: str, overlay: str) -> CompiledNode:
    node = CompiledNode(name, display, overlay)
    _compile_children(root, node, Filter())
    return node


def compile_fragment(root: etree._Element, node: CompiledNode) -> list[Item]:
    """Items of XML produced at fill time (an `<eval mode="xml">` or an xml `<include>`)."""
    before = len(node.items)
    _compile_children(root, node, Filter())
    items = node.items[before:]
    del node.items[before:]
    return items


def _compile_children(root, node: CompiledNode, inherited: Filter) -> None:
    for element in root:
        if not isinstance(element.tag, str):
            continue
        tag, line = element.tag, element.sourceline or 0
        origin = f"{node.display}:{line}"
        filt = inherited.and_(Filter.from_attrib(element.attrib, origin)) if _has_filter(element) else inherited
        if tag in DROPPED or tag in SCREEN_DSL:
            continue
        if tag == "main":
            for child in element:
                if isinstance(child.tag, str):
                    _main_child(child, node, filt)
        elif tag == "package":
            node.items.append(
                Item(
                    "package",
                    filt,
                    origin,
                    _parts(element, node, strip=True),
                    _attrs(element, "type", "disable", "debian"),
                )
            )
        elif tag in ("pre", "post", "configure"):
            kind = "post" if tag == "configure" else tag
            if tag == "configure" and "post" not in element.get("phase", "post"):
                continue
            node.items.append(
                Item(kind, filt, origin, _parts(element, node), _attrs(element, "arg", "interpreter", "chroot"))
            )
        elif tag == "debug":
            node.items.append(Item("debug", filt, origin, _parts(element, node)))
        elif tag == "boot":
            node.items.append(Item("boot", filt, origin, _parts(element, node), _attrs(element, "order")))
        elif tag == "var":
            part = _var(element)
            if isinstance(part, VarSet):
                node.items.append(Item("varset", filt, origin, (part,)))
        elif tag in ("eval", "include", "sinclude"):
            node.items.append(Item("fragment", filt, origin, _parts_of_element(element, node)))
        elif tag in MAIN_COMMANDS or tag == "file":
            node.warnings.append(
                Diagnostic(node.display, line, f"<{tag}> outside <main>/<post> is ignored (as in Rocks)")
            )
        elif tag in ("kickstart", "attributes"):
            _compile_children(element, node, filt)
        else:
            node.warnings.append(Diagnostic(node.display, line, f"unknown element <{tag}> ignored"))


def _main_child(child, node: CompiledNode, inherited: Filter) -> None:
    tag, line = child.tag, child.sourceline or 0
    if tag in DROPPED:
        return
    if tag not in MAIN_COMMANDS:
        node.warnings.append(Diagnostic(node.display, line, f"<{tag}> is not a kickstart command kgen knows; ignored"))
        return
    filt = (
        inherited.and_(Filter.from_attrib(child.attrib, f"{node.display}:{line}")) if _has_filter(child) else inherited
    )
    node.items.append(
        Item("main", filt, f"{node.display}:{line}", _parts(child, node), (("tag", tag),) + _attrs(child, "partition"))
    )


def _has_filter(element) -> bool:
    return any(k in element.attrib for k in ("arch", "os", "release", "cond"))


def _attrs(element, *keys: str) -> tuple:
    return tuple((k, element.get(k)) for k in keys if element.get(k) is not None)


def _parts(element, node: CompiledNode, *, strip: bool = False) -> tuple:
    """The element's content as parts: text, and nested var/eval/file/include."""
    parts: list = []
    _text(element.text, parts, node, element.sourceline or 0)
    for child in element:
        if isinstance(child.tag, str):
            parts.extend(_parts_of_element(child, node))
        _text(child.tail, parts, node, _end_line(child))
    if strip:
        parts = _strip(parts)
    return tuple(_merge(parts))


def _parts_of_element(child, node: CompiledNode) -> list:
    tag, origin = child.tag, f"{node.display}:{child.sourceline or 0}"
    if tag == "var":
        return [_var(child)]
    if tag == "eval":
        return [Eval(child.get("shell", "sh"), child.get("mode", "quote"), _parts(child, node), origin)]
    if tag in ("include", "sinclude"):
        return [Include(child.get("file", ""), child.get("mode", "quote"), tag == "include", origin)]
    if tag == "file":
        return _file_shell(child, node)
    if tag in DROPPED or tag == "service":  # <service>: Solaris SMF, Rocks' sunos generator only
        return []
    node.warnings.append(
        Diagnostic(node.display, child.sourceline or 0, f"unexpected <{tag}> inside a script; its text is kept")
    )
    return list(_parts(child, node))


def _var(element) -> Var | VarSet:
    name = element.get("name", "")
    if element.get("val"):
        return VarSet(name, element.get("val"), None)
    if element.get("ref") is not None and element.get("val") is None and "ref" in element.attrib:
        return VarSet(name, None, element.get("ref"))
    return Var(name)


def _end_line(element) -> int:
    """The line an element's tail starts on (lxml keeps only start lines): its start line plus
    the line breaks inside it."""
    inside = "".join(element.itertext()) + "".join(element.attrib.values())
    return (element.sourceline or 0) + inside.count("\n")


def _text(text: str | None, parts: list, node: CompiledNode, first_line: int) -> None:
    if not text:
        return
    pos = 0
    for match in ENTITY_REF.finditer(text):
        if match.start() > pos:
            parts.append(text[pos : match.start()])
        line = first_line + text[: match.start()].count("\n")
        parts.append(Entity(match[1], f"{node.display}:{line}"))
        node.entity_names.add(match[1])
        pos = match.end()
    if pos < len(text):
        parts.append(text[pos:])


def attr_parts(value: str, origin: str) -> list:
    """An attribute value with `&entity;` placeholders, as parts."""
    parts, pos = [], 0
    for match in ENTITY_REF.finditer(value):
        parts.append(value[pos : match.start()])
        parts.append(Entity(match[1], origin))
        pos = match.end()
    parts.append(value[pos:])
    return [p for p in parts if p != ""]


def _file_shell(element, node: CompiledNode) -> list:
    """`<file>` as a part; Rocks 7 gen.py `Generator.parseFile` is what it renders like."""
    line = element.sourceline or 0
    origin = f"{node.display}:{line}"
    name = element.get("name")
    if not name:
        node.warnings.append(Diagnostic(node.display, line, "<file> without name= emits nothing"))
        return []
    mode = element.get("mode", "create")
    if mode not in ("create", "append", "pipe"):
        node.warnings.append(
            Diagnostic(
                node.display,
                line,
                f'<file mode="{mode}">: not create, append or pipe; written as create (as Rocks did)',
            )
        )
        mode = "create"
    filt = Filter.from_attrib(element.attrib, origin) if _has_filter(element) else Filter()

    def attr(key: str) -> tuple:
        return tuple(attr_parts(element.get(key) or "", origin))

    return [
        FileOp(
            attr("name"),
            mode,
            element.get("vars") == "expanded",
            attr("owner"),
            attr("perms"),
            attr("expr"),
            attr("src"),
            element.get("include") or "",
            _parts(element, node),
            filt,
            origin,
        )
    ]


def _strip(parts: list) -> list:
    if parts and isinstance(parts[0], str):
        parts[0] = parts[0].lstrip()
    if parts and isinstance(parts[-1], str):
        parts[-1] = parts[-1].rstrip()
    return [p for p in parts if p != ""]


def _merge(parts: list) -> list:
    merged: list = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    return merged
