"""Writing artifacts: temp file + rename (old or new, never partial), unchanged bytes not rewritten."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
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
    """What identifies a file we wrote: size and ctime in nanoseconds (None if missing). The
    ctime, not the mtime: every write, chmod, link or rename sets it and no tool sets it back, so
    a hand edit whose mtime was put back (`touch -r`, `cp -p`) or a chmod (a kickstart made
    world-readable) is seen, as git sees them."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return [st.st_size, st.st_ctime_ns]


def write_output(outdir: Path, output: Output, *, new: bool = False) -> tuple[bool, list[int]]:
    """Write atomically unless the same bytes are already there; returns (written, stat sig).
    Plain os calls on str paths (tens of thousands of files a build). A file that is not there
    yet appears whole or not at all (_link_new); one that is, is replaced by rename (_replace):
    old or new, never partial. `new`: the file is most likely not there (its job has no record),
    so it is linked without a stat first (a stat that fails costs 10-15 µs, a quarter of a
    file); the link refuses a name that exists, and the file is then checked as any other."""
    target = os.path.join(outdir, output.path)
    _check_dirs(str(outdir), output.path)
    if new:
        sig = _link_new(target, output)
        if sig is not None:
            return True, sig
    try:
        st = os.lstat(target)  # a link in the artifact's place is replaced, never read or chmod'ed through
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        return True, _replace(target, output)
    if st is not None and st.st_size == len(output.data) and _holds(target, output.data):
        if (st.st_mode & 0o777) != output.mode:
            os.chmod(target, output.mode)
            st = os.stat(target)  # its ctime is the chmod's
        return False, [st.st_size, st.st_ctime_ns]
    if st is None and not new:
        sig = _link_new(target, output)
        if sig is not None:
            return True, sig
    return True, _replace(target, output)


_CHECKED_DIRS: set[str] = set()  # directories below a build directory seen to be directories, this build


def forget_checked_dirs() -> None:
    """At the start of each build: a link planted between two builds of one process (--watch,
    serve) is found too."""
    _CHECKED_DIRS.clear()


def _check_dirs(outdir: str, relpath: str) -> None:
    """Refuse to write through a link (or anything but a directory) below the build directory: a
    `build/net` made a link to /etc — by a description from elsewhere, a tree copied in — would
    have the build replace /etc/hosts. The build directory itself may be a link (output_dir
    resolves it). Each directory is looked at once a build, one lstat per component."""
    parts = relpath.split("/")[:-1]
    directory = "/".join([outdir, *parts])
    if not parts or directory in _CHECKED_DIRS:
        return
    path = outdir
    for name in parts:
        if name in ("", ".", ".."):
            raise OSError(errno.EINVAL, "not a path inside the build directory", relpath)
        path = f"{path}/{name}"
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            break  # made below (os.makedirs): a directory
        if stat.S_ISLNK(st.st_mode):
            raise OSError(
                errno.ELOOP,
                f"a link (to {os.readlink(path)}), not a directory: rockscc writes only inside the build "
                "directory (remove the link; `--out DIR` builds elsewhere)",
                path,
            )
        if not stat.S_ISDIR(st.st_mode):
            raise OSError(errno.ENOTDIR, "not a directory", path)
    _CHECKED_DIRS.add(directory)


def _link_new(target: str, output: Output) -> list[int] | None:
    """A new file written as an unnamed file of its directory (O_TMPFILE) and linked under its
    name once complete: no temp name is made and renamed away (two directory updates of the
    three a file cost), and a build killed meanwhile leaves nothing behind (the kernel frees
    the unnamed file). None when the file system cannot (the caller falls back to _replace),
    or when the name is taken."""
    directory = target.rpartition("/")[0]
    if directory in _NO_TMPFILE or not hasattr(os, "O_TMPFILE"):  # Linux only
        return None
    try:
        try:
            fd = os.open(directory, _TMPFILE_FLAGS, output.mode)
        except FileNotFoundError:  # its directory is new (made here, not asked for each file)
            os.makedirs(directory, exist_ok=True)
            fd = os.open(directory, _TMPFILE_FLAGS, output.mode)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
            raise  # a full disk, a read-only build directory: the job's error
        _NO_TMPFILE.add(directory)  # no O_TMPFILE on this file system (EISDIR: a kernel without it)
        return None
    try:
        _fill(fd, output)
        try:
            os.link(str(fd), target, src_dir_fd=_proc_fds())  # linkat(.., AT_SYMLINK_FOLLOW): the file itself
        except FileExistsError:
            return None
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.ENOENT, errno.EPERM, errno.EOPNOTSUPP):
                raise
            _NO_TMPFILE.add(directory)  # no /proc, or a file system that cannot link it
            return None
        written = os.fstat(fd)  # after the link, which sets the ctime (stat_sig)
    finally:
        os.close(fd)
    return [written.st_size, written.st_ctime_ns]


def _replace(target: str, output: Output) -> list[int]:
    """Write a temp file beside the target and rename it over the target."""
    directory, _, name = target.rpartition("/")
    tmp = f"{directory}/.{name}.tmp{os.getpid()}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, output.mode)
    except FileNotFoundError:  # its directory is new
        os.makedirs(directory, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, output.mode)
    try:
        try:
            _fill(fd, output)
            os.replace(tmp, target)
            written = os.fstat(fd)  # after the rename, which sets the ctime (stat_sig)
        finally:
            os.close(fd)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)  # a full disk, an interrupt: the old file stays, no debris
        raise
    return [written.st_size, written.st_ctime_ns]


def _fill(fd: int, output: Output) -> None:
    """Write all of the output to `fd` with the promised mode."""
    data = memoryview(output.data)
    while data:  # a short write (a disk filling up) is continued: the next write raises ENOSPC
        data = data[os.write(fd, data) :]
    if (os.fstat(fd).st_mode & 0o777) != output.mode:  # the umask narrowed it, or a stale temp file had another
        os.fchmod(fd, output.mode)  # what we promised (0600 kickstarts), whatever the umask


_TMPFILE_FLAGS = getattr(os, "O_TMPFILE", 0) | os.O_WRONLY
_NO_TMPFILE: set[str] = set()  # output directories whose file system cannot make or link an unnamed file
_PROC_FDS: tuple[int, int] | None = None  # (pid, fd of that process's /proc/self/fd)


def _proc_fds() -> int:
    """A directory fd of this process's /proc/self/fd (a forked worker opens its own: the
    parent's names the parent's descriptors)."""
    global _PROC_FDS
    pid = os.getpid()
    if _PROC_FDS is None or _PROC_FDS[0] != pid:
        _PROC_FDS = (pid, os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
    return _PROC_FDS[1]


def _holds(path: str, data: bytes) -> bool:
    """Whether the file holds exactly `data` (its size already matched): one read past the
    expected end, so a file that grew since its stat is not taken as equal."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, len(data) + 1) == data
    finally:
        os.close(fd)


def remove_output(outdir: Path, relpath: str) -> bool:
    if relpath.startswith("/") or ".." in relpath.split("/"):
        return False  # never a path a build wrote: only files inside the build directory are removed
    try:
        _check_dirs(str(outdir), relpath)
    except OSError:
        return False  # through a link: not a file this build directory holds
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
