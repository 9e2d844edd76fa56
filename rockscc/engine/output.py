"""Writing artifacts: temp file + rename (old or new, never partial), unchanged bytes not rewritten."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Output:
    """One file a job produces, relative to the build directory."""

    path: str
    data: bytes
    mode: int = 0o644

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def text_output(path: str, text: str, mode: int = 0o644) -> Output:
    return Output(path, text.encode(), mode)


def stat_sig(path: Path | str) -> list[int] | None:
    """What identifies a file we wrote: size and mtime in nanoseconds (None if missing)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return [st.st_size, st.st_mtime_ns]


def write_output(outdir: Path, output: Output) -> tuple[bool, list[int]]:
    """Write atomically unless the same bytes are already there; returns (written, stat sig).
    Plain os calls on str paths, one stat of the target (tens of thousands of files a build)."""
    target = os.path.join(outdir, output.path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None and st.st_size == len(output.data) and Path(target).read_bytes() == output.data:
        if (st.st_mode & 0o777) != output.mode:
            os.chmod(target, output.mode)
        return False, stat_sig(target)
    directory, name = os.path.split(target)
    tmp = os.path.join(directory, f".{name}.tmp{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, output.mode)
    except FileNotFoundError:  # its directory is new (made here, not asked for each file)
        os.makedirs(directory, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, output.mode)
    try:
        try:
            os.write(fd, output.data)
            os.fchmod(fd, output.mode)  # umask must not widen or narrow what we promised (0600 kickstarts)
            written = os.fstat(fd)  # size and mtime are final here: the rename changes neither
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)  # a full disk, an interrupt: the old file stays, no debris
        raise
    return True, [written.st_size, written.st_mtime_ns]


def remove_output(outdir: Path, relpath: str) -> bool:
    if relpath.startswith("/") or ".." in relpath.split("/"):
        return False  # never a path a build wrote: only files inside the build directory are removed
    target = outdir / relpath
    try:
        target.unlink()
    except FileNotFoundError:
        return False
    parent = target.parent
    while parent != outdir and _empty_dir(parent):
        parent.rmdir()
        parent = parent.parent
    return True


def _empty_dir(path: Path) -> bool:
    """Whether a directory is empty, reading at most its first entry: Path.iterdir lists the
    whole directory, which made removing the 10 000 files of build/kickstart/ quadratic
    (minutes for `build clean=yes`)."""
    try:
        with os.scandir(path) as entries:
            return next(entries, None) is None
    except (FileNotFoundError, NotADirectoryError):
        return False


def sweep_temp_files(outdir: Path) -> None:
    """Temp files left by a build that was killed between write and rename (`.NAME.tmpPID`).
    Every build walks the whole tree: os.scandir, which does not stat, not Path.rglob."""
    try:
        entries = list(os.scandir(outdir))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            sweep_temp_files(Path(entry.path))
        elif entry.name.startswith(".") and ".tmp" in entry.name:
            Path(entry.path).unlink(missing_ok=True)
