"""Are the outputs the build log records still what the build wrote? Size and mtime of each
file, as make and ninja judge them: a deleted or hand-edited artifact is rebuilt.

A cluster of 10 000 hosts has ~64 000 artifacts; their stat calls take ~0.15 s, most of a
no-op build. With that many, a forked helper makes them on the other core while this process
plans jobs, computes their stamps and runs the jobs whose inputs changed, and answers with the
few jobs whose outputs changed.
"""

from __future__ import annotations

import marshal
import os
from pathlib import Path

HELPER_THRESHOLD = 7_000  # jobs (~3 outputs each); below this a fork costs more than it saves


def intact(sigs: list | None, base: str) -> bool:
    """Every output still has the size and mtime it had when written: sigs = [path, size, mtime, …]
    (None: the build log's entry is damaged)."""
    if sigs is None:
        return False
    stat = os.stat
    try:
        for i in range(0, len(sigs), 3):
            st = stat(base + sigs[i])
            if st.st_size != sigs[i + 1] or st.st_mtime_ns != sigs[i + 2]:
                return False
    except (FileNotFoundError, TypeError, ValueError):  # gone; a damaged log's item (not a path, NUL)
        return False
    return True


class OutputCheck:
    def __init__(self, jobs, outdir: Path, *, every_job: bool = True) -> None:
        """`jobs`: the build log's jobs (manifest.Jobs), read as they were when the build began.
        `every_job=False`: a build of a few hosts asks about their jobs only, so no helper."""
        self.jobs = jobs
        self.base = f"{outdir}{os.sep}"
        self._damaged: set[str] | None = None
        self._helper: tuple[int, int] | None = None  # (pid, read end of its pipe)
        if every_job and len(jobs) >= HELPER_THRESHOLD:
            self._start_helper(jobs)

    def ok(self, job_id: str) -> bool:
        if self._helper is not None:
            self._collect()
        if self._damaged is not None:
            return job_id not in self._damaged
        return intact(self.jobs.sigs(job_id), self.base)

    def broken(self, job_ids: list[str]) -> list[str]:
        """Those of `job_ids` whose outputs changed (what `ok` says of each, in one pass: a
        no-op build asks about twenty thousand)."""
        if self._helper is not None:
            self._collect()
        damaged = self._damaged
        if damaged is not None:
            return [job_id for job_id in job_ids if job_id in damaged] if damaged else []
        return [job_id for job_id in job_ids if not intact(self.jobs.sigs(job_id), self.base)]

    def close(self) -> None:
        """Reap the helper if nothing asked for its answer (a build that failed early)."""
        if self._helper is not None:
            self._collect()

    def _start_helper(self, jobs) -> None:
        try:
            read_fd, write_fd = os.pipe()
            pid = os.fork()
        except OSError:
            return  # check in this process instead
        if pid == 0:  # the helper: only reads inherited data, never returns into the build
            try:
                os.close(read_fd)
                jobs.reconnect()
                damaged = [job_id for job_id, sigs in jobs.every_sigs() if not intact(sigs, self.base)]
                data = marshal.dumps(damaged)
                while data:
                    data = data[os.write(write_fd, data) :]
            finally:
                os._exit(0)
        os.close(write_fd)
        self._helper = (pid, read_fd)

    def _collect(self) -> None:
        pid, read_fd = self._helper
        self._helper = None
        chunks = []
        with os.fdopen(read_fd, "rb") as pipe:
            chunks.append(pipe.read())
        _, status = os.waitpid(pid, 0)
        try:
            if status == 0:
                self._damaged = set(marshal.loads(b"".join(chunks)))
        except (EOFError, ValueError, TypeError):
            self._damaged = None  # the helper died: check here
