"""Replacing several files of the description as one step: all of them or none, even when the
process is killed at any point or the machine loses power.

One file is replaced by rename (temp file, fsync, rename). Several: a journal naming every file
the commit creates, replaces and deletes is written first (atomically, state "prepare"); files
that did not exist are created in place, files that did are written beside their target under a
temporary name; all of it is flushed to disk; then the journal is rewritten with state "commit"
— that rename is the commit point; then the renames and deletions run, and the journal goes.
Whoever opens the description next and finds a journal (`recover`) rolls a prepared commit back
(the created files and temp files are deleted) and a committed one forward (each step may be
repeated). Readers take the commit lock shared while they read, so they never see a commit in
progress either. Creating new files in place (a load of ten thousand hosts creates ten thousand)
saves a rename and a temporary name each.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rockscc.model.timing import phase

JOURNAL = ".rockscc-commit.json"
COMMIT_LOCK = ".cluster.commit.lock"
FAULT_ENV = "ROCKSCC_FAULT"  # tests: ROCKSCC_FAULT=commit:<step>:<n> kills the process at the n-th <step>
_TEMP_MARK = ".rockscc-tmp-"
_faults: dict[str, int] = {}


def checkpoint(step: str) -> None:
    """A point of a commit where tests kill the process (SIGKILL: no cleanup runs)."""
    fault = os.environ.get(FAULT_ENV, "")
    if not fault.startswith(f"commit:{step}:"):
        return
    _faults[step] = _faults.get(step, 0) + 1
    if str(_faults[step]) == fault.rsplit(":", 1)[1]:
        import signal  # here: only a test's fault needs it (every edit would pay its import)

        os.kill(os.getpid(), signal.SIGKILL)


@contextmanager
def commit_lock(root: Path, *, shared: bool) -> Iterator[None]:
    """Held exclusively while a commit replaces files, shared while a reader reads them."""
    try:
        handle = open(root / COMMIT_LOCK, "a")
    except OSError:  # a read-only description: nobody commits there
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace one file: temp file beside it, fsync, rename."""
    tmp = _write_temp(path, data, mode, sync=True)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise


def commit(root: Path, writes: dict[Path, bytes], deletes: list[Path], mode: int) -> None:
    """Write `writes` and delete `deletes` (paths under `root`), all or nothing."""
    if len(writes) == 1 and not deletes:
        ((path, data),) = writes.items()
        atomic_write(path, data, mode)
        checkpoint("renamed")
        return
    if not writes and len(deletes) == 1:
        _unlink(deletes[0])
        checkpoint("renamed")
        return
    prefix = len(str(root)) + 1
    creates = [str(p)[prefix:] for p in writes if not p.exists()]
    created = set(creates)
    replaces = [str(p)[prefix:] for p in writes if str(p)[prefix:] not in created]
    temps = {
        target: f"{os.path.dirname(target)}/{_TEMP_MARK}{os.path.basename(target)}".lstrip("/") for target in replaces
    }
    journal = {
        "state": "prepare",
        "creates": creates,
        "renames": list(temps.items()),
        "deletes": [str(p)[prefix:] for p in deletes],
    }
    atomic_write(root / JOURNAL, json.dumps(journal).encode(), 0o600)
    checkpoint("prepared")
    try:
        many = len(writes) > 16  # one flush of the file system instead of an fsync per file
        with phase("files"):
            for path, data in writes.items():
                relative = str(path)[prefix:]
                _write_new(root / temps.get(relative, relative), data, mode, sync=not many)
                checkpoint("written")
        with phase("sync"):
            if many:
                _sync_filesystem(root)
            for directory in {p.parent for p in writes}:
                _sync_dir(directory)
        journal["state"] = "commit"
        atomic_write(root / JOURNAL, json.dumps(journal).encode(), 0o600)
    except BaseException:
        _roll_back(root, journal)
        raise
    checkpoint("committed")
    _apply(root, journal)


def recover(root: Path) -> None:
    """Finish a commit that was interrupted after its journal was written (call under the
    commit lock, held exclusively)."""
    path = root / JOURNAL
    try:
        journal = json.loads(path.read_text())
    except FileNotFoundError:
        return
    except (OSError, ValueError):
        _unlink(path)  # a journal is renamed into place whole: this one never was
        return
    if journal.get("state") == "commit":
        _apply(root, journal)
    else:
        _roll_back(root, journal)


def has_journal(root: Path) -> bool:
    return (root / JOURNAL).exists()


def _roll_back(root: Path, journal: dict) -> None:
    """Undo a commit that did not reach its commit point: what it created and its temp files go."""
    for target in journal["creates"]:
        _unlink(root / target)
        checkpoint("rollback")
    for _target, tmp in journal["renames"]:
        _unlink(root / tmp)
    _unlink(root / JOURNAL)
    _sync_dir(root)


def _apply(root: Path, journal: dict) -> None:
    dirs = {root}
    for target, tmp in journal["renames"]:
        try:
            os.replace(root / tmp, root / target)
        except FileNotFoundError:
            pass  # renamed before the interruption
        dirs.add((root / target).parent)
        checkpoint("rename")
    for target in journal["deletes"]:
        _unlink(root / target)
        dirs.add((root / target).parent)
        checkpoint("delete")
    for directory in dirs:
        _sync_dir(directory)
    _unlink(root / JOURNAL)
    _sync_dir(root)


def remove_stray_temps(directory: Path) -> None:
    """Temp files of commits that died before their journal (call under the writers' lock)."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    remove_temps(directory, [entry.name for entry in entries])


def temps(names: list[str]) -> list[str]:
    """The temp files of commits among `names` (a listing of a directory)."""
    return [name for name in names if name.startswith(_TEMP_MARK)]


def remove_temps(directory: Path, names: list[str]) -> None:
    """Remove these temp files of `directory` (a listing the caller made anyway)."""
    for name in temps(names):
        _unlink(directory / name)


def _write_new(path: Path, data: bytes, mode: int, *, sync: bool) -> None:
    """Create `path` (replacing a leftover of an interrupted commit) with `data`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        os.fchmod(fd, mode)  # whatever the umask
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def _create_temp(path: Path) -> tuple[int, str]:
    """A new file beside `path` under a temp name, owner-only (what tempfile.mkstemp does;
    tempfile's imports — shutil, random, the compression modules — cost every edit ~10 ms)."""
    for _ in range(100):
        tmp = f"{path.parent}/{_TEMP_MARK}{path.name}.{os.urandom(6).hex()}"
        try:
            return os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{path.parent}: no free temp name")


def _write_temp(path: Path, data: bytes, mode: int, *, sync: bool) -> Path:
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            if sync:
                os.fsync(fh.fileno())
    except BaseException:
        _unlink(Path(tmp))
        raise
    return Path(tmp)


def _sync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _sync_filesystem(root: Path) -> None:
    """syncfs(2) on the description's file system (all files written so far reach the disk)."""
    import ctypes  # only for large commits

    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.syncfs(fd) != 0:
            os.sync()
    except (OSError, AttributeError):
        os.sync()
    finally:
        os.close(fd)


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
