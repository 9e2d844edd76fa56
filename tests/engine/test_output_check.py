"""The output check shared by the forked helper and the build process (engine/intact.py): the
helper takes chunks of jobs from the front, the build process from the back, until they meet.
However the two interleave, the answer must be exactly the jobs whose outputs changed on disk
(a chunk checked by neither would let a deleted or hand-edited artifact stand)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.engine import intact
from rockscc.engine.manifest import Manifest


def _log(outdir: Path, jobs: int, outputs_per_job: int = 2) -> list[str]:
    """A real build log of `jobs` jobs, each with real output files; returns the job ids."""
    manifest = Manifest()
    ids = []
    for n in range(jobs):
        outputs = {}
        for k in range(outputs_per_job):
            path = f"d{n % 7}/job{n}-{k}"
            (outdir / path).parent.mkdir(parents=True, exist_ok=True)
            (outdir / path).write_text(f"job {n} output {k}\n")
            st_ = (outdir / path).stat()
            outputs[path] = [st_.st_size, st_.st_mtime_ns, "0" * 64]
        job_id = f"profile:host-{n}"
        manifest.jobs.put(job_id, {"host": f"host-{n}", "in": "stamp", "fp": "fp", "outputs": outputs})
        ids.append(job_id)
    manifest.save(outdir)
    return ids


def _damage(outdir: Path, ids: list[str], victims: list[int]) -> set[str]:
    """Delete, grow, or re-time one output of each victim job (by index): the jobs now damaged."""
    for i, n in enumerate(victims):
        path = outdir / f"d{n % 7}/job{n}-{i % 2}"
        how = i % 3
        if how == 0:
            path.unlink()
        elif how == 1:
            path.write_text(path.read_text() + "edited by hand\n")
        else:
            os.utime(path, ns=(0, path.stat().st_mtime_ns + 1))  # same size, another mtime
    return {ids[n] for n in victims}


def _check(outdir: Path, ids: list[str], delay_helper: float = 0.0, delay_build: float = 0.0):
    manifest = Manifest.load(outdir)
    parent = os.getpid()
    real = intact.intact

    def slowed(sigs, base):  # the helper is a fork: only it sleeps
        if os.getpid() != parent:
            time.sleep(delay_helper)
        return real(sigs, base)

    try:
        intact.intact = slowed
        check = intact.OutputCheck(manifest.jobs, outdir)
    finally:
        intact.intact = real
    assert check._claims is not None, "the helper was not started"
    time.sleep(delay_build)
    broken = set(check.broken(ids))
    claims = check._claims
    check.close()
    manifest.close()
    return broken, claims


@pytest.fixture
def shared(monkeypatch):
    monkeypatch.setattr(intact, "HELPER_THRESHOLD", 0)


def test_the_build_process_checks_the_chunks_a_slow_helper_has_not_reached(tmp_path, shared, monkeypatch):
    monkeypatch.setattr(intact, "CHUNK", 5)
    ids = _log(tmp_path, 60)
    truth = _damage(tmp_path, ids, [0, 4, 5, 31, 54, 59])
    broken, claims = _check(tmp_path, ids, delay_helper=0.02)
    assert broken == truth
    assert claims.build_lowest() < claims.chunks - 1  # the build process did take chunks


def test_a_helper_that_is_done_leaves_nothing_to_the_build_process(tmp_path, shared, monkeypatch):
    monkeypatch.setattr(intact, "CHUNK", 5)
    ids = _log(tmp_path, 40)
    truth = _damage(tmp_path, ids, [1, 17, 39])
    broken, claims = _check(tmp_path, ids, delay_build=1.0)
    assert broken == truth
    assert claims.build_lowest() == claims.chunks  # the helper had claimed every chunk first


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    jobs=st.integers(1, 60),
    chunk=st.integers(1, 17),
    data=st.data(),
    delay_helper=st.sampled_from([0.0, 0.001, 0.003]),
    delay_build=st.sampled_from([0.0, 0.01, 0.05]),
)
def test_every_interleaving_finds_exactly_the_damaged_jobs(
    tmp_path_factory, shared, monkeypatch, jobs, chunk, data, delay_helper, delay_build
):
    monkeypatch.setattr(intact, "CHUNK", chunk)
    outdir = tmp_path_factory.mktemp("out")
    ids = _log(outdir, jobs, outputs_per_job=2)
    victims = data.draw(st.lists(st.integers(0, jobs - 1), unique=True, max_size=jobs))
    truth = _damage(outdir, ids, victims)
    broken, _ = _check(outdir, ids, delay_helper=delay_helper, delay_build=delay_build)
    assert broken == truth
