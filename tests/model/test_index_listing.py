"""Attacks on the columns `list host` takes from the host index instead of the records (index
format 5: cpus, os, arch, comment beside membership, rack and rank). The listing must be what
the host files say, whatever happened to the index:

- a hand edit of a listed field — size and mtime put back, only the ctime tells — shows in the
  next `list host` (every host, one host, and JSON);
- rows damaged or planted (other values under a wrong signature, an index copied from another
  description) are outvoted by the files;
- an index of the previous format (no such columns) or of another rockscc is rebuilt, not read;
- on generated hand edits, `list host output-format=json` equals a plain reading of the files.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tomllib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.model.hostindex import FORMAT, INDEX
from rockscc.model.store import HOSTS_DIR
from tests.model.test_store_lazy import host_path, keep_size_and_mtime, settle

COLUMNS = ["host", "membership", "cpus", "rack", "rank", "os", "arch", "comment"]
DEFAULTS = {"membership": None, "cpus": 1, "rack": 0, "rank": 0, "os": "linux", "arch": "x86_64", "comment": None}


def listing(run, *hosts: str) -> list[dict]:
    result = run("list", "host", *hosts, "output-format=json")
    assert result.rc == 0, result.err
    return json.loads(result.out)


def plain_listing(root: Path) -> list[dict]:
    """What the files say, read with tomllib alone, in `list host`'s order."""
    out = []
    for path in (root / HOSTS_DIR).glob("*.toml"):
        data = tomllib.loads(path.read_text())
        row = {"host": path.stem, **{k: data.get(k, v) for k, v in DEFAULTS.items()}}
        out.append(row)
    return out


def by_host(rows: list[dict]) -> dict[str, dict]:
    return {row["host"]: row for row in rows}


def trusted(run) -> None:
    """Every row recorded and past the racy window (trusted by its signature from now on)."""
    assert run("list host").rc == 0
    settle()
    assert run("list host").rc == 0


def test_a_hand_edit_of_each_listed_field_shows_with_size_and_mtime_kept(cluster_dir: Path, rockscc) -> None:
    for i in range(3):
        assert rockscc(f"add host compute-0-{i}").rc == 0
    for command in ("set host comment compute-0-1 aaaa", "set host os compute-0-1 lnux", "set host cpus compute-0-1 4"):
        assert rockscc(command).rc == 0
    assert rockscc("set host arch compute-0-1 i386").rc == 0
    trusted(rockscc)
    path = host_path(cluster_dir, "compute-0-1")
    edits = [
        ('comment = "aaaa"', 'comment = "bbbb"', "comment", "bbbb"),
        ('os = "lnux"', 'os = "unix"', "os", "unix"),
        ("cpus = 4", "cpus = 8", "cpus", 8),
        ('arch = "i386"', 'arch = "i686"', "arch", "i686"),
    ]
    for old, new, column, value in edits:
        keep_size_and_mtime(path, old, new)
        assert by_host(listing(rockscc))["compute-0-1"][column] == value, column
        assert listing(rockscc, "compute-0-1")[0][column] == value
        settle()  # the next edit is made to a row trusted again
    line = rockscc("list host compute-0-1").out.splitlines()[1]
    assert line.split() == "Compute 8 0 1 unix i686 bbbb".split()


def test_damaged_and_planted_rows_are_outvoted_by_the_files(cluster_dir: Path, rockscc) -> None:
    for i in range(3):
        assert rockscc(f"add host compute-0-{i}").rc == 0
    trusted(rockscc)
    expected = by_host(listing(rockscc))
    db = sqlite3.connect(cluster_dir / INDEX)
    # a row of other values under a signature that matches no file; a ghost's row; a row of a
    # host whose file is gone
    db.execute("UPDATE hosts SET comment = 'forged', os = 'evil', cpus = 99, sig = 'x' WHERE name = 'compute-0-1'")
    columns = [r[1] for r in db.execute("PRAGMA table_info(hosts)")]
    db.execute(
        f"INSERT INTO hosts ({', '.join(columns)}) SELECT 'ghost', {', '.join(columns[1:])} FROM hosts"
        " WHERE name = 'compute-0-2'"
    )
    db.commit()
    db.close()
    assert listing(rockscc, "compute-0-1") == [expected["compute-0-1"]]
    # the ghost is among the names the index gave while hosts/ kept its stamp: the command that
    # finds its file missing stops (as for a file removed while it ran) and forgets the stamp,
    # so the next lists hosts/ — no forged value is printed by either
    first = rockscc("list host output-format=json")
    assert first.rc == 0 or "hosts/ghost.toml: removed" in first.err
    assert by_host(listing(rockscc)) == expected
    assert not rockscc("list host ghost").rc == 0


def test_an_index_copied_from_another_description_is_not_believed(tmp_path: Path, cluster_dir: Path, rockscc) -> None:
    """A copy of the description (mtimes kept, as cp -a does) whose host file then changes in
    place with size and mtime kept: the copied rows name other inodes, so none is used."""
    for i in range(3):
        assert rockscc(f"add host compute-0-{i}").rc == 0
    assert rockscc("set host comment compute-0-2 same").rc == 0
    trusted(rockscc)
    copy = tmp_path / "copy"
    shutil.copytree(cluster_dir, copy, copy_function=shutil.copy2)
    keep_size_and_mtime(host_path(copy, "compute-0-2"), '"same"', '"diff"')
    from tests.conftest import run_cli

    def in_copy(*argv: str):
        return run_cli("-C", str(copy), *argv)

    assert by_host(listing(in_copy))["compute-0-2"]["comment"] == "diff"
    assert by_host(listing(rockscc))["compute-0-2"]["comment"] == "same"


def _downgrade(root: Path, stamp: str) -> None:
    """The index as an older rockscc left it: format 4's hosts table (no listed columns), every
    row's record forged, the listing stamp kept (the command line would trust it)."""
    db = sqlite3.connect(root / INDEX)
    old = "sig, data, digest, plain, membership, rack, rank, container, slot, addrs"
    db.execute(f"CREATE TABLE old AS SELECT name, {old} FROM hosts")
    db.execute("DROP TABLE hosts")
    db.execute(f"CREATE TABLE hosts (name TEXT PRIMARY KEY, {old})")
    db.execute(f"INSERT INTO hosts SELECT name, {old} FROM old")
    db.execute("DROP TABLE old")
    db.execute("UPDATE hosts SET data = replace(data, '\"Compute\"', '\"Forged\"'), membership = 'Forged'")
    db.execute("UPDATE meta SET value = ? WHERE key = 'format'", (stamp,))
    db.commit()
    db.close()


def test_an_index_of_the_previous_format_or_another_version_is_rebuilt(cluster_dir: Path, rockscc) -> None:
    from rockscc import __version__

    for i in range(3):
        assert rockscc(f"add host compute-0-{i}").rc == 0
    assert rockscc("set host comment compute-0-0 kept").rc == 0
    trusted(rockscc)
    expected = listing(rockscc)
    assert {row["membership"] for row in expected} == {"Compute", "Frontend"}
    for stamp in (f"4 {__version__}", f"{FORMAT} 0.0.0-other"):
        _downgrade(cluster_dir, stamp)
        assert listing(rockscc, "compute-0-1") == [next(r for r in expected if r["host"] == "compute-0-1")]
        assert listing(rockscc) == expected
        assert rockscc("set host rank compute-0-2 9").rc == 0  # an edit after it works on the new index
        assert rockscc("set host rank compute-0-2 2").rc == 0
        settle()
    db = sqlite3.connect(cluster_dir / INDEX)
    assert "comment" in [r[1] for r in db.execute("PRAGMA table_info(hosts)")]
    db.close()


def test_an_old_index_that_cannot_be_rewritten_is_not_read(cluster_dir: Path, rockscc) -> None:
    """Format 4 left in an index this user cannot write: the command reads the files (an index
    in memory), it neither fails on the missing columns nor believes the old rows."""
    from rockscc import __version__

    for i in range(2):
        assert rockscc(f"add host compute-0-{i}").rc == 0
    trusted(rockscc)
    expected = listing(rockscc)
    _downgrade(cluster_dir, f"4 {__version__}")
    cache = cluster_dir / INDEX
    for suffix in ("-wal", "-shm"):
        Path(str(cache) + suffix).unlink(missing_ok=True)
    if os.geteuid() == 0:  # root writes anything: make the file itself unusable for writing instead
        return
    os.chmod(cache, 0o400)
    os.chmod(cache.parent, 0o500)
    try:
        assert listing(rockscc) == expected
        assert listing(rockscc, "compute-0-1") == [r for r in expected if r["host"] == "compute-0-1"]
    finally:
        os.chmod(cache.parent, 0o700)
        os.chmod(cache, 0o600)


FIELDS = st.sampled_from(["comment", "os", "arch", "cpus", "rack", "rank", "membership"])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 2), FIELDS, st.integers(0, 9), st.booleans(), st.booleans()), min_size=1, max_size=8
    )
)
def test_the_listing_is_the_files_after_any_hand_edits(tmp_path_factory, edits) -> None:
    """Hand edits of listed fields (in place with size and mtime kept, or rewritten), each
    followed by a listing of every host or of one, against a plain reading of the files."""
    from tests.conftest import run_cli

    root = tmp_path_factory.mktemp("listing") / "c"
    assert run_cli("init", str(root), "password=x").rc == 0

    def run(*argv: str):
        return run_cli("-C", str(root), *argv)

    for i in range(3):
        assert run("add", "host", f"compute-0-{i}").rc == 0
    assert run("set", "host", "comment", "compute-0-0", "c0").rc == 0
    for k, field, value, in_place, whole in edits:
        name = f"compute-0-{k}"
        path = host_path(root, name)
        text = path.read_text()
        lines = [line for line in text.splitlines() if not line.startswith(f"{field} =")]
        new = {
            "comment": f'comment = "c{value}"',
            "os": f'os = "os{value}"',
            "arch": f'arch = "ar{value}"',
            "cpus": f"cpus = {value + 1}",
            "rack": f"rack = {value}",
            "rank": f"rank = {value + 10}",
            "membership": 'membership = "Compute"' if value % 2 else 'membership = "NAS Appliance"',
        }[field]
        old_line = next((line for line in text.splitlines() if line.startswith(f"{field} =")), None)
        if in_place and old_line is not None and len(old_line) == len(new) and old_line != new:
            keep_size_and_mtime(path, old_line, new)
        else:
            first_table = next((i for i, line in enumerate(lines) if line.startswith("[")), len(lines))
            lines.insert(first_table, new)
            path.write_text("\n".join(lines) + "\n")
        expected = plain_listing(root)
        if whole:
            seen = listing(run)
            assert by_host(seen) == by_host(expected)
        else:
            assert listing(run, name) == [by_host(expected)[name]]
