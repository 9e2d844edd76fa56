"""Regular expressions compiled when first used. A module-level `re.compile` is paid at import by
every command that imports the module, whether or not it matches anything: the patterns of the
modules a no-op build imports cost ~10–30 ms of its start on this VM (issue 17), most of them
validating values the build never reads again (an IGNORECASE pattern compiles slowest)."""

from __future__ import annotations

import re


class LazyPattern:
    """Stands for `re.compile(pattern, flags)`: its first use compiles the pattern and keeps the
    compiled pattern's methods, so later matches cost what the compiled pattern's do."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern, self.flags = pattern, flags

    def __getattr__(self, name: str):  # only what is not set yet: the first use
        compiled = re.compile(self.pattern, self.flags)
        for method in ("match", "fullmatch", "search", "sub", "subn", "split", "findall", "finditer"):
            setattr(self, method, getattr(compiled, method))
        self.__dict__.setdefault("compiled", compiled)
        return getattr(compiled, name)
