"""Partition programs that embed values they never read.

Rocks substitutes `<var>`s into a %pre's text before it runs, so a program that merely records
the host's name — the seed deck's does: `nodename = '<var name="Node_Hostname"/>'`, and never
reads `nodename` — has a different text on every host, and a memo keyed by program text would
run it once per host. In a Python program, a module-level `NAME = 'constant'` whose NAME nothing
reads cannot change what the program does, provided the program does not reach its variables or
its own source by other means. `canonical(body)` replaces such constants by '' when the program
is plainly free of those means; the canonical text is then what runs at build time and what the
memo is keyed by (the kickstart keeps the text as written). Anything else — shell, Python 2
syntax, reflection, an import outside the list below, a name that is read — is left as written.

Out of contract, as for any partition program: reading its own source text (rockscc refuses the
obvious ways: `__file__`, `sys`, `/proc`, the sandbox's `.rockscc` directory).
"""

from __future__ import annotations

import ast
import re
import warnings
from functools import lru_cache

SAFE_IMPORTS = frozenset({"rocks_partition", "os", "os.path", "re", "string", "math", "shlex", "subprocess", "json"})
REFLECTIVE = frozenset(
    {
        "globals",
        "locals",
        "vars",
        "eval",
        "exec",
        "compile",
        "__import__",
        "getattr",
        "setattr",
        "delattr",
        "__file__",
        "__dict__",
        "__builtins__",
        "__main__",
        "__spec__",
        "__loader__",
        "breakpoint",
        "sys",
        "inspect",
        "importlib",
        "builtins",
        "_getframe",
        "f_globals",
        "f_locals",
        "gc",
    }
)
SOURCE_PATHS = (".rockscc", "/proc")


@lru_cache(maxsize=256)  # a program shared by many hosts is parsed once
def canonical(body: str) -> str:
    """`body` with the values of unread module-level string constants blanked, or `body` itself."""
    if any(path in body for path in SOURCE_PATHS):
        return body
    for template in _templates:  # the same program with other values in its dead constants
        if template.pattern.fullmatch(body):
            return template.text
    spans = dead_spans(body)
    if not spans:
        return body
    text = _blank(body, spans)
    _remember(body, spans, text)
    return text


def dead_spans(body: str) -> list[tuple[int, int, int]]:
    """The dead constants canonical() blanks, found by parsing `body` (no template)."""
    if any(path in body for path in SOURCE_PATHS):
        return []
    try:
        with warnings.catch_warnings():  # a program's own invalid escapes are not rockscc's to report
            warnings.simplefilter("ignore")
            tree = ast.parse(body)
    except (SyntaxError, ValueError):
        return []  # Python 2, or not Python: runs as written
    return _dead_constants(tree) if _plainly_closed(tree) else []


# --- programs that differ only in their dead constants' values -----------------------------------
# The seed program records the host's name in a dead constant, so each host's text is new and the
# lru_cache above never hits. But two texts that differ only *inside* the quotes of dead constants,
# by characters that cannot end or escape a one-line string literal, tokenize alike: same tree,
# same dead constants, and since the whole literal is blanked, the same canonical text. A template
# is the first text with each such literal's content made a wildcard of those characters; a text
# it matches whole gets the template's canonical text without being parsed.
_SAFE = r"[ !#-&(-\[\]-~]*"  # printable ASCII except ' " and backslash: stays inside its literal
_LITERAL = re.compile(r"[uU]?(['\"])" + _SAFE + r"\1")
_TEMPLATES = 16  # distinct program shapes remembered (per process)


class _Template:
    def __init__(self, pattern: re.Pattern, text: str) -> None:
        self.pattern, self.text = pattern, text


_templates: list[_Template] = []


def _remember(body: str, spans: list[tuple[int, int, int]], text: str) -> None:
    """Make `body`'s template, if each dead literal is a plain one-line literal of safe characters."""
    lines = body.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    holes = []
    for line_no, start, end in spans:
        raw = lines[line_no - 1].encode()
        literal = raw[start:end].decode(errors="replace")
        if not _LITERAL.fullmatch(literal):
            return
        first = starts[line_no - 1] + len(raw[:start].decode()) + literal.index(literal[-1]) + 1
        holes.append((first, first + len(literal) - literal.index(literal[-1]) - 2))
    pieces, at = [], 0
    for first, last in sorted(holes):
        pieces += [re.escape(body[at:first]), _SAFE]
        at = last
    pieces.append(re.escape(body[at:]))
    _templates.insert(0, _Template(re.compile("".join(pieces), re.DOTALL), text))
    del _templates[_TEMPLATES:]


def _plainly_closed(tree: ast.Module) -> bool:
    """No reflection and no import that could read the program's variables or text."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(alias.name not in SAFE_IMPORTS for alias in node.names):
            return False
        if isinstance(node, ast.ImportFrom) and (node.module not in SAFE_IMPORTS or node.level):
            return False
        if isinstance(node, ast.Name) and node.id in REFLECTIVE:
            return False
        if isinstance(node, ast.Attribute) and node.attr in REFLECTIVE:
            return False
        if isinstance(node, ast.alias) and (node.asname in REFLECTIVE or node.name in REFLECTIVE):
            return False
    return True


def _dead_constants(tree: ast.Module) -> list[tuple[int, int, int]]:
    """(line, start byte, end byte) of each `NAME = 'constant'` at module level, on one line,
    whose NAME is bound once and never read, deleted or declared global/nonlocal anywhere."""
    stores: dict[str, int] = {}
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Store):
                stores[node.id] = stores.get(node.id, 0) + 1
            else:
                used.add(node.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            used.update(node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            used.add(node.name)  # rebinding a definition's name: leave such programs alone
        elif isinstance(node, ast.arg):
            used.add(node.arg)
    spans = []
    for statement in tree.body:
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            continue
        name, value = statement.targets[0].id, statement.value
        if (
            isinstance(value, ast.Constant)
            and isinstance(value.value, str)
            and value.lineno == value.end_lineno
            and name not in used
            and stores.get(name) == 1
        ):
            spans.append((value.lineno, value.col_offset, value.end_col_offset))
    return spans


def _blank(body: str, spans: list[tuple[int, int, int]]) -> str:
    lines = body.split("\n")
    for line_no, start, end in spans:
        raw = lines[line_no - 1].encode()  # ast offsets count UTF-8 bytes
        lines[line_no - 1] = (raw[:start] + b"''" + raw[end:]).decode()
    return "\n".join(lines)
