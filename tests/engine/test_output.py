"""engine/output.write_output under attack: modes whatever the umask or a stale temp file, files
changed by hand put back, and writes that fail or are killed leave the old file or the new one,
never a partial one and no debris."""

from __future__ import annotations

import errno
import os
import signal
import stat
from pathlib import Path

import pytest

from rockscc.engine import output as output_mod
from rockscc.engine.output import Output, write_output


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sig(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_ctime_ns]


@pytest.mark.parametrize("new", [False, True])
@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077, 0o777])
@pytest.mark.parametrize("wanted", [0o600, 0o644, 0o664])
def test_a_new_file_has_the_promised_mode_whatever_the_umask(tmp_path, umask, wanted, new):
    old = os.umask(umask)
    try:
        written, got = write_output(tmp_path, Output("d/f.txt", b"data\n", wanted), new=new)
    finally:
        os.umask(old)
    target = tmp_path / "d" / "f.txt"
    assert written and target.read_bytes() == b"data\n"
    assert mode(target) == wanted
    assert got == sig(target)


def test_a_stale_temp_file_of_another_mode_does_not_lend_it_its_mode(tmp_path):
    """A build killed between write and rename leaves `.NAME.tmpPID`; a later build of the same
    pid replacing NAME opens it with O_TRUNC, which keeps the old file's mode: it is set again."""
    (tmp_path / "kickstart").mkdir()
    (tmp_path / "kickstart" / "h.ks").write_bytes(b"old\n")
    stale = tmp_path / "kickstart" / f".h.ks.tmp{os.getpid()}"
    stale.write_bytes(b"partial")
    stale.chmod(0o666)
    written, _ = write_output(tmp_path, Output("kickstart/h.ks", b"secret\n", 0o600))
    assert written
    assert mode(tmp_path / "kickstart" / "h.ks") == 0o600
    assert not stale.exists()


def test_a_new_file_never_shows_under_another_name(tmp_path, monkeypatch):
    """A file not there yet is written unnamed and linked once complete: at no point of its
    writing does the directory hold anything but complete files."""
    seen = []
    real_write = os.write

    def write_and_look(fd, data):
        seen.append(sorted(p.name for p in tmp_path.iterdir()))
        return real_write(fd, data)

    monkeypatch.setattr(output_mod.os, "write", write_and_look)
    write_output(tmp_path, Output("a", b"first", 0o644))
    write_output(tmp_path, Output("b", b"second", 0o644))
    assert seen == [[], ["a"]]
    assert (tmp_path / "a").read_bytes() == b"first" and (tmp_path / "b").read_bytes() == b"second"


def test_without_unnamed_files_a_new_file_goes_through_a_temp_file(tmp_path, monkeypatch):
    """A file system without O_TMPFILE: the open fails (here EISDIR), the temp file + rename path
    writes it, whole and with its mode, and the directory is not asked again."""
    monkeypatch.setattr(output_mod, "_TMPFILE_FLAGS", os.O_WRONLY)  # opening a directory to write: EISDIR
    monkeypatch.setattr(output_mod, "_NO_TMPFILE", set())
    old = os.umask(0o077)
    try:
        assert write_output(tmp_path, Output("d/f", b"data", 0o644))[0]
        assert write_output(tmp_path, Output("d/g", b"more", 0o664))[0]
    finally:
        os.umask(old)
    assert (tmp_path / "d" / "f").read_bytes() == b"data" and mode(tmp_path / "d" / "f") == 0o644
    assert mode(tmp_path / "d" / "g") == 0o664
    assert output_mod._NO_TMPFILE == {str(tmp_path / "d")}
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["f", "g"]


def test_a_name_taken_between_the_stat_and_the_link_is_replaced(tmp_path, monkeypatch):
    """The target appears after write_output found it missing (another program): the link
    refuses to overwrite it and the file is replaced by rename, with the new bytes."""
    (tmp_path / "f").write_bytes(b"appeared meanwhile")
    real_stat = os.stat

    def missing(path, *args, **kwargs):
        if str(path).endswith("/f"):
            raise FileNotFoundError(path)
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(output_mod.os, "stat", missing)
    written, got = write_output(tmp_path, Output("f", b"new", 0o600))
    monkeypatch.undo()
    assert written and (tmp_path / "f").read_bytes() == b"new"
    assert mode(tmp_path / "f") == 0o600 and got == sig(tmp_path / "f")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


@pytest.mark.parametrize("exists", [False, True])
def test_short_writes_are_continued(tmp_path, monkeypatch, exists):
    """write() may take fewer bytes than given (a disk filling up): the rest is written, never a
    truncated file linked or renamed into place."""
    if exists:
        (tmp_path / "f").write_bytes(b"old")
    real_write = os.write
    monkeypatch.setattr(output_mod.os, "write", lambda fd, data: real_write(fd, bytes(data[:3])))
    data = bytes(range(256)) * 4
    written, got = write_output(tmp_path, Output("f", data, 0o644))
    monkeypatch.undo()
    assert written and (tmp_path / "f").read_bytes() == data and got == sig(tmp_path / "f")


@pytest.mark.parametrize("new", [False, True])
def test_a_file_whose_mode_was_changed_by_hand_is_put_back_without_rewriting(tmp_path, new):
    write_output(tmp_path, Output("h.ks", b"secret\n", 0o600))
    target = tmp_path / "h.ks"
    target.chmod(0o644)
    before = target.stat()
    written, got = write_output(tmp_path, Output("h.ks", b"secret\n", 0o600), new=new)
    assert not written
    assert mode(target) == 0o600
    assert target.stat().st_ino == before.st_ino  # the same file: not replaced
    assert got == sig(target)  # its ctime is the chmod's


@pytest.mark.parametrize("new", [False, True])
def test_unchanged_bytes_are_not_rewritten_and_the_signature_is_the_files(tmp_path, new):
    """Also when the job has no record (new=True: the log was lost, the files are there): the
    link refuses the existing name and the bytes are compared as always."""
    write_output(tmp_path, Output("f", b"same", 0o644))
    before = (tmp_path / "f").stat()
    written, got = write_output(tmp_path, Output("f", b"same", 0o644), new=new)
    assert not written and (tmp_path / "f").stat().st_ino == before.st_ino
    assert got == sig(tmp_path / "f") == [before.st_size, before.st_ctime_ns]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


@pytest.mark.parametrize("new", [False, True])
@pytest.mark.parametrize("on_disk", [b"samf", b"sam", b"same-but-longer", b""])
def test_a_file_changed_by_hand_is_put_back(tmp_path, on_disk, new):
    (tmp_path / "f").write_bytes(on_disk)
    written, got = write_output(tmp_path, Output("f", b"same", 0o644), new=new)
    assert written
    assert (tmp_path / "f").read_bytes() == b"same"
    assert got == sig(tmp_path / "f")


def test_a_file_that_grows_after_its_stat_is_not_taken_as_equal(tmp_path, monkeypatch):
    """The content check reads past the expected end: a file whose first bytes are the output's
    but that is longer than its stat said is rewritten."""
    (tmp_path / "f").write_bytes(b"same")
    real_lstat = os.lstat  # what write_output looks at the file with (a link is never looked through)

    def stat_then_grow(path, *args, **kwargs):
        st = real_lstat(path, *args, **kwargs)
        if str(path).endswith("/f"):
            with open(path, "ab") as f:
                f.write(b"tail")
        return st

    monkeypatch.setattr(output_mod.os, "lstat", stat_then_grow)
    written, _ = write_output(tmp_path, Output("f", b"same", 0o644))
    assert written
    assert (tmp_path / "f").read_bytes() == b"same"


@pytest.mark.parametrize(
    ("exists", "failing"),
    [(True, "write"), (True, "fstat"), (True, "replace"), (False, "write"), (False, "fstat"), (False, "link")],
)
def test_a_write_that_fails_leaves_the_old_file_or_none_and_no_debris(tmp_path, monkeypatch, exists, failing):
    """A full disk at each step: a replaced file stays old, a new one is not there, no temp file."""
    before = {"f": b"old content\n"} if exists else {"keep": b"x"}
    for name, data in before.items():
        (tmp_path / name).write_bytes(data)

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output_mod.os, failing, full_disk)
    with pytest.raises(OSError):
        write_output(tmp_path, Output("f", b"new content, longer\n", 0o644))
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize("exists", [True, False])
def test_a_process_killed_mid_write_leaves_the_old_file_or_none(tmp_path, exists):
    """SIGKILL after half the bytes were written: the target is the old file, whole (a new one is
    not there at all); a replaced file's temp file is swept by the next build (sweep_temp_files),
    a new file's unnamed one is gone with the process."""
    if exists:
        (tmp_path / "f").write_bytes(b"old content\n")
    new = b"N" * 100_000
    pid = os.fork()
    if pid == 0:  # the child writes half, then is killed where it stands
        try:

            def half_then_die(fd, data):
                os.pwrite(fd, data[: len(data) // 2], 0)
                os.kill(os.getpid(), signal.SIGKILL)

            output_mod.os.write = half_then_die
            write_output(tmp_path, Output("f", new, 0o644))
        finally:
            os._exit(3)  # never reached when the kill worked
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    names = sorted(p.name for p in tmp_path.iterdir())
    if exists:
        assert (tmp_path / "f").read_bytes() == b"old content\n"
        assert names == [f".f.tmp{pid}", "f"]
        output_mod.sweep_temp_files(tmp_path)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]
    else:
        assert names == []


def test_a_full_disk_at_the_open_is_the_jobs_error_not_a_file_system_without_unnamed_files(tmp_path, monkeypatch):
    """ENOSPC when the unnamed file is made is reported (the job fails, its old files stay); the
    directory is not taken for one whose file system lacks O_TMPFILE (that would cost every
    later file of the process the temp-file way)."""
    monkeypatch.setattr(output_mod, "_NO_TMPFILE", set())
    real_open = os.open

    def full_disk_for_unnamed(path, flags, *args, **kwargs):
        if flags & getattr(os, "O_TMPFILE", 0) == getattr(os, "O_TMPFILE", -1):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(output_mod.os, "open", full_disk_for_unnamed)
    with pytest.raises(OSError) as raised:
        write_output(tmp_path, Output("f", b"data", 0o644), new=True)
    assert raised.value.errno == errno.ENOSPC
    assert output_mod._NO_TMPFILE == set()
    assert list(tmp_path.iterdir()) == []
