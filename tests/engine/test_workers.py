"""The build's compile workers (engine/workers.py), with real forked processes: each job's result
arrives once, the warm-up runs once in the first worker (not in the build process) and the others
start from its state, a worker that dies costs its jobs (reported) and never a hang, and a build
that stops early leaves no worker behind."""

from __future__ import annotations

import os
import signal
import time

import pytest

from rockscc.engine.workers import WarmPool


@pytest.fixture(autouse=True)
def bounded():
    """A pool that waits for a result that never comes fails the test instead of hanging it."""

    def hung(signum, frame):
        raise TimeoutError("the pool hung")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _gone(group: int) -> bool:
    """No process of the workers' group is left (a worker whose parent died is reaped by init:
    allow it a moment)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_each_result_arrives_once_and_every_worker_starts_from_the_first_ones_warm_state():
    warm: list[int] = []

    def run_one(index):
        time.sleep(0.002)  # long enough for the siblings to take chunks too
        return index, (os.getpid(), tuple(warm)), None

    pool = WarmPool(run_one, list(range(300)), 3, lambda: warm.append(os.getpid()))
    try:
        results = list(pool.results())
    finally:
        pool.close()
    assert sorted(index for index, _, _ in results) == list(range(300))
    assert all(error is None for _, _, error in results)
    assert warm == []  # the build process never warmed up
    first = pool._first.pid
    assert {state for _, (_, state), _ in results} == {(first,)}  # warmed once, in the first worker
    pids = {pid for _, (pid, _), _ in results}
    assert first in pids and len(pids) == 3 and os.getpid() not in pids
    assert _gone(first)


@pytest.mark.parametrize("victim", ["first", "sibling"])
def test_a_worker_that_dies_costs_its_jobs_reported_as_errors_not_a_hang(victim):
    started = os.getpid()

    def run_one(index):
        time.sleep(0.002)
        first = os.getppid() == started
        if index >= 40 and (first if victim == "first" else not first):  # its first job from 40 on
            os.kill(os.getpid(), signal.SIGKILL)
        return index, "done", None

    pool = WarmPool(run_one, list(range(200)), 2, lambda: None)
    try:
        results = list(pool.results())
    finally:
        pool.close()
    assert sorted(index for index, _, _ in results) == list(range(200))  # each once, lost ones included
    lost = {index for index, result, error in results if error is not None}
    assert lost and min(lost) > 40 - pool._chunk  # the victim's chunk (and, the first dead, what it left)
    assert all(result is None for index, result, _ in results if index in lost)
    assert all(result == "done" for index, result, _ in results if index not in lost)
    assert all("stopped before it finished" in error for _, _, error in results if error is not None)
    assert _gone(pool._first.pid)


def test_closing_a_pool_early_stops_every_worker():
    pool = WarmPool(lambda index: (time.sleep(0.05), (index, "done", None))[1], list(range(400)), 2, lambda: None)
    results = pool.results()
    assert next(results)[2] is None
    started = time.monotonic()
    pool.close()  # what the build does when it is interrupted or fails
    assert time.monotonic() - started < 5
    assert _gone(pool._first.pid) and not pool._first.is_alive()


def test_a_warm_up_that_fails_leaves_cold_workers_that_run_every_job():
    """The warm-up only saves work: should it raise, every job still runs (and reports its own
    error where it has one), instead of the first worker dying with all the jobs."""

    def warm_up():
        raise RuntimeError("a kind of host that does not compile")

    pool = WarmPool(lambda index: (index, index * 2, None), list(range(120)), 2, warm_up)
    try:
        results = sorted(pool.results())
    finally:
        pool.close()
    assert results == [(index, index * 2, None) for index in range(120)]
