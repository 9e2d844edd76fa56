"""The output check shared by the forked helper and the build process (engine/intact.py): the
helper takes chunks of jobs from the front, the build process from the back, until they meet.
However the two interleave, the answer must be exactly the jobs whose outputs changed on disk
(a chunk checked by neither would let a deleted or hand-edited artifact stand)."""

from __future__ import annotations

import marshal
import os
import sqlite3
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.engine import intact
from rockscc.engine.manifest import NAME, Manifest


def _log(outdir: Path, jobs: int, outputs_per_job: int = 2, names: list[str] | None = None) -> list[str]:
    """A real build log of `jobs` jobs (ids `names`, or profile:host-N), each with real output
    files; returns the job ids."""
    manifest = Manifest()
    ids = []
    for n in range(jobs):
        outputs = {}
        for k in range(outputs_per_job):
            path = f"d{n % 7}/job{n}-{k}"
            (outdir / path).parent.mkdir(parents=True, exist_ok=True)
            (outdir / path).write_text(f"job {n} output {k}\n")
            st_ = (outdir / path).stat()
            outputs[path] = [st_.st_size, st_.st_ctime_ns, "0" * 64]
        job_id = names[n] if names is not None else f"profile:host-{n}"
        manifest.jobs.put(job_id, {"host": f"host-{n}", "in": "stamp", "fp": "fp", "outputs": outputs})
        ids.append(job_id)
    manifest.save(outdir)
    return ids


def _damage(outdir: Path, ids: list[str], victims: list[int]) -> set[str]:
    """Delete, grow, or re-time one output of each victim job (by index): the jobs now damaged."""
    time.sleep(0.02)  # past the coarse clock's tick the files were written in: a ctime of its own
    for i, n in enumerate(victims):
        path = outdir / f"d{n % 7}/job{n}-{i % 2}"
        how = i % 3
        if how == 0:
            path.unlink()
        elif how == 1:
            path.write_text(path.read_text() + "edited by hand\n")
        else:
            os.utime(path, ns=(0, path.stat().st_mtime_ns))  # same size and mtime put back, another ctime
    return {ids[n] for n in victims}


def _check(outdir: Path, ids: list[str], delay_helper: float = 0.0, delay_build: float = 0.0):
    manifest = Manifest.load(outdir)
    parent = os.getpid()
    real = intact._damaged_rows

    def slowed(rows, base):  # the helper is a fork: only it sleeps (once per job, as it checks)
        if os.getpid() != parent:
            time.sleep(delay_helper * len(rows))
        return real(rows, base)

    try:
        intact._damaged_rows = slowed
        check = intact.OutputCheck(manifest.jobs, outdir)
    finally:
        intact._damaged_rows = real
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


# Each chunk's signatures are read in one range scan of the log's ids (Jobs.sigs_run), so a
# chunk is a run of ids in SQLite's order: any id, of any characters, must fall in exactly one.
JOB_IDS = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(JOB_IDS, unique=True, min_size=1, max_size=40), chunk=st.integers(1, 9), data=st.data())
def test_chunks_of_ids_of_any_characters_cover_every_job(tmp_path_factory, shared, monkeypatch, names, chunk, data):
    monkeypatch.setattr(intact, "CHUNK", chunk)
    outdir = tmp_path_factory.mktemp("out")
    ids = _log(outdir, len(names), names=names)
    victims = data.draw(st.lists(st.integers(0, len(ids) - 1), unique=True, max_size=len(ids)))
    truth = _damage(outdir, ids, victims)
    broken, _ = _check(outdir, ids, delay_helper=data.draw(st.sampled_from([0.0, 0.002])))
    assert broken == truth


def test_a_log_read_out_of_id_order_is_still_checked_whole(tmp_path, shared, monkeypatch):
    """A log without the index its ids are read through lists them in the order its rows were
    written (a job rebuilt last comes last): the chunks are still runs of sorted ids."""
    monkeypatch.setattr(intact, "CHUNK", 4)
    ids = _log(tmp_path, 30)
    manifest = Manifest.load(tmp_path)
    for job_id in ids[:6]:  # rewritten: their rows move to the end of the table
        manifest.jobs.put(job_id, dict(manifest.jobs[job_id], fp="again"))
    manifest.dirty = True
    manifest.save(tmp_path)
    with sqlite3.connect(tmp_path / NAME) as conn:
        conn.execute("DROP INDEX jobs_index")
        conn.execute("DROP INDEX jobs_hosts")
    loaded = Manifest.load(tmp_path)
    assert list(loaded.jobs) != sorted(ids)  # the premise: the log is not read in id order
    loaded.close()
    truth = _damage(tmp_path, ids, [0, 3, 5, 12, 29])
    broken, _ = _check(tmp_path, ids)
    assert broken == truth


def test_a_planted_log_with_ids_not_text_is_checked_without_a_helper(tmp_path, shared):
    ids = _log(tmp_path, 12)
    with sqlite3.connect(tmp_path / NAME) as conn:
        conn.execute("INSERT INTO jobs VALUES (?, 'h', 's', NULL, ?, '{}')", (b"id", b"junk"))  # a blob id
        conn.execute("UPDATE jobs SET sigs = ? WHERE id = ?", (b"not marshal", ids[7]))
        (sigs,) = conn.execute("SELECT sigs FROM jobs WHERE id = ?", (ids[4],)).fetchone()
        torn = marshal.loads(sigs)[:4]  # a whole triple and a path alone: not a list of triples
        conn.execute("UPDATE jobs SET sigs = ? WHERE id = ?", (marshal.dumps(torn), ids[4]))
    truth = _damage(tmp_path, ids, [2, 9]) | {ids[4], ids[7]}
    manifest = Manifest.load(tmp_path)
    check = intact.OutputCheck(manifest.jobs, tmp_path)
    assert check._claims is None  # ids of mixed kinds: no chunks of sorted ids to share
    assert set(check.broken([*ids, b"id"])) == truth | {b"id"}
    check.close()
    manifest.close()


def test_a_torn_entry_of_the_log_is_a_damaged_job_on_both_sides(tmp_path, shared, monkeypatch):
    """An entry that is not a list of (path, size, mtime) triples, whoever checks it: a job to
    rebuild, not a crash and not a job taken as intact."""
    monkeypatch.setattr(intact, "CHUNK", 2)
    ids = _log(tmp_path, 10)
    with sqlite3.connect(tmp_path / NAME) as conn:
        for victim in (ids[0], ids[9]):  # the helper's first chunk, the build process's first
            (sigs,) = conn.execute("SELECT sigs FROM jobs WHERE id = ?", (victim,)).fetchone()
            torn = marshal.loads(sigs)[:4]  # a whole, intact triple and a path alone
            conn.execute("UPDATE jobs SET sigs = ? WHERE id = ?", (marshal.dumps(torn), victim))
    broken, _ = _check(tmp_path, ids)
    assert broken == {ids[0], ids[9]}
