"""The per-job bookkeeping a build does for every host (engine/jobs.py, engine/make.py): the
dependency split, the dependency group's digest remembered by content, and a group sent from a
forked worker to the parent only once. Each must give what the plain computation gives."""

from __future__ import annotations

import sqlite3

from rockscc.engine import make
from rockscc.engine.jobs import DepResolver, digest
from rockscc.engine.manifest import NAME as MANIFEST
from tests.engine.differential import Description


def test_a_group_digest_is_the_digest_of_its_content_whatever_came_before():
    resolver = DepResolver()
    groups = [
        {"file:/a": "1", "attr:x": None},
        {"attr:x": None, "file:/a": "1"},  # the same content in another order
        {"file:/a": "2", "attr:x": None},
        {"file:/a": 1, "attr:x": None},  # 1 == True == 1.0 in a set, not in JSON
        {"file:/a": True, "attr:x": None},
        {"file:/a": 1.0, "attr:x": None},
        {"file:/a": "1", "attr:x": None, "attr:y": ""},
        {},
    ]
    for group in groups + groups:
        assert resolver.group_digest(group) == digest(group), group


def test_the_split_keeps_the_order_and_follows_a_new_test():
    resolver = DepResolver()
    deps = {"hw:": "h", "attr:a": "1", "attr:hostname": "n", "file:/f": "x", "env:": "e"}
    assert [list(part) for part in resolver.split(deps)] == [["hw:"], ["attr:a", "attr:hostname", "file:/f", "env:"]]
    resolver.host_specific = lambda key: key.startswith(("hw:", "env:", "attr:hostname"))
    own, shared = resolver.split(deps)
    assert list(own) == ["hw:", "attr:hostname", "env:"] and list(shared) == ["attr:a", "file:/f"]
    assert own == {"hw:": "h", "attr:hostname": "n", "env:": "e"}


def test_every_group_a_record_names_reaches_the_log_from_forked_workers(tmp_path, monkeypatch):
    # the workers send each group once: the parent must still store every group a record names,
    # so that the next build checks the records exactly instead of rebuilding them
    monkeypatch.setattr(make, "PARALLEL_THRESHOLD", 2)
    d = Description(tmp_path)
    for name in ("compute-0-0", "compute-0-1", "compute-0-2", "compute-1-0", "vm-container-0-0"):
        d.must("add", "host", name)
    d.must("set", "host", "attr", "compute-1-0", "Kickstart_Timezone", "Asia/Tokyo")  # another context
    first = d.check("--eval=no", "-j2")
    assert first.result.rc == 0 and len(first.rebuilt) >= 5
    with sqlite3.connect(d.root / "build" / MANIFEST) as log:
        named = {grp for (grp,) in log.execute("SELECT grp FROM jobs WHERE id LIKE 'profile:%'")}
        stored = {gid for (gid,) in log.execute("SELECT id FROM groups")}
        assert named and None not in named and named <= stored
        log.execute("DELETE FROM hosts")  # no host settled: every job is checked exactly
    again = d.check("--eval=no", "-j2")
    assert again.rebuilt == {}, again.rebuilt


def test_a_group_whose_first_result_failed_to_write_still_reaches_the_log(tmp_path, monkeypatch):
    # fault injection: a compute host's files cannot be written after its job ran. Its group must
    # still travel with the next result of that group (the other compute hosts), or the other hosts' records name a group
    # the log never stores (and the next build rebuilds them for nothing)
    d = Description(tmp_path)
    for name in ("compute-0-0", "compute-0-1", "compute-0-2"):
        d.must("add", "host", name)
    real, failed = make._write, []

    def full_disk_once(result, outdir, unfinished, *, new):
        compiled = "group" in result.record  # a kickstart job's result, not a boot file's
        if compiled and not failed and any("compute-0-0" in output.path for output in result.outputs):
            failed.append(True)
            raise OSError(28, "No space left on device")
        return real(result, outdir, unfinished, new=new)

    monkeypatch.setattr(make, "_write", full_disk_once)
    first = d.build("--eval=no", "-j1")
    assert failed and first.result.rc != 0 and len(first.errors) == 1, first.result.err
    with sqlite3.connect(d.root / "build" / MANIFEST) as log:
        named = {grp for (grp,) in log.execute("SELECT grp FROM jobs WHERE id LIKE 'profile:%'")}
        stored = {gid for (gid,) in log.execute("SELECT id FROM groups")}
        assert named and None not in named and named <= stored
        log.execute("DELETE FROM hosts")  # no host settled: every job is checked exactly
    monkeypatch.setattr(make, "_write", real)
    again = d.check("--eval=no", "-j1")
    assert set(again.rebuilt) == set(first.errors), again.rebuilt


def test_split_group_is_split_and_group_digest_whatever_came_before():
    """split_group remembers the split by key sequence and the digest by keys and values: each
    answer must be the plain split's and digest's, for sequences seen before, orders, values of
    other types (True == 1 in a tuple, not in JSON) and a changed host-specific test."""
    resolver = DepResolver()
    deps_list = [
        {"hw:": "h", "attr:a": "1", "file:/f": "x"},
        {"hw:": "g", "attr:a": "1", "file:/f": "x"},  # same keys, same group, own value differs
        {"hw:": "h", "attr:a": "2", "file:/f": "x"},  # same keys, another group
        {"attr:a": "1", "hw:": "h", "file:/f": "x"},  # another order
        {"hw:": "h", "attr:a": 1, "file:/f": "x"},
        {"hw:": "h", "attr:a": True, "file:/f": "x"},
        {"hw:": "h", "attr:a": None, "file:/f": "x", "attr:b": ""},
        {},
    ]
    for deps in deps_list + deps_list:
        own, group, shared = resolver.split_group(deps)
        plain_own, plain_shared = resolver.split(deps)
        assert (own, shared) == (plain_own, plain_shared) and list(own) == list(plain_own), deps
        assert list(shared) == list(plain_shared) and group == digest(plain_shared), deps
    resolver.host_specific = lambda key: key.startswith(("hw:", "attr:a"))
    own, group, shared = resolver.split_group(deps_list[0])
    assert own == {"hw:": "h", "attr:a": "1"} and shared == {"file:/f": "x"} and group == digest(shared)


def test_the_warm_up_compiles_one_host_of_each_kind_before_forking(tmp_path, monkeypatch):
    """Session.warm_up: one compile per kind of host (appliance, VM or not, hardware profile,
    own hardware), so the forked workers inherit each kind's walk record, partition chain and
    pykickstart verdict instead of each making them again; each warmed job still runs in its
    worker, and the build is the one a single process makes."""
    from rockscc.model import load
    from rockscc.pipeline import Session, producers

    d = Description(tmp_path)
    for name in ("compute-0-0", "compute-0-1", "compute-0-2", "compute-1-0", "vm-container-0-0", "vm-container-0-1"):
        d.must("add", "host", name)
    d.must("add", "hwprofile", "sda-only", "disks=sda:80G")
    d.must("set", "host", "hwprofile", "compute-0-1", "sda-only")
    d.must("set", "host", "hwprofile", "compute-0-2", "sda-only")
    session = Session(load(d.root))
    jobs = producers.profile_jobs(session, producers.Wanted(d.root / "build"))
    kinds = [job.host for job in session._kinds(jobs)]
    assert kinds == ["compute-0-0", "compute-0-1", "frontend", "vm-container-0-0"], kinds
    handed = tmp_path / "handed"  # the warm-up runs in the first worker (engine/workers.py): a file tells
    kinds_of = Session._kinds
    monkeypatch.setattr(
        Session, "_kinds", lambda self, jobs: (handed.write_text(str(len(jobs))), kinds_of(self, jobs))[1]
    )
    monkeypatch.setattr(make, "PARALLEL_THRESHOLD", 2)
    build = d.check("--eval=no", "-j2")  # the same artifacts as a build from scratch
    assert build.result.rc == 0 and handed.read_text() == "7"  # handed every compile job
