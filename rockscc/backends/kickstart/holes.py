"""A kickstart head as a skeleton shared by many hosts plus the host's own lines ("holes").

Hosts of one appliance differ in their kickstart head mostly where the built-in networking node
writes the host name (`network --hostname=compute-0-3.local`): one line. Validating each head
whole cost pykickstart ~7 ms per host (it rebuilds the argument parsers of every command it
resets). Instead the head is split: the skeleton, with each hole line blanked, is what many hosts
share and is validated once (Validator memoizes it); each hole line is validated alone, by
pykickstart, on its own.

Why the verdicts agree (what the property test in tests/xmlgraph/test_holes.py checks on
generated values, and its test_hole_commands_stay_line_local and
test_no_pykickstart_code_reads_a_hole_command check against the installed pykickstart): a
HOLE_COMMANDS command is *line-local* — its parse reads only its own arguments (a duplicate only
warns, and rockscc ignores warnings), no command lists it as conflicting, and no other command
or section reads its state. So for a head H with a hole
line L, pykickstart accepts H exactly when it accepts H with L blanked and accepts L alone.
The split follows pykickstart's reading: lines as str.splitlines cuts them, the main section
ending at the first line shlex reads as a section header; a line is a hole only there.
"""

from __future__ import annotations

import shlex
from functools import lru_cache

# Reviewed against pykickstart 3.78 for every dialect of dialects.py; the test named above
# fails when an installed pykickstart makes one of them non-local.
HOLE_COMMANDS = frozenset({"network"})
_NOT_SECTIONS = ("%include", "%ksappend")  # lines starting with % that stay in the main section


def split_holes(head: str) -> tuple[str, tuple[str, ...]]:
    """(the head with each hole line blanked, the hole lines as pykickstart reads them, with
    their line ends). A head without holes comes back unchanged."""
    if not _may_hold_holes(head):
        return head, ()  # a corpus-style head: ~3 µs instead of ~70 µs (a miss could only cost speed)
    lines = head.splitlines(keepends=True)
    holes: list[str] = []
    for index, line in enumerate(lines):
        if "%" in line and _starts_section(line):
            break
        words = line.split(None, 1)
        if words and words[0] in HOLE_COMMANDS:
            holes.append(line)
            lines[index] = "\n"
    if not holes:
        return head, ()
    return "".join(lines), tuple(holes)


def _may_hold_holes(head: str) -> bool:
    """Whether some hole command stands between white space (str.isspace: line separators
    included) or the text's ends, as the first word of a hole line does. str.find runs in C."""
    for word in HOLE_COMMANDS:
        start = head.find(word)
        while start != -1:
            end = start + len(word)
            if (start == 0 or head[start - 1].isspace()) and (end == len(head) or head[end].isspace()):
                return True
            start = head.find(word, end)
    return False


@lru_cache(maxsize=1024)  # the same few lines (`%packages …`) in every host's head
def _starts_section(line: str) -> bool:
    """Whether pykickstart's state machine leaves the main section at this line: it skips blank
    and comment lines, splits the others with shlex and looks at the first word. Only a line
    whose first character after shlex's white space is %, a quote or a backslash can give a
    first word starting with %; `%include PATH` (the one such line rockscc writes) gives
    %include, which stays. An unsplittable line ends the search too: the skeleton keeps
    everything after it, and pykickstart rejects it there."""
    if line.isspace() or line.lstrip().startswith("#"):
        return False
    start = line.lstrip(_SHLEX_SPACE)
    if start[:1] not in _MAY_START_SECTION:
        return False
    if start.startswith(("%include ", "%include\t")):
        return False
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return True
    return bool(words) and words[0].startswith("%") and words[0] not in _NOT_SECTIONS


_SHLEX_SPACE = " \t\r\n"  # shlex.whitespace
_MAY_START_SECTION = frozenset("%\"'\\")
