"""The parent process's shortcuts in a build (engine/make.py), each tried where it would go wrong.

- A job the build log has no record of is stale without its check: a spec job's spec and
  fingerprint are made when it runs, not in the serial stale check. What it records must be what
  the exact check computes later (else every later build would rebuild it, or worse, keep it),
  and a spec that cannot be made must still be that job's error, reported as before.
- A compile job's fingerprint and its record's text in the build log are made in the worker that
  ran it: the log must be byte for byte what the build process would have written.
"""

from __future__ import annotations

import marshal
import shutil
import sqlite3
from contextlib import closing

from rockscc.engine import make
from rockscc.engine.jobs import SpecJob
from rockscc.engine.manifest import NAME as MANIFEST
from rockscc.engine.manifest import Manifest
from rockscc.model import load
from rockscc.pipeline import CompileOptions, Session
from tests.conftest import run_cli


def _cluster(root, *edits):
    for cmd in (
        ["add", "host", "compute-0-0"],
        ["add", "host", "vm-container-0-0"],
        ["add", "host", "vm", "vm-container-0-0", "membership=Compute"],
        *edits,
    ):
        assert run_cli("-C", str(root), *cmd).rc == 0, cmd


def _build(root, out, **kw) -> make.BuildReport:
    return Session(load(root), CompileOptions(evals=False)).build(make.BuildOptions(out=out, explain=True, **kw))


def test_a_spec_job_built_without_a_record_records_the_fingerprint_its_exact_check_computes(cluster_dir, tmp_path):
    _cluster(cluster_dir)
    out = tmp_path / "fresh"
    first = _build(cluster_dir, out)
    assert not first.errors and all(why == "new" for _, why in first.rebuilt)
    session = Session(load(cluster_dir), CompileOptions(evals=False))
    manifest = Manifest.load(out)
    try:
        jobs = [job for job in session.jobs(make.DepResolver(), manifest, out, None) if isinstance(job, SpecJob)]
        assert {job.id.partition(":")[0] for job in jobs} >= {"boot", "vm", "net", "tftp"}
        for job in jobs:
            recorded = manifest.jobs.get(job.id)
            job.shortcut = None  # the fingerprint made in full, as the stale check makes it
            assert recorded["fp"] == job.current(None, make.DepResolver())[0], job.id
    finally:
        manifest.close()
    # every job's stamp changes (a global attribute no spec reads): each is checked exactly, none rebuilt
    assert run_cli("-C", str(cluster_dir), "set", "attr", "nobody_reads_this", "x").rc == 0
    again = _build(cluster_dir, out)
    assert again.rebuilt == [] and again.fresh == again.jobs


def test_a_spec_that_cannot_be_made_without_a_record_is_that_jobs_error(cluster_dir, tmp_path):
    _cluster(cluster_dir, ["set", "host", "attr", "vm-container-0-0", "vm_bridge", "bad bridge"])
    out = tmp_path / "fresh"
    report = _build(cluster_dir, out)
    assert len(report.errors) == 1 and report.errors[0].startswith("vm:compute-0-0-0: VM container vm-container-0-0")
    assert "vm_bridge" in report.errors[0]
    assert (out / "kickstart" / "compute-0-0-0.ks").exists()  # the others are built
    assert ("vm:compute-0-0-0", "new") in report.rebuilt
    # mended: the job without a record runs, the rest is up to date
    assert run_cli("-C", str(cluster_dir), "set", "host", "attr", "vm-container-0-0", "vm_bridge", "br7").rc == 0
    mended = _build(cluster_dir, out)
    assert not mended.errors and dict(mended.rebuilt).get("vm:compute-0-0-0") == "new"
    assert "br7" in (out / "libvirt" / "compute-0-0-0.xml").read_text()


def _log_rows(out) -> list[tuple]:
    """The build log's job rows, output mtimes left out (two builds write at different times)."""
    with closing(sqlite3.connect(out / MANIFEST)) as log:
        rows = log.execute("SELECT id, host, stamp, grp, sigs, record FROM jobs ORDER BY id").fetchall()
    return [(*row[:4], [x for i, x in enumerate(marshal.loads(row[4])) if i % 3 != 2], row[5]) for row in rows]


def test_records_encoded_by_the_workers_are_the_ones_the_build_process_would_write(cluster_dir, tmp_path, monkeypatch):
    # a compile job's fingerprint and record text are made in the forked worker that ran it: the
    # log must hold byte for byte what the build process makes from the record it keeps
    monkeypatch.setattr(make, "PARALLEL_THRESHOLD", 2)
    _cluster(cluster_dir, ["add", "host", "compute-0-1"], ["add", "host", "nas-0-0"])
    out = tmp_path / "out"
    assert not _build(cluster_dir, out, jobs=2).errors
    made_by_workers = _log_rows(out)
    shutil.rmtree(out)
    monkeypatch.setattr(make, "record_text", lambda record: None)  # none made in the workers
    assert not _build(cluster_dir, out, jobs=2).errors
    assert _log_rows(out) == made_by_workers
    assert sum(row[0].startswith("profile:") for row in made_by_workers) == 6
    monkeypatch.undo()
    # and every record is found fresh by its exact check (every stamp changed)
    assert run_cli("-C", str(cluster_dir), "set", "attr", "nobody_reads_this", "x").rc == 0
    again = _build(cluster_dir, out, jobs=2)
    assert again.rebuilt == [] and again.fresh == again.jobs
