"""Are the outputs the build log records still what the build wrote? Size and ctime of each
file (output.stat_sig): a deleted, hand-edited (its mtime put back or not) or chmod'ed artifact
is rebuilt.

A cluster of 10 000 hosts has ~40 000 artifacts; their stat calls take ~0.25 s, most of a
no-op build. With that many, a forked helper makes them on the other core while this process
plans jobs, computes their stamps and runs the jobs whose inputs changed, and answers with the
few jobs whose outputs changed. Planning now takes less than the helper's pass, so the build
process, once it asks, checks jobs too: the jobs are cut into chunks, the helper takes them
from the front and the build process from the back until they meet (claims in a shared page,
_Claims), and the answer is both sides' findings.
"""

from __future__ import annotations

import marshal
import mmap
import os
import struct
from pathlib import Path

HELPER_THRESHOLD = 7_000  # jobs (~3 outputs each); below this a fork costs more than it saves
CHUNK = 256  # jobs per claim of the shared pass (a claim costs two accesses to the shared page)


def intact(sigs: list | None, base: str) -> bool:
    """Every output still has the size and ctime it had when written: sigs = [path, size, ctime, …]
    (None: the build log's entry is damaged)."""
    return not _damaged_rows(((None, sigs),), base)


def _damaged_rows(rows, base: str) -> list:
    """The ids of those (id, sigs) whose outputs changed (`intact` of each); sigs as the log
    stores them (marshalled) or as Jobs.sigs gives them. One loop, no call per job: a no-op
    build checks twenty thousand jobs, and a call per job cost as much as its stat."""
    stat, loads = os.stat, marshal.loads
    damaged = []
    for job_id, sigs in rows:
        try:
            if type(sigs) is bytes:
                sigs = loads(sigs)
            if type(sigs) is not list or len(sigs) % 3:  # a damaged or planted entry (manifest._checked_sigs)
                damaged.append(job_id)
                continue
            for i in range(0, len(sigs), 3):
                st = stat(base + sigs[i])
                if st.st_size != sigs[i + 1] or st.st_ctime_ns != sigs[i + 2]:
                    damaged.append(job_id)
                    break
        except (EOFError, FileNotFoundError, TypeError, ValueError):  # gone; an item not a path, NUL
            damaged.append(job_id)
    return damaged


class OutputCheck:
    def __init__(self, jobs, outdir: Path, *, every_job: bool = True) -> None:
        """`jobs`: the build log's jobs (manifest.Jobs), read as they were when the build began.
        `every_job=False`: a build of a few hosts asks about their jobs only, so no helper."""
        self.jobs = jobs
        self.base = f"{outdir}{os.sep}"
        self._damaged: set[str] | None = None
        self._helper: tuple[int, int] | None = None  # (pid, read end of its pipe)
        self._order: list[str] = []  # the jobs the helper and this process share, in chunks
        self._claims: _Claims | None = None
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
        order = list(jobs)
        try:
            order.sort()  # chunks are runs of ids, each read in one range scan (Jobs.sigs_run)
        except TypeError:
            return  # ids of mixed kinds (a planted log's blob): check in this process instead
        if not order:
            return
        try:
            claims = _Claims(-(-len(order) // CHUNK))
            read_fd, write_fd = os.pipe()
            pid = os.fork()
        except OSError:
            return  # check in this process instead
        if pid == 0:  # the helper: only reads inherited data, never returns into the build
            try:
                os.close(read_fd)
                jobs.reconnect()
                data = marshal.dumps(self._helper_share(order, claims))
                while data:
                    data = data[os.write(write_fd, data) :]
            finally:
                os._exit(0)
        os.close(write_fd)
        self._helper, self._order, self._claims = (pid, read_fd), order, claims

    def _helper_share(self, order: list[str], claims: _Claims) -> list[str]:
        """The damaged jobs of the chunks the helper checks: from the front, each claimed before
        it is checked, until the build process has claimed the next (it checks every chunk it
        claims, so a chunk both claim is checked twice, never by neither)."""
        damaged = []
        for chunk in range(claims.chunks):
            claims.helper_claims(chunk)
            if claims.build_lowest() <= chunk:
                break
            damaged += self._damaged_in(order, chunk)
        return damaged

    def _build_share(self) -> list[str]:
        """The damaged jobs of the chunks this process checks: from the back, while the helper
        has not claimed the chunk (it claims one before checking it and then checks it unless
        this process had claimed it first)."""
        claims, order, damaged = self._claims, self._order, []
        chunk = claims.chunks - 1
        while chunk >= 0 and claims.helper_next() <= chunk:
            claims.build_claims(chunk)
            damaged += self._damaged_in(order, chunk)
            chunk -= 1
        return damaged

    def _damaged_in(self, order: list[str], chunk: int) -> list[str]:
        """The jobs of one chunk whose outputs changed (their signatures read in one query)."""
        return _damaged_rows(self.jobs.sigs_run(order[chunk * CHUNK : (chunk + 1) * CHUNK]), self.base)

    def _collect(self) -> None:
        pid, read_fd = self._helper
        self._helper = None
        mine = self._build_share()
        chunks = []
        with os.fdopen(read_fd, "rb") as pipe:
            chunks.append(pipe.read())
        _, status = os.waitpid(pid, 0)
        try:
            if status == 0:
                self._damaged = set(marshal.loads(b"".join(chunks))).union(mine)
        except (EOFError, ValueError, TypeError):
            self._damaged = None  # the helper died: check here


class _Claims:
    """Two counters in a page shared with the forked helper: the helper's next chunk (it has
    claimed every chunk below it) and the lowest chunk the build process claimed. Each side
    only moves its own counter towards the other's, so a stale read of the other counter can
    only make a side check a chunk twice, never skip one."""

    _FORMAT = struct.Struct("qq")

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self._page = mmap.mmap(-1, self._FORMAT.size)  # anonymous and shared: inherited by the fork
        self._FORMAT.pack_into(self._page, 0, 0, chunks)

    def helper_claims(self, chunk: int) -> None:
        struct.pack_into("q", self._page, 0, chunk + 1)

    def helper_next(self) -> int:
        return struct.unpack_from("q", self._page, 0)[0]

    def build_claims(self, chunk: int) -> None:
        struct.pack_into("q", self._page, 8, chunk)

    def build_lowest(self) -> int:
        return struct.unpack_from("q", self._page, 8)[0]
