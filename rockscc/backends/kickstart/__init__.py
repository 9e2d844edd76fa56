"""Kickstart files from profiles (Jinja2), and their validation with pykickstart.

`Renderer` and `Validator` hold what they remember (rendered sections, verdicts) for the session
that owns them (pipeline.Session); the validator's verdicts outlive the process through the memo
the session hands it. Nothing here reads the model, the node files or the build directory."""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import compress
from operator import is_not
from pathlib import Path
from typing import TYPE_CHECKING

from rockscc.backends.kickstart.dialects import DIALECTS, Dialect
from rockscc.backends.kickstart.holes import HOLE_COMMANDS, split_holes
from rockscc.errors import RocksccError
from rockscc.xmlgraph.profile import Profile, Script

if TYPE_CHECKING:
    from rockscc.memo import Memo

TEMPLATES = Path(__file__).parent / "templates"


@cache
def _template(name: str):
    """A template of TEMPLATES, compiled on first use (Jinja2 is imported then: a no-op build
    renders nothing)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        keep_trailing_newline=True,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template(name)


INSTALL_LOG = "/var/log/rocks-install.log"
PARTITION_INFO = "/tmp/partition-info"  # written by the partition step (do_partition), not a user %pre
PARTITION_INCLUDE = f"%include {PARTITION_INFO}"  # the main-section line the planned directives stand for


def dialect_of(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise RocksccError(f'kickstart_dialect "{name}" is not one of {", ".join(DIALECTS)}') from None


_TRAILING_SPACE = re.compile(r"[ \t\r\f\v]+$", re.M)  # what str.rstrip removed per line, in one C pass


@dataclass(frozen=True)
class Kickstart:
    """A rendered kickstart: its text, and the structure validation needs without re-parsing it."""

    text: str
    head: str  # traversal comment, main section, %packages: the part the installer reads as commands
    headers: tuple[str, ...]  # each distinct section header line, in order of first use


class Renderer:
    """head.j2, then each %pre, then each %post (section.j2). Sections repeat across hosts (the
    same node, the same body), so each distinct one is rendered once per renderer. The templates'
    frames (_head_text, _section_text) also outlive the process through `memo`: rebuilding one
    host after an attribute change then neither imports Jinja2 nor compiles a template."""

    def __init__(self, memo: Memo | None = None) -> None:
        self.memo = memo
        self._sections: dict[tuple, tuple[str, str]] = {}
        # id(script) -> (script, log, dialect, section): hosts replay the same Script objects
        # (xmlgraph/expansions.py), found by identity before the content key is built and hashed
        self._by_script: dict[int, tuple] = {}
        self._log_posts: dict[str, tuple[Script, Script]] = {}
        # (header, dialect) -> section.j2's text before and after the body (see _section_text)
        self._frames: dict[tuple[str, str], tuple[str, str] | None] = {}
        self._body_opaque: bool | None = None
        # head.j2's text around each main-section line, by what else it reads (see _head_text)
        self._head_frames: dict[tuple, list[str] | None] = {}
        self._main_opaque: bool | None = None
        self._heads: dict[tuple, str] = {}
        # (length, log, dialect, wrapped) -> the last few %pre or %post lists of that length, each
        # its Script objects, each position's headers and text, the headers in order (see _run)
        self._runs: dict[tuple, tuple] = {}

    def render(self, profile: Profile, dialect_name: str, partition_info: str | None = None) -> Kickstart:
        """`partition_info`: the planned partition directives, rendered where the main section
        includes /tmp/partition-info (attribute partition_inline; the %pre chain stays, harmless)."""
        dialect = dialect_of(dialect_name)
        main = []
        for line, origin in profile.main:
            if partition_info is not None:
                inlined = _inline_partitions(line, partition_info)
                if inlined is not None:
                    line, partition_info = inlined, None
            command = line.split(None, 1)[0] if line.strip() else ""
            if command in dialect.dropped:
                main.append(
                    f"# rockscc: {command} is not a {dialect.pykickstart} command (from {origin}): {line.strip()}"
                )
            else:
                main.append(line)
        head = self._head(profile, dialect, main)
        pre_headers, pre_text = self._run(profile.pre, dialect.pre_log, dialect, wrapped=False)
        post_headers, post_text = self._run(profile.post, dialect.post_log, dialect, wrapped=True)
        boot = self._boot_post(profile)
        if boot is not None:
            boot_header, boot_text = self._section(boot, dialect.post_log, dialect)
            post_headers, post_text = (*post_headers, boot_header), post_text + boot_text
        text = "".join((head, pre_text, "\n", post_text, "\n")).rstrip("\n") + "\n"
        return Kickstart(text, head, tuple(dict.fromkeys((*pre_headers, *post_headers))))

    def _run(self, scripts: list[Script], log: str, dialect: Dialect, *, wrapped: bool) -> tuple[tuple, str]:
        """(section headers in order, text) of a host's %pre or %post sections (`wrapped`: each
        post between its node's two logging posts: _unit). The hosts of one record replay the
        same Script objects but for the few holding their own values: the last few lists of
        each length (RUNS_KEPT: hosts of other kinds alternate with them, VMs among their
        containers) are kept with each position's rendering, and a host's list is compared with
        them by identity — only the positions holding other objects than the closest kept list
        are rendered (_section), the rest taken as they are; the host's list is kept in turn."""
        key = (len(scripts), log, dialect.name, wrapped)
        kept_lists = self._runs.get(key, ())
        closest, changed = None, range(len(scripts))
        for kept in kept_lists:
            differ = list(compress(range(len(scripts)), map(is_not, scripts, kept[0])))
            if len(differ) < len(changed):
                closest, changed = kept, differ
                if not differ:
                    break
        if closest is not None and len(changed) * 2 <= len(scripts):
            _objects, heads, texts, headers = closest
            if not changed:
                return headers, "".join(texts)
            texts, patched = list(texts), list(heads)
            for i in changed:
                patched[i], texts[i] = self._unit(scripts[i], log, dialect, wrapped)
            if not all(patched[i] == heads[i] for i in changed):
                headers = _ordered(patched)
            # the next host of this one's record differs from it in its own values only: with
            # one position changed this list takes the place of the one it was patched from,
            # with more it is kept beside it (hosts of two records of a walk alternate)
            made = (tuple(scripts), tuple(patched), tuple(texts), headers)
            if len(changed) == 1:
                self._runs[key] = tuple(made if kept is closest else kept for kept in kept_lists)
            else:
                self._runs[key] = (made, *kept_lists[: RUNS_KEPT - 1])
            return headers, "".join(texts)
        units = [self._unit(script, log, dialect, wrapped) for script in scripts]
        heads, texts = tuple(u[0] for u in units), tuple(u[1] for u in units)
        headers = _ordered(heads)
        if len(self._runs) > 64:
            self._runs.clear()
        # the objects kept: their ids stay their own; the newest first, the oldest dropped
        self._runs[key] = ((tuple(scripts), heads, texts, headers), *kept_lists[: RUNS_KEPT - 1])
        return headers, "".join(texts)

    def _unit(self, script: Script, log: str, dialect: Dialect, wrapped: bool) -> tuple[tuple[str, ...], str]:
        """(headers, text) of one script's sections: its own, or (`wrapped`) its node's begin
        logging post, it, and its node's end logging post."""
        if not wrapped:
            header, text = self._section(script, log, dialect)
            return (header,), text
        begin, end = self._log_posts_of(script.node)
        (h1, t1), (h2, t2), (h3, t3) = (self._section(s, log, dialect) for s in (begin, script, end))
        return (h1, h2, h3), t1 + t2 + t3

    def _head(self, profile: Profile, dialect: Dialect, main: list[str]) -> str:
        """head.j2 rendered, memoized by everything the template reads: hosts whose heads are
        alike (the corpus' hosts, or all but a `network` line) share one rendering and one string,
        which the validator then recognises without hashing it again."""
        key = (
            dialect.name,
            tuple(profile.commented),
            tuple(profile.debug),
            tuple(main),
            tuple(profile.packages),
            tuple(profile.disabled),
        )
        found = self._heads.get(key)
        if found is None:
            found = _TRAILING_SPACE.sub("", self._head_text(profile, dialect, main, key))
            if len(self._heads) > 4096:
                self._heads.clear()
            self._heads[key] = found
        return found

    def _head_text(self, profile: Profile, dialect: Dialect, main: list[str], key: tuple) -> str:
        """head.j2 rendered. Heads that differ only in main-section lines (the default
        configuration's `network --hostname=` line) made Jinja render every host's head; when the
        template uses `main` only to print each line whole (main_is_opaque: its syntax tree), the
        head is the text it gives placeholder lines with the placeholders replaced — rendered
        once per everything else it reads and the number of lines."""
        frame_key = (*key[:3], len(main), *key[4:])
        frame = self._head_frames.get(frame_key, False)
        if frame is False:
            memo_key = _frame_key("head.j2", dialect, frame_key)
            frame = self._remembered_frame(memo_key, len(main) + 1)
            if frame is False:
                frame = self._head_frame(profile, dialect, len(main))
                self._remember_frame(memo_key, frame)
            if len(self._head_frames) > 4096:
                self._head_frames.clear()
            self._head_frames[frame_key] = frame
        if frame is None:
            return _template("head.j2").render(profile=profile, dialect=dialect, main=main)
        out = [frame[0]]
        for line, text in zip(main, frame[1:]):
            out += (line, text)
        return "".join(out)

    def _head_frame(self, profile: Profile, dialect: Dialect, lines: int) -> list[str] | None:
        """head.j2's text around each of `lines` main-section lines, or None when the template
        does more with them than print each whole (main_is_opaque)."""
        if self._main_opaque is None:
            self._main_opaque = main_is_opaque((TEMPLATES / "head.j2").read_text())
        if not self._main_opaque:
            return None
        holes = [_MAIN_HOLE.format(i) for i in range(lines)]
        pieces = _MAIN_HOLES.split(_template("head.j2").render(profile=profile, dialect=dialect, main=holes))
        if pieces[1::2] == [str(i) for i in range(lines)]:  # each line once, in order
            return pieces[0::2]
        return None

    def _section(self, script: Script, log: str, dialect: Dialect) -> tuple[str, str]:
        """(header line, rendered section) of one %pre or %post, memoized by what it is made of
        (and by the Script object itself, kept in the entry so that its id stays its own)."""
        known = self._by_script.get(id(script))
        if known is not None and known[0] is script and known[1] == log and known[2] is dialect:
            return known[3]
        found = self._section_of(script, log, dialect)
        if len(self._by_script) > 20_000:
            self._by_script.clear()
        self._by_script[id(script)] = (script, log, dialect, found)
        return found

    def _section_of(self, script: Script, log: str, dialect: Dialect) -> tuple[str, str]:
        key = (script.kind, script.arg, script.interpreter, script.body, log, dialect.name)
        found = self._sections.get(key)
        if found is None:
            _check_body(script, dialect)
            header = f"%{script.kind}{_header(script, log)}"
            _check_header(header, script)
            text = self._section_text(header, script.body.strip("\n"), dialect)
            if len(self._sections) > 20_000:
                self._sections.clear()
            found = self._sections[key] = (_TRAILING_SPACE.sub("", header), _TRAILING_SPACE.sub("", text))
        return found

    def _section_text(self, header: str, body: str, dialect: Dialect) -> str:
        """section.j2 rendered for this body. A body that differs per host (a host name in a
        %pre) made Jinja render the section for every host; when the template uses `body` only
        as a whole output expression (body_is_opaque: checked on its syntax tree), its text is
        the text it gives a placeholder body with the placeholder replaced — rendered once per
        header and dialect."""
        key = (header, dialect.name)
        frame = self._frames.get(key, False)
        if frame is False:
            memo_key = _frame_key("section.j2", dialect, key)
            frame = self._remembered_frame(memo_key, 2)
            if frame is False:
                frame = self._section_frame(header, dialect)
                self._remember_frame(memo_key, frame)
            if frame is not None:
                frame = tuple(frame)
            if len(self._frames) > 4096:
                self._frames.clear()
            self._frames[key] = frame
        if frame is None:
            return _template("section.j2").render(header=header, body=body, dialect=dialect)
        return frame[0] + body + frame[1]

    def _section_frame(self, header: str, dialect: Dialect) -> list[str] | None:
        """section.j2's text before and after the body, or None when the template does more
        with the body than print it whole (body_is_opaque)."""
        if self._body_opaque is None:
            self._body_opaque = body_is_opaque((TEMPLATES / "section.j2").read_text())
        if not self._body_opaque:
            return None
        around = _template("section.j2").render(header=header, body=_BODY_HOLE, dialect=dialect)
        return around.split(_BODY_HOLE) if around.count(_BODY_HOLE) == 1 else None

    def _remembered_frame(self, memo_key: str, pieces: int) -> list[str] | None | bool:
        """An earlier build's frame for this key (_frame_key): a list of `pieces` strings, or
        None (the template is rendered whole); False when the memo has none, or holds
        something else (a damaged entry: recomputed, and the entry rewritten)."""
        blob = self.memo.get(FRAME_NAMESPACE, memo_key) if self.memo is not None else None
        if blob is None:
            return False
        try:
            frame = json.loads(blob)
        except (ValueError, UnicodeDecodeError):
            return False
        if frame is None:
            return None
        if isinstance(frame, list) and len(frame) == pieces and all(isinstance(p, str) for p in frame):
            return frame
        return False

    def _remember_frame(self, memo_key: str, frame: list[str] | None) -> None:
        if self.memo is not None:
            self.memo.remember(FRAME_NAMESPACE, memo_key, json.dumps(frame).encode())

    @staticmethod
    def _boot_post(profile: Profile) -> Script | None:
        """The final post carrying the <boot> texts, if there are any. (Rocks wraps every <post>
        in two logging posts, begin and end: _unit; this one comes after them all.)"""
        if not (profile.boot_pre or profile.boot_post):
            return None
        body = []
        for name, texts in (("rocks-pre", profile.boot_pre), ("rocks-post", profile.boot_post)):
            if texts:
                body.append(
                    f"cat >> /etc/sysconfig/{name} << 'EOF'\n" + "\n".join(t.strip("\n") for t in texts) + "\nEOF"
                )
        return Script("post", "\n".join(body))

    def _log_posts_of(self, node_label: str) -> tuple[Script, Script]:
        found = self._log_posts.get(node_label)
        if found is None:
            node = node_label.split(" (")[0]
            found = self._log_posts[node_label] = (
                Script("post", _log(f"{node}: begin post section"), node=node_label),
                Script("post", _log(f"{node}: end post section"), node=node_label),
            )
        return found


def _ordered(heads: tuple[tuple[str, ...], ...] | list) -> tuple[str, ...]:
    """Each distinct header once, in order of first use."""
    return tuple(dict.fromkeys(header for unit in heads for header in unit))


RUNS_KEPT = 4  # lists kept per length (Renderer._run)
_BODY_HOLE = "\0rockscc-section-body\0"  # no body holds NUL: XML and the description refuse it
# What a template may contain for its `body` to be opaque: plain text, output expressions, names,
# attribute lookups and ifs — no filters, calls, tests, sets, loops, macros, includes or blocks
_OPAQUE_NODES = ("Template", "Output", "TemplateData", "Name", "Getattr", "If")


def body_is_opaque(source: str) -> bool:
    """Whether a section template's output depends on `body` only by printing it whole, as one
    expression of an output statement: then render(body=B) is render(body=X) with the one X
    replaced by B. Checked on Jinja's syntax tree: only the node kinds of _OPAQUE_NODES, and
    `body` read nowhere but directly in an output."""
    from jinja2 import Environment, nodes

    tree = Environment(keep_trailing_newline=True, autoescape=False).parse(source)
    printed = {id(node) for out in tree.find_all(nodes.Output) for node in out.nodes if isinstance(node, nodes.Name)}
    for node in tree.find_all(nodes.Node):
        if type(node).__name__ not in _OPAQUE_NODES:
            return False
        if isinstance(node, nodes.Name) and node.name == "body" and (node.ctx != "load" or id(node) not in printed):
            return False
    return True


_MAIN_HOLE = "\0rockscc-main-{}\0"
_MAIN_HOLES = re.compile("\0rockscc-main-([0-9]+)\0")


def main_is_opaque(source: str) -> bool:
    """Whether a head template's output depends on `main` only by printing each of its lines
    whole, in order: every `main` is the iterable of a plain {% for %} at the top level (no
    filter clause, else or recursion) whose body is text and output statements, and whose loop variable is read only
    directly in an output. Then render(main=M) is render(main=placeholders) with each
    placeholder replaced by its line."""
    from jinja2 import Environment, nodes

    tree = Environment(keep_trailing_newline=True, autoescape=False).parse(source)
    loops = [f for f in tree.find_all(nodes.For) if isinstance(f.iter, nodes.Name) and f.iter.name == "main"]
    if sum(1 for n in tree.find_all(nodes.Name) if n.name == "main") != len(loops):
        return False
    for loop in loops:  # at the template's top level: nothing around it (a filter block) rewrites its output
        if loop not in tree.body or not isinstance(loop.target, nodes.Name):
            return False
        if loop.test is not None or loop.else_ or loop.recursive:
            return False
        printed = set()
        for node in loop.body:
            if not isinstance(node, nodes.Output):
                return False
            for part in node.nodes:
                if not isinstance(part, (nodes.TemplateData, nodes.Name)):
                    return False
                printed.add(id(part))
        if any(
            n.name == loop.target.name and id(n) not in printed
            for n in loop.find_all(nodes.Name)
            if n is not loop.target
        ):
            return False
    return True


def _inline_partitions(line: str, info_text: str) -> str | None:
    """The main-section entry with its `%include /tmp/partition-info` line replaced by the
    directives, or None when the entry has no such line."""
    lines = line.split("\n")
    for i, text in enumerate(lines):
        if text.rstrip() == PARTITION_INCLUDE:
            directives = info_text.split("\n")
            lines[i : i + 1] = directives[:-1] if directives[-1] == "" else directives
            return "\n".join(lines)
    return None


FRAME_NAMESPACE = "kickstart-frame"


def _frame_key(template: str, dialect: Dialect, key: tuple) -> str:
    """The memo key of a template's frame: everything the frame is a function of — the
    templates' text and the installed Jinja2 (_render_identity), every field of the dialect,
    and the renderer's own frame key (what else the template reads)."""
    fields = [
        dialect.name,
        dialect.pykickstart,
        dialect.end,
        dialect.pre_log,
        dialect.post_log,
        sorted(dialect.dropped),
    ]
    text = json.dumps([template, _render_identity(), fields, key])
    return hashlib.sha256(text.encode()).hexdigest()


@cache
def _render_identity() -> str:
    """The kickstart templates' digest and the installed Jinja2's (its __init__.py, which holds
    its version), found without importing Jinja2 (~0.1 s)."""
    from importlib.util import find_spec

    spec = find_spec("jinja2")
    origin = spec.origin if spec is not None and spec.origin else ""
    jinja = hashlib.sha256(Path(origin).read_bytes()).hexdigest()[:16] if origin else "none"
    return f"{template_identity()}:{jinja}"


def template_identity() -> str:
    """The kickstart templates' content digest: editing a template rebuilds every kickstart."""
    names = sorted(name for name in os.listdir(TEMPLATES) if name.endswith(".j2"))  # not glob: no regex to build
    return hashlib.sha256(b"".join((TEMPLATES / name).read_bytes() for name in names)).hexdigest()[:16]


# What the installer reads as a section line inside a %pre/%post body (pykickstart, whose parser
# anaconda uses): a line whose first word, after leading white space, names a section, %end or
# %include, in every dialect (without %end, a section line ends the body; %end ends it too), and
# any line that starts, after white space, with %ksappend (fetched and spliced in before parsing).
# tests/xmlgraph checks SECTION_WORDS against pykickstart's own table of each dialect.
SECTION_WORDS = frozenset(
    {
        "%addon",
        "%anaconda",
        "%certificate",
        "%onerror",
        "%packages",
        "%post",
        "%pre",
        "%pre-install",
        "%traceback",
        "%end",
        "%include",
    }
)


def section_line(line: str) -> bool:
    words = line.split()
    return bool(words) and (words[0] in SECTION_WORDS or line.strip().startswith("%ksappend"))


def _check_body(script: Script, dialect: Dialect) -> None:
    """A body line the installer would read as a section line changes what the kickstart means:
    refuse it, naming the node. Lines are split as pykickstart splits them (str.splitlines)."""
    for line in script.body.splitlines():
        if "%" in line and section_line(line):
            raise RocksccError(
                f"{script.origin or script.node}: a line of this %{script.kind} body, "
                f"{line.strip()!r}, would be read by the installer as a section line "
                f"({line.split()[0]}), not as part of the script ({dialect.name} kickstart)"
            )


def _check_header(header: str, script: Script) -> None:
    if not header.isprintable():
        raise RocksccError(
            f"{script.origin or script.node}: the %{script.kind} header {header!r} is not one line "
            "(its arg= or interpreter= holds a line break or another control character)"
        )


def _log(message: str) -> str:
    return f"cat >> {INSTALL_LOG} << 'EOF'\n{message}\nEOF"


def _header(script: Script, log: str) -> str:
    words = []
    if log:
        words.append(f"--log={log}")
    if script.interpreter and "--interpreter" not in script.arg:
        words.append(f"--interpreter {script.interpreter}")
    if script.arg:
        words.append(script.arg)
    return (" " + " ".join(words)) if words else ""


# --- validation --------------------------------------------------------------------------------
@cache
def _parser(version: str):
    _without_url_includes()
    from pykickstart.parser import KickstartParser
    from pykickstart.version import makeVersion

    return KickstartParser(makeVersion(version), followIncludes=False, errorsAreFatal=True, missingIncludeIsFatal=False)


@cache
def _line_parser(version: str):
    """A second parser, for hole lines alone: forgetting a line on it empties one list instead
    of rebuilding the command (holes.py), and the whole-kickstart parser's state stays apart."""
    return _parser.__wrapped__(version)


@cache
def _handler_class(version: str):
    """pykickstart's handler class of a release (its module imports every command module)."""
    _without_url_includes()
    from pykickstart.version import returnClassForVersion

    return returnClassForVersion(version)


# Commands whose objects other commands reach through the handler (repo reads handler.method,
# method reads handler.url, .cdrom, .nfs, .harddrive): always in a lean handler, so that such a
# reach finds them as in the full one (a reach to a missing one raises, and is then re-judged)
_LEAN_ALWAYS = frozenset({"method", "cdrom", "harddrive", "nfs", "url"})


def _lean_names(version: str, text: str) -> frozenset[str]:
    """The command names a lean handler for this text registers: every command whose name
    occurs anywhere in the text, with _LEAN_ALWAYS, and every other name of the same command
    class (part and partition are one object in pykickstart, and conflicts name either)."""
    command_map = _handler_class(version).commandMap
    classes = {cls for name, cls in command_map.items() if name in _LEAN_ALWAYS or name in text}
    return frozenset(name for name, cls in command_map.items() if cls in classes)


@lru_cache(maxsize=16)
def _lean_parser(version: str, names: frozenset[str]):
    """A parser whose handler has only the named commands (~10 ms for a kickstart head's dozen,
    ~90 ms for all of a release's). Its acceptance is pykickstart's (tests/xmlgraph/
    test_lean_handler.py): every command a text dispatches is registered, as the same class
    with all its names, so it parses alike, its conflicts are checked alike, and a reach into
    a command it lacks raises. Its rejections are not trusted (_lean_accepts)."""
    from pykickstart.parser import KickstartParser

    cls = _handler_class(version)
    mapping = {name: cls.commandMap[name] for name in names}
    handler = cls(mapping=mapping, dataMapping=cls.dataMap or None)
    return KickstartParser(handler, followIncludes=False, errorsAreFatal=True, missingIncludeIsFatal=False)


def _lean_accepts(version: str, text: str, full) -> bool:
    """pykickstart's verdict on a text: the lean handler's acceptance, else the full parser's
    (`full`: a function of the version) — a word the lean one lacks (a command name shlex puts
    together from quotes), or anything else it refused, is judged by the full handler."""
    return _accepts(_lean_parser(version, _lean_names(version, text)), text) or _accepts(full(version), text)


def _without_url_includes() -> None:
    """pykickstart.load imports `requests` (with urllib3 and http.client: ~0.1 s, most of
    pykickstart's start-up) only to fetch %include URLs, which rockscc never follows
    (followIncludes=False). Unless requests is already loaded, pykickstart.load gets a stand-in
    whose get() refuses; the stand-in is unregistered at once, so anything importing requests
    later gets the real one."""
    import sys
    import types

    if "pykickstart.load" in sys.modules or "requests" in sys.modules:
        return

    class RequestException(Exception):
        pass

    class SSLError(RequestException):
        pass

    def get(url, *args, **kwargs):
        raise RequestException(f"rockscc does not fetch kickstart %include URLs ({url})")

    stand_in = types.ModuleType("requests")
    stand_in.get, stand_in.codes = get, types.SimpleNamespace(ok=200)
    stand_in.exceptions = types.ModuleType("requests.exceptions")
    stand_in.exceptions.RequestException, stand_in.exceptions.SSLError = RequestException, SSLError
    sys.modules["requests"], sys.modules["requests.exceptions"] = stand_in, stand_in.exceptions
    try:
        import pykickstart.load  # noqa: F401  (binds the stand-in)
    finally:
        del sys.modules["requests"], sys.modules["requests.exceptions"]


_LEFTOVER_ENTITY = re.compile(r"&[A-Za-z_][A-Za-z0-9_.:-]*;")
KNOWN_INCLUDES = {PARTITION_INFO}


class Validator:
    """pykickstart's verdicts, by kickstart skeleton and hole line (holes.py): the hosts of one
    skeleton are validated once per validator, and not at all when an earlier build's verdict is
    in the memo; each host's own lines (its `network` line) are validated alone, once per
    distinct line."""

    def __init__(self, memo: Memo) -> None:
        self.memo = memo
        self._valid: set[tuple[str, bytes]] = set()
        self._valid_lines: set[tuple[str, str]] = set()
        self._valid_partition_info: set[tuple[str, str]] = set()  # (dialect, planned directives)
        self._valid_shapes: set[tuple[str, str]] = set()  # (dialect, line with its host names blanked)
        # (dialect, head, section headers) that fast_accepts said yes to
        self._accepted: set[tuple[str, str, tuple[str, ...]]] = set()

    def validate(
        self, kickstart: Kickstart, dialect_name: str, host: str, profile: Profile, *, fragment: bool = False
    ) -> None:
        """pykickstart must accept the kickstart, nothing may be left unexpanded, and every %include
        must be written by some %pre. Errors name the host and the node file. A `fragment` (one node
        file's part of a kickstart, `rockscc test node`) is checked by pykickstart only: the rest of
        its kickstart, which would define entities and write included files, is not there."""
        dialect = dialect_of(dialect_name)
        if not fragment:
            _check_own_rules(kickstart.head, host, profile)
        if not self._accepted_before(kickstart, dialect):
            # pykickstart's verdict on the whole text decides, and its error names the real line
            _pykickstart(_parser(dialect.pykickstart), kickstart.text, dialect, host, profile)

    def validate_partition_info(self, text: str, dialect_name: str, host: str) -> None:
        """The planned directives (/tmp/partition-info) read alone by the dialect's pykickstart: the
        kickstart %includes them at install time, where an option the dialect lacks (`--fsprofile`
        on RHEL5, `--start` on RHEL7) stops the installer. Errors name the directive's line."""
        dialect = dialect_of(dialect_name)
        # comments out of the key: a program that writes the host's name in a comment (Rocks'
        # seed program does) makes every host's text differ, and pykickstart skips them anyway
        directives = "".join(line for line in text.splitlines(keepends=True) if not line.lstrip().startswith("#"))
        key = (dialect.name, directives)
        if key in self._valid_partition_info:
            return
        parser = _parser(dialect.pykickstart)
        if not _accepts(parser, directives):
            for number, line in enumerate(text.splitlines(), 1):
                if line.strip() and not line.lstrip().startswith("#") and not _accepts(parser, line + "\n"):
                    raise RocksccError(
                        f"host {host}: partition-info:{number}: {line.strip()}: rejected by pykickstart "
                        f"{dialect.pykickstart} (kickstart_dialect {dialect.name}): {_message(parser, line)}"
                    )
            raise RocksccError(  # each line alone is accepted, not all of them together
                f"host {host}: partition-info: rejected by pykickstart {dialect.pykickstart} "
                f"(kickstart_dialect {dialect.name}): {_message(parser, text)}"
            )
        if len(self._valid_partition_info) > 4096:
            self._valid_partition_info.clear()
        self._valid_partition_info.add(key)

    def _accepted_before(self, kickstart: Kickstart, dialect: Dialect) -> bool:
        """fast_accepts, remembered by what it reads (the head and the section headers): the
        renderer hands hosts with alike heads the same string, whose hash Python keeps."""
        key = (dialect.name, kickstart.head, kickstart.headers)
        if key in self._accepted:
            return True
        if not self.fast_accepts(kickstart, dialect):
            return False
        if len(self._accepted) > 4096:
            self._accepted.clear()
        self._accepted.add(key)
        return True

    def fast_accepts(self, kickstart: Kickstart, dialect: Dialect) -> bool:
        """pykickstart's verdict on the kickstart, from its skeleton's and its hole lines'
        (holes.py). True means pykickstart accepts the whole text; False that the whole text
        must be read (tests/xmlgraph/test_holes.py: the two verdicts are the same)."""
        head, holes = split_holes(kickstart.head)
        return self._skeleton_valid(_skeleton(head, kickstart.headers, dialect), dialect) and all(
            self._line_valid(line, dialect) for line in holes
        )

    def _skeleton_valid(self, skeleton: str, dialect: Dialect) -> bool:
        key = (dialect.name, hashlib.sha256(skeleton.encode()).digest())
        if key in self._valid:
            return True  # the other hosts of this skeleton ask neither pykickstart nor the memo
        memo_key = _valid_key(dialect.name, key[1])
        if not self.memo.known("kickstart-valid", memo_key):  # an earlier build's verdict, else pykickstart's
            if not _lean_accepts(dialect.pykickstart, skeleton, _parser):
                return False
            self.memo.remember("kickstart-valid", memo_key)
        if len(self._valid) > 4096:
            self._valid.clear()
        self._valid.add(key)
        return True

    def _line_valid(self, line: str, dialect: Dialect) -> bool:
        """One hole line, validated alone on a parser of its own (holes.py says why that is the
        verdict it has in its kickstart)."""
        if (dialect.name, line) in self._valid_lines:
            return True
        shape = _line_shape(line)
        if shape is not None and (dialect.name, shape) in self._valid_shapes:
            return True
        memo_key = _valid_key(dialect.name, hashlib.sha256(line.encode()).digest())
        if not self.memo.known("kickstart-line-valid", memo_key):
            if not _lean_accepts(dialect.pykickstart, line, _line_parser):
                return False
            self.memo.remember("kickstart-line-valid", memo_key)
        if len(self._valid_lines) > 65536:
            self._valid_lines.clear()
            self._valid_shapes.clear()
        self._valid_lines.add((dialect.name, line))
        if shape is not None:
            self._valid_shapes.add((dialect.name, shape))
        return True


# A `network` line's host name (`--hostname=compute-0-3.local`) is a plain string to pykickstart:
# the option has no type or choices, and no parse reads it (tests/xmlgraph/test_holes.py checks
# both against the installed pykickstart). In a line without quotes, backslashes or comments,
# whitespace-split by shlex, a value of these characters is one argument whatever it is, so two
# lines that differ only in such values get the same verdict: the line's *shape*.
_HOSTNAME_VALUE = re.compile(r"(?<=[ \t])--hostname=[A-Za-z0-9][A-Za-z0-9.-]*(?=[ \t\r\n]|$)")


def _line_shape(line: str) -> str | None:
    """The line with each plain host name value blanked, or None when it has none or may not
    split plainly."""
    if any(c in line for c in "\"'\\#"):
        return None
    shape, count = _HOSTNAME_VALUE.subn("--hostname=\0", line)
    return shape if count else None


def _valid_key(dialect_name: str, digest: bytes) -> str:
    from pykickstart import __version__ as pykickstart_version

    return f"{dialect_name}:{pykickstart_version}:{digest.hex()}"


def _skeleton(head: str, headers: tuple[str, ...], dialect: Dialect) -> str:
    """What pykickstart's verdict depends on besides the hole lines: the commands and packages
    (the head, holes blanked) and each distinct section header once. Bodies are opaque to it
    (render refused bodies that would end a section), so hosts whose kickstarts differ only
    inside %pre/%post or in hole lines share one validation, and a validation parses a few
    headers instead of the corpus' ~150 sections (~80 ms)."""
    end = "\n%end" if dialect.end else ""
    return head + "".join(f"\n{header}{end}" for header in headers) + "\n"


def _accepts(parser, text: str) -> bool:
    """pykickstart's verdict on a text, without its message (the caller asks again for that)."""
    from pykickstart.errors import KickstartError

    try:
        _read(parser, text)
    except (ValueError, KickstartError):
        return False
    except Exception:  # pykickstart's own failure (an IndexError on a line it splits oddly): the
        return False  # installer reads with the same code, so the kickstart is no good either
    return True


def _message(parser, text: str) -> str:
    """pykickstart's complaint about a text it does not accept, its last line."""
    from pykickstart.errors import KickstartError

    try:
        _read(parser, text)
    except (ValueError, KickstartError) as exc:
        return str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return "rejected"


def _read(parser, text: str) -> None:
    """One text read on a reused parser. What the previous text set is forgotten now, not
    after that read: a one-host build reads one text, and its forgetting (~20 ms of argument
    parsers rebuilt) was work for a next read that never came."""
    last = getattr(parser, "rockscc_last_text", None)
    if last is not None:
        _forget(parser, last)
    parser.rockscc_last_text = text  # before reading: a text that fails halfway set things too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parser.readKickstartFromString(text, reset=True)


def _pykickstart(parser, text: str, dialect: Dialect, host: str, profile: Profile) -> None:
    """pykickstart's verdict on a whole kickstart, as a RocksccError naming the host, the line
    and the node file it came from."""
    from pykickstart.errors import KickstartError

    try:
        _read(parser, text)
    except ValueError as exc:  # pykickstart splits command lines with shlex: an unbalanced quote
        raise RocksccError(
            f"host {host}: kickstart rejected by pykickstart {dialect.pykickstart}: {exc} "
            "(a quote without its pair in a command line)"
        ) from None
    except KickstartError as exc:
        line = getattr(exc, "lineno", None)
        origin = _origin_of_line(text, line, profile) if line else ""
        message = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise RocksccError(
            f"host {host}: kickstart rejected by pykickstart {dialect.pykickstart}"
            f"{f' at line {line}' if line else ''}{origin}: {message}"
        ) from None
    except Exception as exc:  # a failure of pykickstart itself: anaconda would fail alike
        raise RocksccError(
            f"host {host}: pykickstart {dialect.pykickstart} cannot read the kickstart "
            f"({type(exc).__name__}: {exc}); the installer reads it with the same code"
        ) from None


def _check_own_rules(head: str, host: str, profile: Profile) -> None:
    leftover, includes = _head_findings(head)
    if leftover:
        raise RocksccError(f"host {host}: unexpanded entity {leftover} in the kickstart")
    unknown = [target for target in includes if target not in KNOWN_INCLUDES]
    written = "\n".join(s.body for s in profile.pre) if unknown else ""
    for target in unknown:
        if target not in written:
            raise RocksccError(f"host {host}: %include {target} is not written by any %pre")


_INCLUDE_LINE = re.compile(r"^%include\s+(\S+)", re.M)


@lru_cache(maxsize=1024)  # the renderer hands the hosts of alike heads one string: searched once
def _head_findings(head: str) -> tuple[str | None, tuple[str, ...]]:
    """(the first unexpanded entity of a head, or None; the files its %include lines name)."""
    leftover = _LEFTOVER_ENTITY.search(head)
    return (leftover[0] if leftover else None), tuple(_INCLUDE_LINE.findall(head))


def _forget(parser, text: str) -> None:
    """Reset only what this kickstart set, so the next host is validated on a clean handler
    without paying for a new one. A line-local command (holes.HOLE_COMMANDS) keeps nothing
    but its data list: emptying it is cheaper than rebuilding the command's parser (~1 ms).
    A command the line split does not name (shlex joins `"time"zone`) is found by its `seen`
    flag, which pykickstart sets on every command it dispatches."""
    handler = parser.handler
    for line in _main_and_packages(text).split("\n"):
        word = line.split(None, 1)[0] if line.strip() and not line.startswith(("#", "%")) else ""
        command = handler.commands.get(word)
        kept = command.dataList() if word in HOLE_COMMANDS and command is not None else None
        if kept is not None:
            kept.clear()
        elif command is not None:
            _reset_command(handler, command)
    for name, command in list(handler.commands.items()):
        if command is not None and command.seen and name not in HOLE_COMMANDS and handler.commands[name] is command:
            _reset_command(handler, command)
    handler.scripts = []
    handler.packages = handler.packages.__class__()


def _reset_command(handler, command) -> None:
    """A new object for a command, under each of its names: pykickstart's resetCommand renews
    one name's, and the other names (`part` for `partition`) kept the old object, whose state
    a later text's conflict check then missed (`partition` then `part` + `autopart`)."""
    names = [name for name, obj in handler.commands.items() if obj is command]
    handler.resetCommand(names[0])
    for name in names[1:]:
        handler.commands[name] = handler.commands[names[0]]


def _main_and_packages(text: str) -> str:
    head = text.split("\n%pre", 1)[0]
    return head.split("\n%post", 1)[0]


def _origin_of_line(text: str, line: int, profile: Profile) -> str:
    wanted = text.split("\n")[line - 1].strip() if 0 < line <= text.count("\n") + 1 else ""
    for main_line, origin in profile.main:
        if main_line.strip() == wanted:
            return f" (from {origin})"
    return ""
