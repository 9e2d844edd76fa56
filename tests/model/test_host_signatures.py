"""Attacks on the narrow check of every host file (store.HostFiles.verify_all): the index's
signatures, digests and VM containers are read as whole columns (Index.signatures), and the
rows of the files found equal to them are fetched only when asked for. What a build reads from
it (each host's record digest, the VM → container map) and every row fetched later must be
exactly what a plain reading of the files gives, whatever happened to the files or the index."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from rockscc.model import load
from rockscc.model.cluster import host_digest
from rockscc.model.hostindex import INDEX
from rockscc.model.store import HOSTS_DIR
from tests.model.test_store_lazy import keep_size_and_mtime, plain_reading, settle


def host_path(root: Path, name: str) -> Path:
    return root / HOSTS_DIR / f"{name}.toml"


@pytest.fixture
def cluster(cluster_dir: Path, rockscc) -> Path:
    for name in ("compute-0-0", "compute-0-1", "vm-container-0-0", "vm-container-0-1"):
        assert rockscc(f"add host {name}").rc == 0
    for container in ("vm-container-0-0", "vm-container-0-0", "vm-container-0-1"):
        assert rockscc(f"add host vm {container} membership=Compute disksize=1").rc == 0
    assert rockscc("list host").rc == 0
    settle()
    assert rockscc("list host").rc == 0  # every row recorded and trusted by signature
    return cluster_dir


def build_view(root: Path) -> tuple[dict, dict]:
    """(digests, containers) as a build asks for them: nothing decoded before."""
    table = load(root, lazy=True).host_table()
    return table.digests(), table.containers()


def from_files(root: Path) -> tuple[dict, dict]:
    """The same, from a plain reading of the files (no index)."""
    cluster = load(root)
    hosts = dict(cluster.hosts.items())
    assert {name: cluster.hosts[name] for name in hosts}  # every record decoded
    digests = {name: host_digest(host) for name, host in hosts.items()}
    containers = {name: host.vm.container for name, host in hosts.items() if host.vm is not None}
    return digests, containers


def index_rows(root: Path) -> int:
    db = sqlite3.connect(root / INDEX)
    try:
        return db.execute("SELECT count(*) FROM hosts").fetchone()[0]
    finally:
        db.close()


def test_digests_and_containers_are_the_files(cluster: Path) -> None:
    digests, containers = build_view(cluster)
    assert (digests, containers) == from_files(cluster)
    assert len(containers) == 3 and set(containers.values()) == {"vm-container-0-0", "vm-container-0-1"}
    assert list(digests) == sorted(digests)  # the table's order: the build's hosts digest joins them in it


def test_nothing_is_fetched_for_a_build_and_rows_fetched_later_are_the_files(cluster: Path) -> None:
    table = load(cluster, lazy=True).host_table()
    table.digests()
    view = table.view
    assert view.complete and view._pending and not view._rows  # the short cut was taken
    expected = plain_reading(cluster)
    assert {name: table.vm_container(name) for name in table} == {
        name: (record.get("vm") or {}).get("container") for name, record in expected.items()
    }
    assert view.rows.keys() == set(expected)  # all fetched now
    assert not view._pending
    assert load(cluster, lazy=True).to_data()["hosts"] == expected


@pytest.mark.parametrize("how", ["in place", "same second, other ns", "renamed over"])
def test_a_hand_edit_keeping_size_and_mtime_is_seen(cluster: Path, how: str) -> None:
    path = host_path(cluster, "compute-0-1")
    before = build_view(cluster)
    text = path.read_text()
    old = next(line for line in text.splitlines() if line.startswith("device ="))
    new = 'device = "ethX"'.ljust(len(old))[: len(old)]
    assert new != old
    st = path.stat()
    if how == "in place":
        keep_size_and_mtime(path, old, new)
    elif how == "same second, other ns":
        keep_size_and_mtime(path, old, new)
        second = st.st_mtime_ns - st.st_mtime_ns % 1_000_000_000
        other = second + (st.st_mtime_ns + 1) % 1_000_000_000
        os.utime(path, ns=(st.st_atime_ns, other))
    else:  # a new inode of the same size and mtime renamed over the file
        other = path.with_name(".edit")
        other.write_text(text.replace(old, new, 1))
        os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.rename(other, path)
        assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    after = build_view(cluster)
    assert after == from_files(cluster)
    assert after[0]["compute-0-1"] != before[0]["compute-0-1"]
    assert {n: d for n, d in after[0].items() if n != "compute-0-1"} == {
        n: d for n, d in before[0].items() if n != "compute-0-1"
    }


def test_a_vm_moved_by_hand_changes_the_containers(cluster: Path) -> None:
    vm = next(name for name, c in build_view(cluster)[1].items() if c == "vm-container-0-1")
    path = host_path(cluster, vm)
    path.write_text(
        path.read_text().replace('"vm-container-0-1"', '"vm-container-0-0"').replace("slice = 0", "slice = 5")
    )
    assert build_view(cluster) == from_files(cluster)
    assert build_view(cluster)[1][vm] == "vm-container-0-0"


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE hosts SET sig = sig || char(10) || 'x' WHERE name = 'compute-0-0'",  # the columns misalign
        "UPDATE hosts SET digest = NULL, sig = 'x' WHERE name = 'compute-0-1'",  # a column shorter
        "UPDATE hosts SET digest = 'planted' WHERE name = 'vm-container-0-1'",  # and a sig matching no file:
        "UPDATE hosts SET container = 'compute-0-0', sig = 'x' WHERE container = 'vm-container-0-1'",
    ],
)
def test_damaged_or_planted_index_rows_do_not_fool_the_build_view(cluster: Path, damage: str) -> None:
    if "planted" in damage:  # a wrong digest the signature vouches for: the sig must be wrong too to be caught
        damage = damage.replace("digest = 'planted'", "digest = 'planted', sig = 'x'")
    db = sqlite3.connect(cluster / INDEX)
    db.execute(damage)
    db.commit()
    db.close()
    assert build_view(cluster) == from_files(cluster)
    assert load(cluster, lazy=True).to_data()["hosts"] == plain_reading(cluster)
    assert index_rows(cluster) == 8  # the frontend, 4 hosts, 3 VMs


def test_a_row_recorded_anew_after_the_snapshot_ended_gives_way_to_the_file(cluster: Path) -> None:
    """A view checked every file, then its read snapshot ended (an edit of its own commits, a
    host read again); meanwhile another process recorded a hand edit's row: the pending row is
    not taken from the index unchecked, the file decides."""
    settle()
    first = load(cluster, lazy=True).host_table()
    first.digests()
    view = first.view
    first.view.index.end_read()
    keep_size_and_mtime(host_path(cluster, "compute-0-1"), "rank = 1", "rank = 5")
    second = load(cluster, lazy=True).host_table()
    second.digests()  # records compute-0-1's new row
    time.sleep(0.06)
    assert view.row("compute-0-1").rank == 5
    assert first["compute-0-1"].rank == 5
    # and when every pending row is fetched at once
    third = load(cluster, lazy=True).host_table()
    third.digests()
    third.view.index.end_read()
    keep_size_and_mtime(host_path(cluster, "compute-0-0"), 'device = "eth0"', 'device = "eth7"')
    load(cluster, lazy=True).host_table().digests()
    assert third.view.rows["compute-0-0"].digest == host_digest(load(cluster).hosts["compute-0-0"])
    assert third["compute-0-0"].interfaces[0].device == "eth7"


def test_index_columns_that_do_not_split_apart_are_read_row_by_row(tmp_path: Path) -> None:
    """Names, signatures and digests are joined with newlines in SQLite: a value holding one
    (or none) would shift every later host's values; such an index is read row by row."""
    from rockscc.model.hostindex import Index

    index = Index(tmp_path)
    rows = [("a", "1:2:3:4", "da"), ("b\nc", "5:6:7:8", "db"), ("d", None, "dd"), ("e", "9\n9", None), ("f", "s", "df")]
    index.db.executemany("INSERT INTO hosts (name, sig, digest) VALUES (?, ?, ?)", rows)
    sigs, digests, containers = index.signatures()
    assert sigs == {name: sig for name, sig, _ in rows}
    assert digests == {name: digest for name, _, digest in rows}
    assert containers == {}
    index.end_read()
    index.db.execute("DELETE FROM hosts WHERE name NOT IN ('a', 'f')")
    index.db.execute("UPDATE hosts SET container = 'a' WHERE name = 'f'")
    assert index.signatures() == ({"a": "1:2:3:4", "f": "s"}, {"a": "da", "f": "df"}, {"f": "a"})
