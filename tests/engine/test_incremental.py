"""Incremental builds over every artifact family: each kind of change rebuilds exactly what it
affects; killed builds never leave partial files; concurrent builds don't corrupt anything."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rockscc.engine import make
from rockscc.engine.manifest import NAME as MANIFEST
from rockscc.engine.manifest import Manifest
from rockscc.model import load
from rockscc.pipeline import CompileOptions, Session
from tests.conftest import run_cli


@pytest.fixture
def cluster(cluster_dir):
    run = lambda *a: run_cli("-C", str(cluster_dir), *a)  # noqa: E731
    for cmd in (
        ["add", "host", "compute-0-0"],
        ["add", "host", "compute-0-1"],
        ["add", "host", "nas-0-0"],
        ["add", "host", "vm-container-0-0"],
        ["add", "host", "vm", "vm-container-0-0", "membership=Compute"],
        ["add", "hwprofile", "one", "disks=sda:80G"],
        ["set", "host", "hwprofile", "compute", "one"],
    ):
        assert run(*cmd).rc == 0, cmd
    first = build(cluster_dir)
    assert not first.errors, first.errors
    return cluster_dir, run


def build(root: Path, **kw) -> make.BuildReport:
    return Session(load(root), CompileOptions(evals=False)).build(make.BuildOptions(explain=True, **kw))


def rebuilt(report) -> set[str]:
    return {job for job, _ in report.rebuilt}


def test_noop_rebuild_touches_nothing(cluster):
    root, _ = cluster
    mtimes = {p: p.stat().st_mtime_ns for p in (root / "build").rglob("*") if p.is_file()}
    report = build(root)
    assert rebuilt(report) == set() and report.written == 0
    assert mtimes == {p: p.stat().st_mtime_ns for p in (root / "build").rglob("*") if p.is_file()}


def test_host_attribute_rebuilds_only_that_host(cluster):
    root, run = cluster
    assert run("set", "host", "attr", "compute-0-0", "Kickstart_Timezone", "Europe/Paris").rc == 0
    report = build(root)
    assert rebuilt(report) == {"profile:compute-0-0"}
    assert dict(report.rebuilt)["profile:compute-0-0"] == "host attribute Kickstart_Timezone changed"


def test_unread_attribute_rebuilds_nothing(cluster):
    root, run = cluster
    assert run("set", "host", "attr", "compute-0-0", "nobody_reads_this", "x").rc == 0
    assert rebuilt(build(root)) == set()


def test_global_attribute_rebuilds_every_reader(cluster):
    root, run = cluster
    assert run("set", "attr", "Kickstart_Keyboard", "de").rc == 0
    assert rebuilt(build(root)) == {
        f"profile:{h}"
        for h in ("frontend", "compute-0-0", "compute-0-1", "nas-0-0", "vm-container-0-0", "compute-0-0-0")
    }


def test_node_file_rebuilds_only_hosts_whose_path_includes_it(cluster):
    root, _ = cluster
    (root / "nodes").mkdir(exist_ok=True)
    (root / "nodes" / "extend-nas.xml").write_text("<kickstart><post>echo site</post></kickstart>\n")
    report = build(root)
    assert rebuilt(report) == {"profile:nas-0-0"}
    assert dict(report.rebuilt)["profile:nas-0-0"] == "the files defining node nas changed (added, removed or shadowed)"
    (root / "nodes" / "extend-nas.xml").write_text("<kickstart><post>echo changed</post></kickstart>\n")
    assert rebuilt(build(root)) == {"profile:nas-0-0"}


def test_hardware_rebuilds_hosts_of_that_profile(cluster):
    root, run = cluster
    assert run("add", "hwprofile", "two", "disks=sda:80G,sdb:80G").rc == 0
    assert run("set", "host", "hwprofile", "compute-0-1", "two").rc == 0
    assert rebuilt(build(root)) == {"profile:compute-0-1"}


def test_pxe_action_rebuilds_boot_files_only(cluster):
    root, run = cluster
    assert run("set", "host", "pxeboot", "compute-0-1", "action=os").rc == 0
    assert rebuilt(build(root)) == {"boot:compute-0-1"}


def test_vm_memory_rebuilds_vm_configs_only(cluster):
    root, run = cluster
    assert run("set", "host", "vm", "compute-0-0-0", "mem=2048").rc == 0
    assert rebuilt(build(root)) == {"vm:compute-0-0-0"}


def test_new_host_builds_its_artifacts_and_the_network_files(cluster):
    root, run = cluster
    assert run("add", "host", "compute-0-2").rc == 0
    assert rebuilt(build(root)) == {"profile:compute-0-2", "boot:compute-0-2", "net:cluster"}


def test_removed_host_loses_its_artifacts(cluster):
    root, run = cluster
    assert run("remove", "host", "compute-0-1").rc == 0
    report = build(root)
    assert not (root / "build" / "kickstart" / "compute-0-1.ks").exists()
    assert not (root / "build" / "partitions" / "compute-0-1.txt").exists()
    assert len(report.removed) >= 3


def test_build_errors_are_all_reported_and_keep_previous_artifacts(cluster):
    root, run = cluster
    good = (root / "build" / "kickstart" / "compute-0-0.ks").read_bytes()
    (root / "nodes").mkdir(exist_ok=True)
    (root / "nodes" / "extend-client.xml").write_text("<kickstart><post>&undefined_attr;</post></kickstart>\n")
    report = build(root)
    assert len(report.errors) >= 5  # every client host, not just the first
    assert all("undefined entity &undefined_attr;" in e for e in report.errors)
    assert (root / "build" / "kickstart" / "compute-0-0.ks").read_bytes() == good
    (root / "nodes" / "extend-client.xml").unlink()
    assert not build(root).errors


def _snapshot(root: Path) -> dict[str, bytes]:
    """The artifacts: not the manifest, not the memo cache (SQLite keeps that consistent itself)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in (root / "build").rglob("*")
        if p.is_file()
        and not p.name.startswith((MANIFEST, ".rockscc-build."))
        and ".tmp" not in p.name
        and ".rockscc-cache" not in p.parts
    }


def test_sigkill_at_random_points_never_leaves_partial_artifacts(cluster):
    root, run = cluster
    old = _snapshot(root)
    assert run("set", "attr", "Kickstart_Keyboard", "fr").rc == 0
    engine_new = Session(load(root), CompileOptions(evals=False)).build(make.BuildOptions(out=root / "expected"))
    assert not engine_new.errors
    # the service configs name the build directory they are in: "expected" stands for "build" there too
    new = {
        k.replace("expected", "build", 1): v.replace(b"/expected/", b"/build/")
        for k, v in (
            (str(p.relative_to(root)), p.read_bytes())
            for p in (root / "expected").rglob("*")
            if p.is_file() and not p.name.startswith((MANIFEST, ".rockscc-build.")) and ".rockscc-cache" not in p.parts
        )
    }
    rng = random.Random(7)
    for trial in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-m", "rockscc", "-C", str(root), "build", "--eval=no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.05, 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for path, data in _snapshot(root).items():
            assert data in (old.get(path), new.get(path)), f"trial {trial}: {path} is neither old nor new"
    final = run("build", "--eval=no")
    assert final.rc == 0, final.err
    assert _snapshot(root) == {k: v for k, v in new.items()}
    assert not [p for p in (root / "build").rglob("*.tmp*")]


def test_two_concurrent_builds_do_not_corrupt(cluster):
    root, run = cluster
    assert run("set", "attr", "Kickstart_Keyboard", "it").rc == 0
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "rockscc", "-C", str(root), "build", "--eval=no"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), results
    manifest = Manifest.load(root / "build")
    assert len(manifest.jobs) == build(root).fresh  # every job recorded, every record intact
    assert rebuilt(build(root)) == set()
    assert "keyboard it" in (root / "build" / "kickstart" / "compute-0-0.ks").read_text()


def test_the_same_description_reached_another_way_is_not_rebuilt(cluster, monkeypatch):
    root, _ = cluster
    (root / "nodes").mkdir(exist_ok=True)  # a site node: its path is in the compute hosts' records
    (root / "nodes" / "extend-compute.xml").write_text("<kickstart><post>echo site</post></kickstart>\n")
    assert not build(root).errors  # with an absolute path
    monkeypatch.chdir(root.parent)
    result = run_cli("-C", root.name, "build", "--eval=no")
    assert result.rc == 0 and " 0 rebuilt" in result.out, result.out
    monkeypatch.chdir(root)
    result = run_cli("build", "--eval=no")
    assert result.rc == 0 and " 0 rebuilt" in result.out, result.out


@pytest.mark.parametrize("fetch", [0, 10**9], ids=["log-read-at-once", "log-read-job-by-job"])
@pytest.mark.parametrize("helper", [False, True], ids=["in-process", "forked-helper"])
def test_deleted_or_edited_artifacts_are_rebuilt(cluster, monkeypatch, helper, fetch):
    from rockscc.engine import intact, manifest

    root, _ = cluster
    monkeypatch.setattr(intact, "HELPER_THRESHOLD", 0 if helper else 10**9)
    monkeypatch.setattr(manifest, "FETCH_ONE_BY_ONE", fetch)  # the log's stamps and signatures
    kickstart = root / "build" / "kickstart" / "compute-0-1.ks"
    good = kickstart.read_bytes()
    kickstart.write_bytes(good + b"# edited by hand\n")
    (root / "build" / "kickstart" / "nas-0-0.ks").unlink()
    ipxe = root / "build" / "tftp" / "ipxe" / "compute-0-0.ipxe"
    boot = ipxe.read_bytes()
    ipxe.unlink()
    report = build(root)
    why = "an output is missing or was changed outside rockscc"
    assert dict(report.rebuilt) == {"profile:compute-0-1": why, "profile:nas-0-0": why, "boot:compute-0-0": why}
    assert kickstart.read_bytes() == good and (root / "build" / "kickstart" / "nas-0-0.ks").exists()
    assert ipxe.read_bytes() == boot
    assert rebuilt(build(root)) == set()


def test_a_damaged_memo_is_rebuilt_not_an_error(cluster):
    root, run = cluster
    memo_file = root / "build" / ".rockscc-cache" / "memo.sqlite"
    assert memo_file.exists()  # the first build remembered plans and pykickstart verdicts
    memo_file.write_bytes(b"not a database" * 100)
    assert run("set", "host", "attr", "compute-0-0", "Kickstart_Timezone", "Asia/Tokyo").rc == 0
    report = build(root)
    assert not report.errors and rebuilt(report) == {"profile:compute-0-0"}
    assert "Asia/Tokyo" in (root / "build" / "kickstart" / "compute-0-0.ks").read_text()
    import sqlite3

    with sqlite3.connect(memo_file) as conn:  # replaced by a working one
        assert conn.execute("SELECT count(*) FROM memo").fetchone()[0] > 0


@pytest.mark.parametrize("fetch", [0, 10**9], ids=["log-read-at-once", "log-read-job-by-job"])
@pytest.mark.parametrize("helper", [False, True], ids=["in-process", "forked-helper"])
def test_a_damaged_or_planted_build_log_rebuilds_and_touches_nothing_outside(
    cluster, tmp_path, monkeypatch, helper, fetch
):
    """Entries of the build log (output signatures) that are garbage, of the wrong types, or name
    files outside the build directory: those jobs are rebuilt, and no file outside is removed,
    even for a job the build no longer has (whose outputs a build deletes)."""
    import marshal
    import sqlite3

    from rockscc.engine import intact, manifest

    monkeypatch.setattr(intact, "HELPER_THRESHOLD", 0 if helper else 10**9)
    monkeypatch.setattr(manifest, "FETCH_ONE_BY_ONE", fetch)
    root, _ = cluster
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (root / "victim.txt").write_text("keep me too")
    bad = {
        "boot:compute-0-0": b"\xff garbage",
        "boot:compute-0-1": marshal.dumps([1, 2, 3]),
        "vm:compute-0-0-0": marshal.dumps({"a": 1}),
        "boot:nas-0-0": marshal.dumps([["x"], 1, 2]),
    }
    with sqlite3.connect(root / "build" / MANIFEST) as conn:
        for job_id, blob in bad.items():
            assert conn.execute("UPDATE jobs SET sigs = ? WHERE id = ?", (blob, job_id)).rowcount == 1
        conn.execute(
            "INSERT INTO jobs SELECT 'boot:gone-0-0', 'gone-0-0', stamp, grp, ?, record FROM jobs WHERE id = 'boot:frontend'",
            (marshal.dumps([str(victim), 1, 1, "../victim.txt", 1, 1, "tftp/../../victim.txt", 1, 1]),),
        )
    report = build(root)
    assert not report.errors, report.errors
    assert set(bad) <= rebuilt(report)
    assert victim.read_text() == "keep me" and (root / "victim.txt").read_text() == "keep me too"
    assert rebuilt(build(root)) == set()  # the log is whole again


def test_debris_of_an_unfinished_build_is_swept_by_the_next(cluster):
    root, _ = cluster
    debris = root / "build" / "kickstart" / ".compute-0-0.ks.tmp4242"
    debris.write_text("half a kickstart")
    assert not build(root).errors
    assert debris.exists()  # the last build finished: no walk of the tree for debris
    (root / "build" / make.UNFINISHED_NAME).touch()  # as a killed or interrupted build leaves it
    assert not build(root).errors
    assert not debris.exists() and not (root / "build" / make.UNFINISHED_NAME).exists()


def test_a_build_refused_before_writing_leaves_no_marker(cluster):
    """A bad description stops the build before any job runs: nothing can have been left half
    written, so the next build must not walk the tree for debris (the marker says when to)."""
    root, run = cluster
    debris = root / "build" / "kickstart" / ".compute-0-0.ks.tmp4242"
    debris.write_text("not the build's: a finished build never sweeps")
    host_file = root / "hosts" / "compute-0-1.toml"
    good = host_file.read_text()
    host_file.write_text(good.replace('ip = "', 'ip = "not an address ', 1))
    refused = run("build", "--eval=no")
    assert refused.rc == 1 and "compute-0-1.toml" in refused.err, refused.err
    assert not (root / "build" / make.UNFINISHED_NAME).exists()
    host_file.write_text(good)
    assert run("build", "--eval=no").rc == 0
    assert debris.exists()
