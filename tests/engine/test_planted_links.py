"""Links planted in the build directory (by a description from elsewhere, a tree copied in, a
previous build's directory tampered with) never make a build write, create or chmod anything
outside it: a real `rockscc build` after each plant, and the host file the link names is
unchanged."""

from __future__ import annotations

import os

import pytest

from tests.conftest import run_cli

HOSTS_TEXT = "127.0.0.1 localhost\n"


@pytest.fixture
def built(cluster_dir):
    assert run_cli("-C", str(cluster_dir), "add", "host", "compute-0-0").rc == 0
    result = run_cli("-C", str(cluster_dir), "build", "--eval=no")
    assert result.rc == 0, result.err
    return cluster_dir


@pytest.fixture
def victim(tmp_path):
    """A directory standing for /etc: a hosts file and an executable the build must not touch."""
    directory = tmp_path / "etc"
    directory.mkdir()
    (directory / "hosts").write_text(HOSTS_TEXT)
    (directory / "tool").write_text("#!/bin/sh\n")
    (directory / "tool").chmod(0o755)
    return directory


def rebuild(cluster):
    """A change that makes the cluster-wide files and a kickstart be written again."""
    assert run_cli("-C", str(cluster), "add", "host", "compute-0-1").rc == 0
    return run_cli("-C", str(cluster), "build", "--eval=no")


def untouched(victim) -> None:
    assert sorted(p.name for p in victim.iterdir()) == ["hosts", "tool"]
    assert (victim / "hosts").read_text() == HOSTS_TEXT
    assert (victim / "tool").stat().st_mode & 0o777 == 0o755


@pytest.mark.parametrize("directory", ["net", "kickstart"])
def test_an_artifact_directory_replaced_by_a_link_is_not_written_through(built, victim, directory):
    build = built / "build"
    (build / directory).rename(build / f"{directory}.moved")
    (build / directory).symlink_to(victim)
    result = rebuild(built)
    untouched(victim)
    assert result.rc != 0
    assert f"build/{directory}: a link (to {victim}), not a directory" in result.err, result.err
    assert "Traceback" not in result.err
    (build / directory).unlink()  # the link gone, the next build writes the files again
    assert run_cli("-C", str(built), "build", "--eval=no").rc == 0
    assert (build / directory).is_dir() and not (build / directory).is_symlink()


def test_an_artifact_replaced_by_a_link_to_an_equal_file_is_made_a_file_again(built, tmp_path):
    """Equal bytes through a link are not "unchanged" (nor chmod'ed through it): the artifact is a
    file of the build again, the file the link named keeps its mode."""
    hosts = built / "build" / "net" / "hosts"
    outside = tmp_path / "hosts-copy"
    outside.write_bytes(hosts.read_bytes())
    outside.chmod(0o600)
    hosts.unlink()
    hosts.symlink_to(outside)
    assert run_cli("-C", str(built), "build", "--eval=no").rc == 0
    assert not hosts.is_symlink() and hosts.is_file()
    assert outside.stat().st_mode & 0o777 == 0o600


def test_a_link_in_the_memo_cache_place_never_chmods_the_file_it_names(built, victim):
    cache = built / "build" / ".rockscc-cache"
    for entry in cache.iterdir():
        entry.unlink()
    (cache / "memo.sqlite").symlink_to(victim / "tool")
    assert run_cli("-C", str(built), "add", "hwprofile", "d", "disks=sda:80G").rc == 0
    assert run_cli("-C", str(built), "set", "host", "hwprofile", "compute-0-0", "d").rc == 0
    result = run_cli("-C", str(built), "build")  # the partition plan goes to the memo
    assert result.rc == 0, result.err
    untouched(victim)


def test_a_link_in_the_place_of_the_memo_directory_is_not_written_through(built, victim):
    cache = built / "build" / ".rockscc-cache"
    for entry in cache.iterdir():
        entry.unlink()
    cache.rmdir()
    cache.symlink_to(victim)
    assert run_cli("-C", str(built), "add", "hwprofile", "d", "disks=sda:80G").rc == 0
    assert run_cli("-C", str(built), "set", "host", "hwprofile", "compute-0-0", "d").rc == 0
    result = run_cli("-C", str(built), "build")
    assert result.rc == 0, result.err
    untouched(victim)
    assert cache.is_dir() and not cache.is_symlink()


@pytest.mark.parametrize("name", [".rockscc-build.lock", ".rockscc-build.unfinished"])
def test_a_link_in_the_place_of_the_lock_or_the_marker_creates_nothing_outside(built, victim, name):
    from rockscc.engine.make import LOCK_NAME, UNFINISHED_NAME

    assert name in (LOCK_NAME, UNFINISHED_NAME), "the test names the build's own files"
    planted = built / "build" / name
    planted.unlink(missing_ok=True)
    planted.symlink_to(victim / "nologin")  # /etc/nologin, made by root, stops every other login
    result = rebuild(built)
    untouched(victim)
    assert "Traceback" not in result.err
    assert not os.path.lexists(victim / "nologin")


@pytest.mark.parametrize("how", ["file link", "directory link"])
def test_a_tftpboot_link_to_a_private_file_never_publishes_it(built, tmp_path, how):
    """The TFTP tree is served to anyone: a site file reached through a link (tftpboot/x ->
    /etc/shadow, or tftpboot/ -> /etc) is copied only when everyone may read it already."""
    private = tmp_path / "private"
    private.mkdir()
    (private / "shadow").write_text("root:$6$secret:19000:0:99999:7:::\n")
    (private / "shadow").chmod(0o600)
    (private / "vmlinuz").write_text("a kernel\n")
    (private / "vmlinuz").chmod(0o644)
    site = built / "tftpboot"
    if how == "file link":
        site.mkdir()
        (site / "shadow").symlink_to(private / "shadow")
        (site / "vmlinuz").symlink_to(private / "vmlinuz")
    else:
        site.symlink_to(private)
    result = run_cli("-C", str(built), "build", "--eval=no")
    assert result.rc != 0
    assert f"tftpboot/shadow: a link to {private / 'shadow'}, which not everyone may read (mode 0600)" in result.err
    assert not (built / "build" / "tftp" / "shadow").exists()
    (private / "shadow").unlink()  # what everyone may read is served, through a link too
    assert run_cli("-C", str(built), "build", "--eval=no").rc == 0
    assert (built / "build" / "tftp" / "vmlinuz").read_text() == "a kernel\n"


@pytest.mark.parametrize("command", [["build", "--eval=no"], ["build", "clean=yes"]])
def test_an_out_directory_holding_other_files_is_refused(cluster_dir, victim, command):
    """`out=/etc` (or a TFTP root) mistyped: the build would write its tree among the system's own
    files and replace any that share an artifact's name. A directory that holds files and no
    build of rockscc is refused before anything is written, the lock file included."""
    assert run_cli("-C", str(cluster_dir), "add", "host", "compute-0-0").rc == 0
    result = run_cli("-C", str(cluster_dir), *command, f"out={victim}")
    assert result.rc == 1 and result.err.startswith("error - "), result.err
    assert f"{victim}: holds 2 file(s) (hosts, tool) and no build of rockscc" in result.err, result.err
    untouched(victim)


def test_an_out_directory_that_is_new_empty_or_built_before_is_taken(cluster_dir, tmp_path):
    assert run_cli("-C", str(cluster_dir), "add", "host", "compute-0-0").rc == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    for out in (tmp_path / "new" / "tree", empty, empty):  # the third: the directory the second built
        result = run_cli("-C", str(cluster_dir), "build", "--eval=no", f"out={out}")
        assert result.rc == 0, result.err
        assert (out / "kickstart" / "compute-0-0.ks").is_file()
