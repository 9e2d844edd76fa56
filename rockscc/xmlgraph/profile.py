"""The profile: what one host's kickstart is made of, between expanding and rendering."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Script:
    """A `%pre` or `%post` section: its node, header options and expanded body."""

    kind: str  # pre | post
    body: str
    arg: str = ""
    interpreter: str = ""
    origin: str = ""  # nodes/x.xml:LINE
    node: str = ""  # nodes/x.xml (base)


@dataclass
class Profile:
    """A host's expanded profile: the kickstart sections before rendering."""

    host: str
    nodes: list[str] = field(default_factory=list)  # "nodes/x.xml (base)" in traversal order
    commented: list[str] = field(default_factory=list)  # nodes listed in the traversal comment
    debug: list[str] = field(default_factory=list)
    main: list[tuple[str, str]] = field(default_factory=list)  # (line, origin)
    packages: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    package_origins: dict[str, str] = field(default_factory=dict)  # name -> nodes/x.xml:LINE of its first <package>
    debian_names: dict[str, str] = field(default_factory=dict)  # name -> <package debian="…"> (Debian dialects)
    pre: list[Script] = field(default_factory=list)
    post: list[Script] = field(default_factory=list)
    boot_pre: list[str] = field(default_factory=list)
    boot_post: list[str] = field(default_factory=list)
    # the names in packages and disabled, kept beside the lists by enable/disable: a host's ~70
    # package operations each scanned a list of up to ~200 names (replays run them all)
    _enabled: set[str] = field(init=False, repr=False, compare=False)
    _disabled: set[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._enabled, self._disabled = set(self.packages), set(self.disabled)

    def enable(self, name: str) -> None:
        if name in self._disabled:
            self._disabled.discard(name)
            self.disabled.remove(name)
        if name not in self._enabled:
            self._enabled.add(name)
            self.packages.append(name)

    def disable(self, name: str) -> None:
        if name not in self._enabled and name not in self._disabled:  # a disable never beats an enable
            self._disabled.add(name)
            self.disabled.append(name)
