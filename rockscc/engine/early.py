"""The early compile: a forked worker that compiles the few changed hosts' kickstarts while this
process plans the build and checks which jobs are stale.

A build after a one-host edit spends most of its time in two things that do not depend on each
other: planning (the host stamps of ten thousand hosts, the stale check of the jobs of the hosts
that changed) and compiling the changed host (importing lxml, Jinja2, lark, pykickstart for a new
kickstart head: ~0.1–0.25 s of imports alone, then the compile). As soon as the engine knows
which hosts are not settled (engine/make.py: `_settled`), it forks this worker, which makes those
hosts' compile jobs itself and runs them on the other core. Nothing is written until the engine,
its stale check done, names the jobs it wants (`deliver`): the worker then writes their outputs
(temp file + rename, as a build worker does) and sends back their results; a job the stale check
found fresh is dropped. A job the worker does not hold, or any failure of the worker, makes the
engine run the job itself: the worker only saves time, the results are the same.

The worker is forked after the host stamps, so it sees the description as the engine does. It
never outlives the build: it dies with its parent (PR_SET_PDEATHSIG on Linux; otherwise at the
end of its pipe), an unanswered worker is killed when the build ends, and a worker killed after
it was asked to write leaves at most a temp file, swept at once (engine/output.py).
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from rockscc.engine.jobs import JobResult
from rockscc.engine.output import sweep_temp_files

# (result, error): a result that would come from engine/make.py's _Run.run_one, or its one-line error
Outcome = tuple[JobResult | None, str | None]


class EarlyCompile:
    """The worker of one build, seen from the engine."""

    def __init__(self, pid: int, requests: int, answers: int, outdir: Path) -> None:
        self.pid, self.outdir = pid, outdir
        self._requests: int | None = requests  # write end: the job ids wanted
        self._answers: int | None = answers  # read end: their outcomes
        self._asked = False

    @classmethod
    def start(
        cls,
        compute: Callable[[], dict[str, Outcome]],
        write: Callable[[str, JobResult], Outcome],
        outdir: Path,
    ) -> EarlyCompile | None:
        """Fork the worker: `compute()` runs the jobs (nothing written) and gives each job id's
        outcome; `write(job_id, result)` writes one job's outputs and gives its outcome to send.
        None when the fork fails (the engine compiles as before)."""
        try:
            requests_r, requests_w = os.pipe()
            answers_r, answers_w = os.pipe()
        except OSError:
            return None
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            for fd in (requests_r, requests_w, answers_r, answers_w):
                os.close(fd)
            return None
        if pid == 0:  # the worker: never returns into the build
            _serve(parent, requests_r, requests_w, answers_r, answers_w, compute, write)
        os.close(requests_r)
        os.close(answers_w)
        return cls(pid, requests_w, answers_r, outdir)

    def ask(self, job_ids: list[str]) -> None:
        """Have the worker write the outputs of those of `job_ids` it compiled (the stale ones)."""
        self._asked = True
        try:
            with os.fdopen(self._requests, "wb") as pipe:
                self._requests = None
                pickle.dump(list(job_ids), pipe)
        except OSError:  # it died: outcomes() finds nothing
            pass

    def outcomes(self) -> dict[str, Outcome]:
        """The outcome of each asked job the worker held, once it has written their outputs; {}
        when it failed or died (the engine runs them itself)."""
        try:
            with os.fdopen(self._answers, "rb") as pipe:
                self._answers = None
                answers = pickle.loads(pipe.read())
        except (OSError, EOFError, pickle.UnpicklingError):
            answers = {}
        self._reap(kill=False)
        return answers if type(answers) is dict else {}

    def close(self) -> None:
        """End the worker if it is still there (the build ends early, or asked for nothing)."""
        self._reap(kill=True)

    def _reap(self, *, kill: bool) -> None:
        for fd in (self._requests, self._answers):
            if fd is not None:
                os.close(fd)
        self._requests = self._answers = None
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        if kill:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(pid, 0)
        if self._asked and status != 0:  # stopped while it may have been writing: no temp file stays
            sweep_temp_files(self.outdir)


def _serve(parent: int, requests_r: int, requests_w: int, answers_r: int, answers_w: int, compute, write) -> None:
    """The worker's whole life: compute, wait for the wanted ids, write those, answer, exit."""
    status = 1
    try:
        os.close(requests_w)
        os.close(answers_r)
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C: the parent reports it, not this process
        _die_with(parent)
        outcomes = compute()
        with os.fdopen(requests_r, "rb") as pipe:
            wanted = pickle.load(pipe)  # EOFError: the build wants nothing (or ended)
        answers = {}
        for job_id in wanted:
            result, error = outcomes.get(job_id, (None, None))
            if result is not None:
                answers[job_id] = write(job_id, result)
            elif error is not None:
                answers[job_id] = (None, error)
        with os.fdopen(answers_w, "wb") as pipe:
            pickle.dump(answers, pipe)
        status = 0
    except BaseException:  # noqa: BLE001 - anything: the engine runs the jobs itself
        pass
    finally:
        os._exit(status)  # no atexit handler, no flush of the parent's buffered output


def _die_with(parent: int) -> None:
    """Be killed when the build's process dies (Linux), and leave at once if it already has."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)
