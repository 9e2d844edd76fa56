"""The build engine on the cluster-wide network files (hosts, dhcpd.conf, dnsmasq, zones, nginx):
up-to-date detection, explain, dry-run, clean, atomic output, and the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rockscc.engine import make
from rockscc.engine.manifest import NAME as MANIFEST
from rockscc.engine.manifest import Manifest
from rockscc.model import load
from rockscc.pipeline import Session, producers


def build(root: Path, **options) -> make.BuildReport:
    return Session(load(root)).build(make.BuildOptions(**options))


NET_FILES = {
    "net/hosts",
    "net/dhcpd.conf",
    "net/dnsmasq.conf",
    "net/dnsmasq.hosts",
    "net/nginx-rockscc.conf",
    "net/zones/local",
    "net/zones/1.10.in-addr.arpa",
    "net/zones/named.conf",
}


@pytest.fixture(autouse=True)
def only_netfiles(monkeypatch):
    """Build only the network files here, so these tests don't depend on the compiler."""
    monkeypatch.setattr(producers, "ALL", [producers.network_jobs])


def test_first_build_writes_then_noop_touches_nothing(cluster_dir: Path, rockscc) -> None:
    assert rockscc("add host compute-0-0 mac=00:11:22:33:44:55").rc == 0
    first = build(cluster_dir)
    assert first.written == len(NET_FILES) and not first.errors
    hosts = cluster_dir / "build" / "net" / "hosts"
    assert "compute-0-0.local compute-0-0" in hosts.read_text()
    dhcp = (cluster_dir / "build" / "net" / "dhcpd.conf").read_text()
    assert "hardware ethernet 00:11:22:33:44:55;" in dhcp and "fixed-address 10.1.255.254;" in dhcp
    mtime = hosts.stat().st_mtime_ns
    again = build(cluster_dir)
    assert (again.fresh, again.written, len(again.rebuilt)) == (1, 0, 0)
    assert hosts.stat().st_mtime_ns == mtime


def test_change_is_explained_and_rebuilt(cluster_dir: Path, rockscc) -> None:
    rockscc("add host compute-0-0")
    build(cluster_dir)
    rockscc("add host compute-0-1")
    report = build(cluster_dir, explain=True)
    assert [job for job, _ in report.rebuilt] == ["net:cluster"]
    assert "hosts" in report.rebuilt[0][1]
    assert "compute-0-1" in (cluster_dir / "build" / "net" / "hosts").read_text()


def test_dry_run_writes_nothing(cluster_dir: Path, rockscc) -> None:
    report = build(cluster_dir, dry_run=True)
    assert report.rebuilt == [("net:cluster", "new")]
    assert not (cluster_dir / "build" / "net").exists()


def test_output_edited_by_hand_is_restored(cluster_dir: Path) -> None:
    build(cluster_dir)
    hosts = cluster_dir / "build" / "net" / "hosts"
    good = hosts.read_text()
    hosts.write_text("tampered\n")
    report = build(cluster_dir, explain=True)
    assert report.rebuilt == [("net:cluster", "an output is missing or was changed outside rockscc")]
    assert hosts.read_text() == good


def test_manifest_records_outputs_and_clean_removes_them(cluster_dir: Path, rockscc) -> None:
    build(cluster_dir)
    manifest = Manifest.load(cluster_dir / "build")
    assert set(manifest.jobs["net:cluster"]["outputs"]) == NET_FILES
    assert manifest.jobs["net:cluster"]["spec"]["hosts"]  # what it read
    result = rockscc("build --clean")
    assert result.rc == 0 and f"removed {len(NET_FILES)} artifacts" in result.out
    assert not (cluster_dir / "build" / "net").exists()


def test_corrupt_manifest_means_full_rebuild_not_failure(cluster_dir: Path) -> None:
    build(cluster_dir)
    (cluster_dir / "build" / MANIFEST).write_text("not a database, not anything")
    report = build(cluster_dir)
    assert not report.errors and report.rebuilt and report.written == 0 and report.unchanged == len(NET_FILES)


def test_list_build_shows_each_jobs_artifacts_and_reads(cluster_dir: Path, rockscc) -> None:
    assert rockscc("list build").rc == 1  # nothing built yet: says so
    build(cluster_dir)
    listing = rockscc("list build")
    assert listing.rc == 0, listing.err
    row = next(line for line in listing.out.splitlines() if line.startswith("net:cluster"))
    assert "net/dhcpd.conf net/dnsmasq.conf" in row
    full = json.loads(rockscc("list build json=yes").out)
    assert set(full["net:cluster"]["outputs"]) == NET_FILES
    assert all(len(sig) == 3 and len(sig[2]) == 64 for sig in full["net:cluster"]["outputs"].values())


def test_a_vanished_job_does_not_take_the_files_another_job_now_writes(cluster_dir: Path, monkeypatch) -> None:
    """A job renamed between versions: its old record's outputs are now another job's."""
    from rockscc.engine.jobs import SpecJob

    original = producers.network_jobs
    renamed = lambda session, wanted: [
        SpecJob("net:old-name", None, job.spec, job.render, job.salt)  # noqa: E731
        for job in original(session, wanted)
    ]
    monkeypatch.setattr(producers, "ALL", [renamed])
    build(cluster_dir)
    monkeypatch.setattr(producers, "ALL", [original])
    report = build(cluster_dir)
    assert not report.errors and report.removed == []
    assert all((cluster_dir / "build" / name).is_file() for name in NET_FILES)
    assert "net:old-name" not in set(Manifest.load(cluster_dir / "build").jobs)
    again = build(cluster_dir)
    assert (again.fresh, len(again.rebuilt)) == (1, 0)
