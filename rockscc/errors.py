"""The one exception type users see, and the diagnostic record compilers collect."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property


class RocksccError(Exception):
    """An error a user can act on. Printed as `error - <message>`, never as a traceback."""

    def __init__(self, message: str, *, location: str | None = None) -> None:
        self.message = message
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


@dataclass(frozen=True, order=True)
class Diagnostic:
    """A warning or error with the place it comes from (`file:line` when known)."""

    file: str
    line: int
    message: str
    severity: str = "warning"

    @classmethod
    def at(cls, origin: str, message: str) -> Diagnostic:
        """A warning at `origin`, a compiled element's "file:line"."""
        file, line = origin.rsplit(":", 1)
        return cls(file, int(line), message)

    def __str__(self) -> str:
        return self.text

    @cached_property
    def text(self) -> str:
        """The line users see, made once per diagnostic: the hosts of one record share their
        Diagnostic objects (~30 a host with evals off), so their jobs report the same strings,
        which a forked worker's batch of results then pickles once."""
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: {self.message}" if where else f"{self.severity}: {self.message}"


def shown(value: str) -> str:
    """A value in a message: quoted, control characters escaped (a message is one line)."""
    return json.dumps(value, ensure_ascii=False)


def printable(text: str, keep: str = "\n") -> str:
    """A message as written to the user's terminal: every character that is not printable and not
    in `keep` (ESC, CR, BEL, C1 controls, U+2028 …) as an escape (\\x1b). Messages carry what
    sandboxed programs printed and what the description holds, serve's log what clients sent
    (keep=""): that reaches the terminal as text, never as control sequences (a cleared screen,
    a title, a clipboard, a line overwritten)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in keep else repr(c)[1:-1] for c in text)
