"""The same property for `rockscc build --watch`: a watcher runs while the state machine of
test_incremental_property.py edits the description; after each edit, once the watcher's rounds
are over, build/ equals a build from scratch of the same description, and every job a round
rebuilt was rebuilt for a named, changed input.

A round is over when the watcher has printed a "changed:" line after the edit and holds no build
lock: the comparison takes the build lock itself, so it never reads a half-finished round. An
edit that changed no file (a command that refused) starts no round and is compared at once.

    ROCKSCC_WATCH_EXAMPLES=50 .venv/bin/pytest tests/engine/test_watch_property.py -p no:cacheprovider
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from rockscc.engine.make import LOCK_NAME
from rockscc.errors import RocksccError
from rockscc.model import load
from rockscc.model.overlay import BUILTIN_BASE
from tests.conftest import Result
from tests.engine.differential import Build, artifacts, assert_reasons_name_inputs, assert_same_builds
from tests.engine.test_incremental_property import IncrementalBuilds, print_outcomes

EXAMPLES = int(os.environ.get("ROCKSCC_WATCH_EXAMPLES", "2"))
STEPS = int(os.environ.get("ROCKSCC_WATCH_STEPS", "8"))
ROUND_TIMEOUT_S = 120
QUIET_S = 0.7  # watchfiles batches changes 50 ms apart; a round begins well within this


class WatchedBuilds(IncrementalBuilds):
    """Every check waits for the watcher instead of building."""

    def __init__(self) -> None:
        super().__init__()
        self.watcher: subprocess.Popen | None = None
        self.watcher_args: list[str] | None = None
        self.log = self.base / "watch.log"
        self.seen = 0  # how much of the log the last check read
        self.last_round = ""  # the watcher's output of its last round (its errors are build/'s)
        self.before: dict = {}  # build/'s artifacts at the last check
        self.state = self._state()

    def teardown(self) -> None:
        self._stop_watcher()
        super().teardown()

    def check(self) -> None:
        args = [a for a in self.build_args if a.startswith("--eval")]
        if self.watcher is None or args != self.watcher_args:
            self._start_watcher(args)
        changed = self._state() != self.state
        text = self._round(changed)
        self.state = self._state()
        rounds = [r for r in text.split("\nchanged: ") if r.strip()]
        last = self.last_round = rounds[-1] if rounds else self.last_round  # no round: build/ is the last one's
        lines = last.splitlines()
        failing = any(line.startswith("error - ") for line in lines)
        incremental = Build.of(Result(1 if failing else 0, last, last), self.desc.root)
        # a job may be rebuilt by an earlier round of the same edit: its reasons count too
        incremental.rebuilt = Build.of(Result(0, text, ""), self.desc.root).rebuilt
        clean, copy = self.desc.clean_build(*args)
        with self._build_lock():
            assert_same_builds(incremental, self.desc.root, clean, copy, self.before)
            self.before = artifacts(self.desc.root / "build", self.desc.root)
        assert_reasons_name_inputs(incremental)

    # Not rules here (plain methods override IncrementalBuilds' rules): a round starts on a change
    # of the description, not of build/, so an artifact edited by hand waits for the next edit, and
    # a build killed beside the watcher is the incremental property test's (test_incremental_property).
    def killed_build(self, point) -> None:
        raise NotImplementedError

    def hand_edit_artifact(self, data, change) -> None:
        raise NotImplementedError

    # --- the watcher ----------------------------------------------------------------------------
    def _start_watcher(self, args: list[str]) -> None:
        self._stop_watcher()
        self.log.write_text("")
        self.seen = 0
        self.watcher = subprocess.Popen(
            [sys.executable, "-m", "rockscc", "-C", str(self.desc.root), "build", "--watch", "--explain", *args],
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # Ctrl-C as at a terminal, even when the suite runs as a background job (SIGINT ignored)
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.watcher_args = args
        self._wait(lambda text: "for changes (Ctrl-C to stop)" in text, "the watcher to start")
        self.state = self._state()

    def _stop_watcher(self) -> None:
        if self.watcher is not None and self.watcher.poll() is None:
            os.killpg(self.watcher.pid, signal.SIGINT)
            try:
                self.watcher.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.watcher.pid, signal.SIGKILL)
                self.watcher.wait()
        self.watcher = None

    def _round(self, changed: bool) -> str:
        """The watcher's output since the last check, once its rounds for this edit are over."""
        if changed:
            self._wait(lambda text: "changed: " in text[self.seen :], "a round after the edit")
        while True:  # quiet: no new output for a while, and no build holding the lock
            size = self.log.stat().st_size
            time.sleep(QUIET_S)
            with self._build_lock():
                if self.log.stat().st_size == size and _ended(self.log.read_text()[self.seen :]):
                    break
        text = self.log.read_text()
        new, self.seen = text[self.seen :], len(text)
        assert "Traceback" not in new, new
        return new

    def _wait(self, ready, what: str) -> None:
        deadline = time.monotonic() + ROUND_TIMEOUT_S
        while not ready(self.log.read_text()):
            assert self.watcher.poll() is None, f"the watcher exited:\n{self.log.read_text()}"
            assert time.monotonic() < deadline, f"waited {ROUND_TIMEOUT_S} s for {what}:\n{self.log.read_text()}"
            time.sleep(0.1)

    def _build_lock(self):
        outdir = self.desc.root / "build"
        outdir.mkdir(exist_ok=True)
        return _Lock(outdir / LOCK_NAME)

    def _enabled_rolls(self) -> list[Path]:
        return [p for p in _rolls_in(self.desc.root) if p.is_relative_to(self.rolls)]

    def _state(self) -> list:
        """What the watcher watches, by stat: the description (not its build) and the rolls it
        has enabled (a file of a roll it does not use changes nothing, and starts no round)."""
        found = []
        for top in (self.desc.root, *self._enabled_rolls()):
            for path in sorted(top.rglob("*")) if top.is_dir() else []:
                relative = path.relative_to(top)
                if relative.parts[0] == "build" or any(p.startswith(".") for p in relative.parts):
                    continue
                st = path.lstat()
                found.append((str(path), st.st_size, st.st_mtime_ns, st.st_ino))
        return found


def _rolls_in(root: Path) -> list[Path]:
    try:
        return [o.path for o in load(root).overlays() if not o.path.resolve().is_relative_to(BUILTIN_BASE)]
    except RocksccError:  # a description that does not load: the watcher keeps what it watched
        return []


def _ended(text: str) -> bool:
    """Whether the last round in the text is over: the watcher says it watches again."""
    return "changed: " not in text or "for changes" in text.rsplit("changed: ", 1)[-1]


class _Lock:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self):
        self.fh = open(self.path, "a")
        fcntl.flock(self.fh, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()


def test_watch_keeps_build_equal_to_a_build_from_scratch():
    run_state_machine_as_test(
        WatchedBuilds,
        settings=settings(
            max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
    print_outcomes()
