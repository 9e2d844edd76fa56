"""The marker of a build that may be writing, and its journal of the files it may have made.

A build killed or interrupted while it writes leaves files its log does not record yet: the log is
saved last. Temp files between write and rename are one kind (swept, output.sweep_temp_files);
complete files under names no record holds are the other: a new host's kickstart and boot files,
a host's boot files under its new address. If the next build no longer has the job (the host was
removed, its address put back), no record ever claims them and they would stay for good — a boot
file for an address that is no host's. So, before a job's files are written, their paths are
appended to the marker (one write a job, O_APPEND: forked workers share the descriptor, each
write lands whole); the next build, finding the marker, removes those no record of its log claims
once its jobs have run, and sweeps the temp files. A build that runs to its end removes the marker
(job errors included); one refused before any job runs makes none, and a dry run keeps the one it
found.
"""

from __future__ import annotations

import os
from pathlib import Path

from rockscc.engine.output import remove_output, sweep_temp_files

NAME = ".rockscc-build.unfinished"


class Unfinished:
    """One build's view of the marker: the paths an unfinished build before it may have left
    (`suspects`), and the journal of this build's own writes once it starts writing."""

    def __init__(self, outdir: Path) -> None:
        self.outdir = outdir
        self.path = outdir / NAME
        self.suspects: set[str] = set()
        self._fd: int | None = None
        self._settled = False  # this build ran to its end: the marker goes
        if self.path.is_symlink():  # planted, not a build's: never read, written or made through
            self.path.unlink()
        try:
            journal = self.path.read_bytes()
        except FileNotFoundError:
            self._found = False
            return
        self._found = True
        self.suspects = {os.fsdecode(path) for path in journal.split(b"\0") if path}
        sweep_temp_files(outdir)

    def writing(self) -> None:
        """The build is about to run jobs: from now on the marker says so."""
        if self._fd is None:
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
            self._fd = os.open(self.path, flags, 0o600)

    def will_write(self, paths) -> None:
        """Journal the paths a job is about to write (relative to the build directory)."""
        if self._fd is None:
            return
        data = memoryview(b"".join(os.fsencode(path) + b"\0" for path in paths))
        while data:
            data = data[os.write(self._fd, data) :]

    def remove_debris(self, claimed, removed: list[str]) -> None:
        """Remove the suspects that no record claims now (`claimed()`: every recorded output
        path), adding them to `removed`. Called when the build's jobs have run, before its log
        is saved: a build killed after this still has the marker, and the next does it again."""
        if self.suspects:
            kept = claimed()
            removed.extend(path for path in sorted(self.suspects - kept) if remove_output(self.outdir, path))
        self._settled = True

    def close(self, *, ended: bool) -> None:
        """`ended`: the build ran to its end (not killed, interrupted or refused by an error)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if ended and (self._settled or not self._found):
            self.path.unlink(missing_ok=True)
