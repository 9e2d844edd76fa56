"""Jobs: the unit of incremental work. A job knows what it read (its dependencies) and what it
wrote (its outputs); the engine reruns it only when a dependency changed or an output was touched.

Two shapes cover every artifact:
- `SpecJob`: a cheap *spec* (plain JSON-able data holding everything the artifact depends on) and a
  pure *render* from spec to files. Fingerprint = hash of the spec: computed on every build.
- `DepsJob`: expensive work (compiling a kickstart) that reports the dependencies it read, as
  `key -> value` pairs (`file:…`, `attr:…`, …). On the next build only those keys are re-evaluated,
  through a `DepResolver`; the work itself runs again only if one of them changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from rockscc import __version__
from rockscc.engine.output import Output
from rockscc.errors import RocksccError


def digest(value: Any) -> str:
    """Order-independent hash of JSON-able data (dependency records come back from the manifest
    in sorted order, so key order must not matter)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def spec_digest(value: Any) -> str:
    """Hash of data built in a fixed order (specs, sorted dependency items): repr is stable and
    ~5x cheaper than sorted JSON, which counts when ten thousand jobs are checked on a no-op build."""
    return hashlib.sha256(repr(value).encode()).hexdigest()


@dataclass(slots=True)
class JobResult:
    """What a job made: its outputs, what the manifest records of it, its warnings."""

    outputs: list[Output]
    record: dict[str, Any]  # stored in the manifest: spec or deps
    warnings: list[str] = field(default_factory=list)
    shared: dict[str, Any] | None = None  # the dependency group's content (travels back from forked workers)
    memo: list = field(default_factory=list)  # new persistent-memo entries (see memo.py)
    written: list | None = None  # (path, written, stat sig, sha256) when the job wrote its outputs itself


class SpecShortcut(Protocol):
    def same(self, fingerprint: str) -> bool: ...
    def made(self, fingerprint: str) -> None: ...


@dataclass(slots=True)
class SpecJob:
    """A job whose inputs are a spec (a JSON-able value, stamped as a whole) rendered into outputs."""

    id: str
    host: str | None
    spec: Callable[[], Any]
    render: Callable[[Any], list[Output] | tuple[list[Output], list[str]]]  # outputs (, warnings)
    salt: str = ""  # the backend's template/code identity: a template change rebuilds
    reads: tuple[str, ...] | None = None  # the hosts whose records the spec reads (None: any)
    fingerprint: str | None = None
    stamp: str | None = None  # see stamps.py
    # Knows, without making the spec, when it is the one a recorded fingerprint was made from
    # (`same`); told each fingerprint made in full (`made`). See hostfacts.py: the facts base.
    shortcut: SpecShortcut | None = None
    _spec: Any = None
    _error: RocksccError | None = None  # the spec could not be made: this job's error, not the build's

    def current(self, previous: dict | None, resolver: DepResolver) -> tuple[str | None, Any]:
        recorded = previous.get("fp") if previous else None
        if recorded and self.shortcut is not None and self.shortcut.same(recorded):
            return recorded, None  # run() makes the spec if the outputs turn out damaged
        try:
            self._spec = self.spec()
        except RocksccError as exc:
            self._error = exc
            return None, None  # stale: run() reports it
        fingerprint = spec_digest([__version__, self.salt, self._spec])
        if self.shortcut is not None:
            self.shortcut.made(fingerprint)
        return fingerprint, self._spec

    def run(self, resolver: DepResolver) -> JobResult:
        if self._error is not None:
            raise self._error
        spec = self._spec if self._spec is not None else self.spec()
        if spec is None:
            return JobResult([], {"spec": None})
        rendered = self.render(spec)
        outputs, warnings = rendered if isinstance(rendered, tuple) else (rendered, [])
        return JobResult(outputs, {"spec": spec}, warnings)

    def explain(self, previous: dict, resolver: DepResolver) -> str:
        return _diff_explain(previous.get("spec"), self._spec)


@dataclass(slots=True)
class DepsJob:
    """A job whose inputs are the dependency keys its work reads through a DepResolver."""

    id: str
    host: str | None
    work: Callable[[DepResolver], tuple[list[Output], dict[str, str], list[str]]]
    salt: str = ""
    reads: tuple[str, ...] | None = None  # the hosts whose records the work reads (None: any)
    fingerprint: str | None = None
    stamp: str | None = None  # see stamps.py

    def current(self, previous: dict | None, resolver: DepResolver) -> tuple[str | None, Any]:
        """The fingerprint of the recorded dependencies' current values (None: must run)."""
        if not previous or "deps" not in previous:
            return None, None
        group = previous.get("group")
        if group is not None and not resolver.group_holds(group, self.host):
            return None, None
        now = [(key, resolver.value(key, self.host)) for key in sorted(previous["deps"])]
        return spec_digest([__version__, self.salt, now, group]), None

    def run(self, resolver: DepResolver) -> JobResult:
        outputs, deps, warnings = self.work(resolver)
        own, group, shared = resolver.split_group(deps)
        return JobResult(outputs, {"deps": own, "group": group}, warnings, shared)

    def fingerprint_of(self, record: dict) -> str:
        return spec_digest([__version__, self.salt, sorted(record["deps"].items()), record.get("group")])

    def explain(self, previous: dict, resolver: DepResolver) -> str:
        shared = resolver.groups.get(previous.get("group"), {})
        for key, old in sorted({**shared, **previous.get("deps", {})}.items()):
            if resolver.value(key, self.host) != old:
                return describe_change(key)
        return "its inputs changed"


_STR_OR_NONE = frozenset({str, type(None)})


class DepResolver:
    """Current values of dependency keys, memoized for one build.

    `context(host)` names the hosts whose non-intrinsic attributes are equal (same appliance,
    os and host-level attributes); a dependency group, which holds only keys whose values are the
    same for all hosts of one context, is then checked once per (group, context)."""

    def __init__(self) -> None:
        self.handlers: dict[str, Callable[[str, str | None], str | None]] = {}
        self._memo: dict[tuple[str, str | None], str | None] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.context: Callable[[str | None], Any] = lambda host: host
        self.host_specific = lambda key: key.startswith(("hw:",))
        self._group_memo: dict[tuple[str, Any], bool] = {}
        self._group_digests: dict[frozenset, str] = {}  # a group's content -> digest(content)
        self._group_by_values: dict[tuple, str] = {}  # (its keys, its values) -> digest(content)

    @property
    def host_specific(self) -> Callable[[str], bool]:
        return self._host_specific

    @host_specific.setter
    def host_specific(self, test: Callable[[str], bool]) -> None:
        self._host_specific = test
        self._specific: dict[str, bool] = {}  # key -> test(key): thousands of hosts share their keys
        self._parted: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...]]] = {}  # keys -> (own, shared)

    def register(self, prefix: str, handler: Callable[[str, str | None], str | None], *, per_host: bool) -> None:
        self.handlers[prefix] = (handler, per_host)

    def value(self, key: str, host: str | None) -> str | None:
        prefix, _, rest = key.partition(":")
        handler, per_host = self.handlers.get(prefix, (None, False))
        if handler is None:
            return "\0unknown"  # a dependency kind this build cannot evaluate: treat as changed
        memo_key = (key, host if per_host else None)
        if memo_key not in self._memo:
            self._memo[memo_key] = handler(rest, host)
        return self._memo[memo_key]

    def split(self, deps: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(host-specific dependencies, dependencies shared by every host of the same context),
        each in the order of `deps`."""
        own, shared, specific = {}, {}, self._specific
        for key, value in deps.items():
            mine = specific.get(key)
            if mine is None:
                mine = specific[key] = bool(self._host_specific(key))
            (own if mine else shared)[key] = value
        return own, shared

    def split_group(self, deps: dict[str, Any]) -> tuple[dict[str, Any], str, dict[str, Any]]:
        """(host-specific dependencies, group_digest of the shared ones, the shared ones), as
        split and group_digest make them. The hosts of one record read the same keys in the same
        order: how that sequence splits is remembered by it, and the group's digest by its keys
        and values in order (only str/None values: True == 1 in a tuple, not in JSON) — no
        per-key work a host but taking its values."""
        keys = tuple(deps)
        parted = self._parted.get(keys)
        if parted is None:
            own, shared = self.split(deps)
            if len(self._parted) > 256:
                self._parted.clear()
            parted = self._parted[keys] = (tuple(own), tuple(shared))
        own_keys, shared_keys = parted
        values = tuple(map(deps.__getitem__, shared_keys))
        shared = dict(zip(shared_keys, values))
        own = {key: deps[key] for key in own_keys}
        if not _STR_OR_NONE.issuperset(map(type, values)):
            return own, digest(shared), shared
        content = (shared_keys, values)
        found = self._group_by_values.get(content)
        if found is None:
            if len(self._group_by_values) > 1024:
                self._group_by_values.clear()
            found = self._group_by_values[content] = self.group_digest(shared)
        return own, found, shared

    def group_digest(self, shared: dict[str, Any]) -> str:
        """digest(shared), remembered by content: the hosts of one walk and attribute context
        share their group, and hashing a set of ~150 items is cheaper than sorting them into
        JSON. Only for str/None values (True == 1 in a set, not in JSON)."""
        if not _STR_OR_NONE.issuperset(map(type, shared.values())):
            return digest(shared)
        content = frozenset(shared.items())
        found = self._group_digests.get(content)
        if found is None:
            if len(self._group_digests) > 1024:
                self._group_digests.clear()
            found = self._group_digests[content] = digest(shared)
        return found

    def group_holds(self, group: str, host: str | None) -> bool:
        key = (group, self.context(host))
        if key not in self._group_memo:
            recorded = self.groups.get(group)
            self._group_memo[key] = recorded is not None and all(self.value(k, host) == v for k, v in recorded.items())
        return self._group_memo[key]


def describe_change(key: str) -> str:
    prefix, _, rest = key.partition(":")
    words = {
        "file": f"{rest} changed",
        "attr": f"host attribute {rest} changed",
        "nodes": f"the files defining node {rest} changed (added, removed or shadowed)",
        "graph": f"the files of graph {rest} changed (added, removed or renamed)",
        "include": f"the file include/{rest} resolves to changed (added, removed or shadowed)",
        "walk": "the host's appliance graph or root node changed",
        "env": "the host's attributes changed (an <eval> runs with all of them)",
        "opt": f"build option {rest} changed",
        "hw": "the host's declared hardware changed",
        "model": f"{rest} changed",
    }
    return words.get(prefix, f"{key} changed")


def _diff_explain(old: Any, new: Any, path: str = "") -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                return _diff_explain(old.get(key), new.get(key), f"{path}.{key}" if path else key)
    if old == new:
        return "its inputs changed"
    return f"{path or 'spec'} changed ({_short(old)} -> {_short(new)})"


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
