"""The differential check of incremental builds: a description under edits, built incrementally in
place, and compared after each build with a build from scratch of a copy of the same description
(another directory, a new build directory, nothing carried over). Shared by the property tests
(test_incremental_property.py) and the regression tests their failures left behind.

What "the same" means: every artifact under build/ (not the build log, the memo or the lock) has
the same bytes and the same mode, after the description's own path is replaced by a placeholder
(the network configs name the build directory). When a build fails, both must fail for the same
jobs with the same messages, and the artifacts of every other job must still be the same; a build
that stops before any job (one error, no job named) must leave build/ as it was.
"""

from __future__ import annotations

import itertools
import re
import shutil
import signal
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from rockscc.engine.manifest import Manifest
from tests.conftest import Result, run_cli

NOT_ARTIFACTS = (".rockscc-", ".rockscc-cache")  # the build log, the memo, the lock, serve's state
GENERIC_REASONS = ("its inputs changed", "")
_REBUILT = re.compile(r"^rebuilt (\S+): (.*)$")
_ERROR = re.compile(r"^error - ([a-z]+:[^\s:]+): (.*)$")  # a job's: profile:HOST, net:cluster …
_counter = itertools.count()


@dataclass
class Build:
    """One `rockscc build` as its command line reported it."""

    result: Result
    rebuilt: dict[str, str] = field(default_factory=dict)  # job id -> --explain's reason
    errors: dict[str, str] = field(default_factory=dict)  # job id -> message
    failed: str | None = None  # a build stopped before any job (one line, no job named)

    @classmethod
    def of(cls, result: Result, root: Path) -> Build:
        build = cls(result)
        for line in result.out.splitlines():
            if match := _REBUILT.match(line):
                build.rebuilt[match[1]] = match[2]
        for line in result.err.splitlines():
            if match := _ERROR.match(line):
                build.errors[match[1]] = normalized_text(match[2], root)
        if result.rc != 0 and not build.errors:
            lines = [line for line in result.err.splitlines() if line.startswith("error - ")]
            build.failed = normalized_text(lines[-1] if lines else result.err.strip(), root)
        return build


class Description:
    """A cluster description in `base`/cluster, edited through the command line and by hand."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "cluster"
        result = run_cli("init", str(self.root), "password=secret")
        assert result.rc == 0, result.err

    # --- editing --------------------------------------------------------------------------------
    def cli(self, *argv: str) -> Result:
        return run_cli("-C", str(self.root), *argv)

    def must(self, *argv: str) -> Result:
        result = self.cli(*argv)
        assert result.rc == 0, (argv, result.err)
        return result

    def write(self, relpath: str, text: str | bytes, base: Path | None = None) -> None:
        path = (base or self.root) / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())

    # --- building -------------------------------------------------------------------------------
    def build(self, *argv: str) -> Build:
        """The incremental build, as a user runs it, saying why it rebuilt each job."""
        return Build.of(self.cli("build", "--explain", *argv), self.root)

    def clean_build(self, *argv: str) -> tuple[Build, Path]:
        """A build from scratch of a copy of the description (its build directory and caches left
        behind), in a directory of its own."""
        copy = self.base / f"clean-{next(_counter)}"
        shutil.copytree(
            self.root,
            copy,
            symlinks=True,
            ignore=lambda directory, names: [n for n in names if n == "build" or n.startswith(".")],
        )
        return Build.of(run_cli("-C", str(copy), "build", *argv), copy), copy

    def check(self, *argv: str, touched: bool = False) -> Build:
        """Build incrementally, build the copy from scratch, and compare (module docstring).
        `touched`: outputs were changed since the last check outside builds that ran to their end
        (a killed build, a hand edit), so a rebuild may say so."""
        before = artifacts(self.root / "build", self.root)
        incremental = self.build(*argv)
        clean, copy = self.clean_build(*argv)
        try:
            assert_same_builds(incremental, self.root, clean, copy, before)
            assert_reasons_name_inputs(incremental, touched_allowed=touched)
        finally:
            shutil.rmtree(copy, ignore_errors=True)
        return incremental

    def killed_build(self, point: str, *argv: str) -> None:
        """A `rockscc build` in a process of its own, SIGKILLed at `point` (KILL_POINTS): what
        a crash, the OOM killer or a power-off of the build alone leaves in build/."""
        function, count, after = KILL_POINTS[point]
        script = _KILLED_AT.format(function=function, count=count, after=after)
        proc = subprocess.run(
            [sys.executable, "-c", script, "-C", str(self.root), "build", *argv], capture_output=True, text=True
        )
        # 0 or 1: it never reached the point (nothing to do; jobs that failed), and ended as a build does
        assert proc.returncode in (-signal.SIGKILL, 0, 1), proc.stderr


# Where killed_build kills a build: (a function of rockscc.engine.make, which of its calls in the
# build process, after that call rather than before it): while writing (the first or the third
# job's files written, the rest not; with two compile jobs or more, forked workers write theirs
# meanwhile, and finish their batch after the build process is gone), every file written but none
# removed, everything done but the build log saved.
KILL_POINTS = {
    "after one job's files": ("_write", 1, True),
    "after three jobs' files": ("_write", 3, True),
    "before removing orphans": ("_remove_orphans", 1, False),
    "before saving the log": ("_save_manifest", 1, False),
}
_KILLED_AT = """
import os, signal, sys
from rockscc.engine import make
make.PARALLEL_THRESHOLD = 2  # forked workers write the kickstarts meanwhile, as at scale
main_pid, real, calls = os.getpid(), make.{function}, []
def killed(*args, **kwargs):
    mine = os.getpid() == main_pid
    if mine:
        calls.append(1)
    if mine and len(calls) == {count} and not {after}:
        os.kill(main_pid, signal.SIGKILL)
    result = real(*args, **kwargs)
    if mine and len(calls) == {count}:
        os.kill(main_pid, signal.SIGKILL)
    return result
make.{function} = killed
from rockscc.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def assert_same_builds(
    incremental: Build, root: Path, clean: Build, copy: Path, before: dict[str, tuple[bytes, int]]
) -> None:
    """`before`: the artifacts before the incremental build (what one that stops before any job,
    e.g. on a description that does not load, must leave as they were)."""
    assert incremental.failed == clean.failed, (incremental.result.err, clean.result.err)
    assert incremental.errors == clean.errors, (incremental.result.err, clean.result.err)
    assert incremental.result.rc == clean.result.rc, (incremental.result.err, clean.result.err)
    if incremental.failed is not None:
        assert artifacts(root / "build", root) == before, "a build that stopped before any job changed build/"
        return
    failing = set(incremental.errors)
    kept = _outputs_of(root / "build", failing)  # a failing job keeps its previous files; a new build has none
    mine, theirs = artifacts(root / "build", root), artifacts(copy / "build", copy)
    for path in kept:
        mine.pop(path, None)
    assert set(mine) == set(theirs), (
        f"only incremental: {sorted(set(mine) - set(theirs))}; only from scratch: {sorted(set(theirs) - set(mine))}"
    )
    different = sorted(path for path in mine if mine[path] != theirs[path])
    assert not different, f"differ from a build from scratch: {different}\n" + _first_difference(
        different[0], mine, theirs
    )


def assert_reasons_name_inputs(build: Build, *, touched_allowed: bool = False) -> None:
    """--explain names, for every job it rebuilt, an input that changed (or says it is new);
    none finds its outputs changed unless something did (`touched_allowed`: a killed build)."""
    vague = {job: why for job, why in build.rebuilt.items() if why in GENERIC_REASONS}
    assert not vague, f"rebuilt without naming a changed input: {vague}"
    if touched_allowed:
        return
    touched = {job: why for job, why in build.rebuilt.items() if "changed outside rockscc" in why}
    assert not touched, f"outputs nobody touched were found changed: {touched}"


def artifacts(outdir: Path, root: Path) -> dict[str, tuple[bytes, int]]:
    """Every artifact's bytes (the description's path replaced) and permission bits."""
    found = {}
    if not outdir.is_dir():
        return found
    marker = str(root).encode()
    for path in sorted(outdir.rglob("*")):
        relative = path.relative_to(outdir)
        if any(part.startswith(NOT_ARTIFACTS) for part in relative.parts) or not path.is_file():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        found[str(relative)] = (path.read_bytes().replace(marker, b"<ROOT>"), mode)
    return found


def normalized_text(text: str, root: Path) -> str:
    return text.replace(str(root), "<ROOT>")


def _outputs_of(outdir: Path, jobs: set[str]) -> set[str]:
    if not jobs or not (outdir / ".rockscc-manifest.sqlite").exists():
        return set()
    manifest = Manifest.load(outdir)
    try:
        return {path for job in jobs if manifest.jobs.get(job) is not None for path in manifest.jobs.output_paths(job)}
    finally:
        manifest.close()


def _first_difference(path: str, mine: dict, theirs: dict) -> str:
    (a, mode_a), (b, mode_b) = mine[path], theirs[path]
    if mode_a != mode_b:
        return f"{path}: mode {oct(mode_a)} incremental, {oct(mode_b)} from scratch"
    import difflib

    diff = difflib.unified_diff(
        b.decode(errors="replace").splitlines(),
        a.decode(errors="replace").splitlines(),
        "from scratch",
        "incremental",
        lineterm="",
        n=2,
    )
    return "\n".join(list(diff)[:40])
