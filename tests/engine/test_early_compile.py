"""Attacks on the early compile (engine/early.py): a worker forked once the changed hosts are known
compiles their kickstarts while the build plans, and writes them only when the stale check asks.
Each change is checked against a build from scratch (tests/engine/differential.py), with the
worker seen answering; then the worker is made to die, to be killed while it writes, and the
build to fail, be interrupted or be killed around it: no stray process, no half-written file,
and the next build is still exact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rockscc.engine import early, make
from tests.engine.differential import Description

HOSTS = ("compute-0-0", "compute-0-1", "compute-0-2")
KICKSTART = "build/kickstart/compute-0-0.ks"


@pytest.fixture
def desc(tmp_path):
    d = Description(tmp_path)
    for name in HOSTS:
        d.must("add", "host", name)
    d.check()
    return d


@pytest.fixture
def workers(monkeypatch):
    """Every early worker of the test's builds: [(pid, its answers or None if never asked)]."""
    seen: list[list] = []
    start, outcomes = early.EarlyCompile.start.__func__, early.EarlyCompile.outcomes

    def started(cls, *args):
        worker = start(cls, *args)
        if worker is not None:
            seen.append([worker.pid, None])
        return worker

    def answered(self):
        pid = self.pid
        found = outcomes(self)
        next(entry for entry in seen if entry[0] == pid)[1] = found
        return found

    monkeypatch.setattr(early.EarlyCompile, "start", classmethod(started))
    monkeypatch.setattr(early.EarlyCompile, "outcomes", answered)
    return seen


def gone(pid: int) -> bool:
    """The process is reaped (or a zombie nobody waits for: dead all the same)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def temp_files(root: Path) -> list[Path]:
    return [p for p in (root / "build").rglob(".*") if ".tmp" in p.name]


def hand_edit(desc) -> None:
    """compute-0-0's file edited in place, its size and mtime put back (only the ctime tells)."""
    path = desc.root / "hosts/compute-0-0.toml"
    desc.must("set", "host", "attr", "compute-0-0", "Kickstart_Timezone", "Europe/Oslo")
    desc.check()
    time.sleep(2.1)  # no longer racily recent
    st = path.stat()
    path.write_text(path.read_text().replace("Europe/Oslo", "Europe/Rome"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


CHANGES = {
    "head attribute": lambda d: d.must("set", "host", "attr", "compute-0-0", "Kickstart_Timezone", "Asia/Tokyo"),
    "%post attribute": lambda d: d.must("set", "host", "attr", "compute-0-0", "Kickstart_PrivateNTPHost", "10.1.1.9"),
    "two hosts": lambda d: [
        d.must("set", "host", "attr", h, "Kickstart_Timezone", "Asia/Tokyo") for h in ("compute-0-0", "compute-0-2")
    ],
    "node file": lambda d: (
        d.write("nodes/site-extra.xml", "<kickstart><post>echo early</post></kickstart>")
        or d.write("graphs/default/site.xml", '<graph><edge from="compute" to="site-extra"/></graph>')
    ),
    "host file by hand": hand_edit,
    "a host added": lambda d: d.must("add", "host", "compute-0-3"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_each_change_equals_a_build_from_scratch(desc, workers, change):
    CHANGES[change](desc)
    before = len(workers)
    build = desc.check()  # the incremental build, then one from scratch (each with its worker)
    answers = workers[before][1]  # the incremental build's worker
    assert answers, "no early worker delivered a kickstart"
    assert set(answers) == {job for job in build.rebuilt if job.startswith("profile:")}
    assert all(gone(pid) for pid, _ in workers)
    assert not temp_files(desc.root)


def test_a_change_the_kickstart_does_not_read_writes_nothing(desc, workers):
    """The worker compiles the changed host, the stale check finds its kickstart fresh (a PXE
    flag only the boot files read): the worker is ended unasked, having written nothing."""
    before = (desc.root / KICKSTART).stat().st_mtime_ns
    desc.must("set", "host", "pxeboot", "compute-0-0", "action=os")
    build = desc.check()
    assert "profile:compute-0-0" not in build.rebuilt and build.rebuilt
    pid, answers = workers[0]  # the incremental build's
    assert answers is None and gone(pid)
    assert (desc.root / KICKSTART).stat().st_mtime_ns == before


def test_a_removed_output_of_a_changed_host(desc, workers):
    """The changed host's kickstart is fresh by its inputs but deleted: rebuilt by the build
    itself after the worker was ended unasked."""
    desc.must("set", "host", "pxeboot", "compute-0-0", "action=os")
    (desc.root / KICKSTART).unlink()
    build = desc.build()
    assert build.rebuilt["profile:compute-0-0"] == "an output is missing or was changed outside rockscc"
    assert workers[0][1] is None and gone(workers[0][0])
    assert desc.check().rebuilt == {}  # and it is what a build from scratch writes


def test_one_worker_asked_for(desc, workers):
    desc.must("set", "host", "attr", "compute-0-1", "Kickstart_Timezone", "Asia/Tokyo")
    desc.check("-j1")
    assert workers == []


def in_worker(parent: int) -> bool:
    return os.getpid() != parent


def test_the_worker_dies_before_answering(desc, workers, monkeypatch):
    parent, compute = os.getpid(), make._compute

    def dying(job, resolver, memo):
        if in_worker(parent):
            os.kill(os.getpid(), signal.SIGKILL)
        return compute(job, resolver, memo)

    monkeypatch.setattr(make, "_compute", dying)
    desc.must("set", "host", "attr", "compute-0-0", "Kickstart_Timezone", "Asia/Tokyo")
    build = desc.check()
    assert "profile:compute-0-0" in build.rebuilt
    assert workers and workers[0][1] == {} and gone(workers[0][0])


def test_the_worker_killed_while_it_writes(desc, workers, monkeypatch):
    """Killed between a temp file and its rename: the build sweeps the temp file and writes the
    kickstart itself."""
    parent = os.getpid()
    written_here = make._written_here

    def killed(job_id, result, outdir):
        if in_worker(parent):
            (outdir / "kickstart" / f".compute-0-0.ks.tmp{os.getpid()}").write_text("half")
            os.kill(os.getpid(), signal.SIGKILL)
        return written_here(job_id, result, outdir)

    monkeypatch.setattr(make, "_written_here", killed)
    desc.must("set", "host", "attr", "compute-0-0", "Kickstart_Timezone", "Asia/Tokyo")
    desc.check()
    assert "Asia/Tokyo" in (desc.root / KICKSTART).read_text()
    assert workers and workers[0][1] == {} and gone(workers[0][0])
    assert not temp_files(desc.root)


@pytest.mark.parametrize("fault", [RuntimeError("a bug in the stale check"), KeyboardInterrupt()])
def test_the_build_fails_after_the_fork(desc, workers, monkeypatch, fault):
    """An error (or Ctrl-C) in the build after the worker started: the worker is ended, nothing
    of its work is written, and the next build is exact."""
    old = (desc.root / KICKSTART).read_text()

    def failing(*args):
        time.sleep(0.5)  # the worker has compiled by now: it must still not write
        raise fault

    monkeypatch.setattr(make, "_stale_jobs", failing)
    desc.must("set", "host", "attr", "compute-0-0", "Kickstart_Timezone", "Asia/Tokyo")
    assert desc.cli("build").rc != 0
    assert workers and all(gone(pid) for pid, _ in workers)
    assert (desc.root / KICKSTART).read_text() == old
    assert not temp_files(desc.root)
    monkeypatch.undo()
    build = desc.check()
    assert "profile:compute-0-0" in build.rebuilt


def test_the_build_killed_while_the_worker_compiles(desc):
    """SIGKILL of the build's process: its worker does not outlive it, and writes nothing."""
    desc.must("set", "host", "attr", "compute-0-0", "Kickstart_Timezone", "Asia/Tokyo")
    old = (desc.root / KICKSTART).read_text()
    pidfile = desc.base / "worker.pid"
    script = textwrap.dedent(
        f"""
        import os, signal
        from rockscc.cli.main import main
        from rockscc.engine import early, make
        start = early.EarlyCompile.start.__func__
        def started(cls, *args):
            worker = start(cls, *args)
            open({str(pidfile)!r}, "w").write(str(worker.pid))
            return worker
        early.EarlyCompile.start = classmethod(started)
        def killed(*args):
            os.kill(os.getpid(), signal.SIGKILL)
        make._stale_jobs = killed
        main(["-C", {str(desc.root)!r}, "build"])
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    worker = int(pidfile.read_text())
    deadline = time.monotonic() + 10
    while not gone(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(worker), "the early worker outlived its build"
    assert (desc.root / KICKSTART).read_text() == old
    build = desc.check()
    assert "profile:compute-0-0" in build.rebuilt
    assert not temp_files(desc.root)
