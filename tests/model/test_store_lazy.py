"""Attacks on the command line's lazy reading of the description (store.HostFiles): a command
lists hosts/ and checks only the host files it uses against the index, plus every file when it
uses many. What is promised (docs/architecture.md, "The description on disk"):

- a host file added, removed or renamed by hand is seen by the next command, whatever it reads;
- a host file changed by hand in any way (in place or replaced, size and mtime kept or not) is
  seen by every command that uses that host, and by every command that uses all hosts (a listing,
  a build, a load, an allocation of addresses);
- an edit checks the values it sets (addresses, MACs, VM slots, a second frontend) against what
  the index holds for the other hosts, each holder's file checked: a value a user wrote by hand
  into *another* host's file that no command has read since is found by the next command that
  uses that host or all hosts, which names that file and line;
- the index decides nothing alone: deleted, damaged or planted rows are rebuilt or outvoted by
  the files.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sqlite3
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.errors import RocksccError
from rockscc.model import load
from rockscc.model.codec import encode
from rockscc.model.hostindex import INDEX, Index, Row
from rockscc.model.records import Host
from rockscc.model.store import HOSTS_DIR

REPO = Path(__file__).resolve().parents[2]


def host_path(root: Path, name: str) -> Path:
    return root / HOSTS_DIR / f"{name}.toml"


def settle() -> None:
    """Past the racy window (store.RACY_NS): rows recorded from now on are trusted by signature."""
    time.sleep(0.06)


def keep_size_and_mtime(path: Path, old: str, new: str) -> None:
    """Rewrite a file in place with the same size and mtime (only its ctime tells)."""
    assert len(old) == len(new)
    st = path.stat()
    text = path.read_text()
    assert old in text
    with open(path, "r+") as handle:  # in place: same inode, no rename
        handle.write(text.replace(old, new, 1))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)


@pytest.fixture
def hosts(cluster_dir: Path, rockscc) -> Path:
    for i in range(4):
        assert rockscc(f"add host compute-0-{i}").rc == 0
    assert rockscc("list host").rc == 0  # every row recorded
    settle()
    assert rockscc("list host").rc == 0  # racy rows of the last writes re-read and trusted
    return cluster_dir


def test_an_edit_with_size_and_mtime_kept_is_seen_by_a_command_using_the_host(hosts: Path, rockscc) -> None:
    keep_size_and_mtime(host_path(hosts, "compute-0-2"), "rank = 2", "rank = 7")
    assert rockscc("list host compute-0-2").out.splitlines()[1].split()[3] == "7"
    assert load(hosts, lazy=True).hosts["compute-0-2"].rank == 7
    result = rockscc("list host")
    row = next(line.split() for line in result.out.splitlines() if line.startswith("compute-0-2"))
    assert result.rc == 0 and row[4] == "7", result.out


def test_an_edit_of_the_host_just_written_is_not_hidden_by_the_racy_window(hosts: Path, rockscc) -> None:
    """A row recorded while its file may still change within the same clock tick is marked
    racy and matches no file: the next command reads the file again."""
    assert rockscc("set host attr compute-0-1 colour blue").rc == 0
    db = sqlite3.connect(hosts / INDEX)
    (sig,) = db.execute("SELECT sig FROM hosts WHERE name = 'compute-0-1'").fetchone()
    db.close()
    assert sig.startswith("~")  # written a moment ago
    keep_size_and_mtime(host_path(hosts, "compute-0-1"), "blue", "pink")
    assert load(hosts, lazy=True).hosts["compute-0-1"].attrs["colour"] == "pink"


def test_files_added_and_removed_by_hand_are_seen_by_any_command(hosts: Path, rockscc) -> None:
    text = host_path(hosts, "compute-0-0").read_text().replace("10.1.255.254", "10.1.200.1")
    text = text.replace("rank = 0", "rank = 9")
    host_path(hosts, "compute-0-9").write_text(text)
    host_path(hosts, "compute-0-3").unlink()
    assert rockscc("set host attr compute-0-1 x 1").rc == 0  # an edit of another host
    assert "compute-0-9" in load(hosts, lazy=True).hosts
    assert "compute-0-3" not in load(hosts, lazy=True).hosts
    result = rockscc("list host compute-0-3")
    assert result.rc != 0 and "compute-0-3" in result.err
    db = sqlite3.connect(hosts / INDEX)
    names = {n for (n,) in db.execute("SELECT name FROM hosts")}
    addrs = {n for (n,) in db.execute("SELECT DISTINCT name FROM addrs")}
    db.close()
    assert "compute-0-3" not in names | addrs and "compute-0-9" in names


def test_a_file_copied_in_just_after_an_edit_is_seen_by_a_command_trusting_the_listing(hosts: Path, rockscc) -> None:
    """An edit records hosts/'s stamp after its commit (the next command reads no listing);
    a file copied in by a script the moment the edit returns, within the same tick of the file
    system's clock, still changes the stamp (the edit set hosts/'s mtime apart from its ctime)."""
    template = host_path(hosts, "compute-0-0").read_text()
    for i in range(10):
        assert rockscc(f"set host attr compute-0-1 n {i}").rc == 0
        db = sqlite3.connect(hosts / INDEX)
        (stamp,) = db.execute("SELECT value FROM meta WHERE key = 'listing'").fetchone()
        db.close()
        st = os.stat(hosts / HOSTS_DIR)
        assert stamp == f"{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"  # trusted by the next command
        assert st.st_mtime_ns != st.st_ctime_ns  # sealed: the kernel sets both alike at any change
        name = f"compute-5-{i}"
        host_path(hosts, name).write_text(
            template.replace("10.1.255.254", f"10.1.5.{i + 1}").replace('"52:54', '"62:54')
        )
        after = os.stat(hosts / HOSTS_DIR)
        assert after.st_mtime_ns == after.st_ctime_ns  # so the stamp changed, whatever the clock's tick
        result = rockscc(f"list host {name}")
        assert result.rc == 0, result.err
        host_path(hosts, name).unlink()
        assert rockscc(f"list host {name}").rc != 0


def absorb_into_the_stamp(root: Path) -> None:
    """What the documented window does: a change of hosts/ taken for an edit's own (the index's
    listing stamp made to match hosts/ as it is now, whatever the index holds)."""
    st = os.stat(root / HOSTS_DIR)
    db = sqlite3.connect(root / INDEX)
    db.execute("INSERT OR REPLACE INTO meta VALUES ('listing', ?)", (f"{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}",))
    db.commit()
    db.close()


def test_a_change_absorbed_into_the_stamp_heals_at_the_next_command_using_all_hosts(hosts: Path, rockscc) -> None:
    text = host_path(hosts, "compute-0-0").read_text().replace("10.1.255.254", "10.1.7.7")
    host_path(hosts, "compute-0-8").write_text(text)
    host_path(hosts, "compute-0-3").unlink()
    absorb_into_the_stamp(hosts)
    assert rockscc("list host compute-0-8").rc != 0  # the window: not seen by a command trusting the stamp
    result = rockscc("list host compute-0-3")
    assert result.rc != 0 and "compute-0-3.toml: removed while this command ran" in result.err
    assert rockscc("list host compute-0-8").rc == 0  # that command forgot the stamp
    absorb_into_the_stamp(hosts)  # again, now for a file renamed by hand (the count kept)
    host_path(hosts, "compute-0-8").rename(host_path(hosts, "compute-0-9"))
    absorb_into_the_stamp(hosts)
    assert rockscc("list host").rc != 0  # a whole read notices (compute-0-8 is gone) …
    result = rockscc("list host")
    assert result.rc == 0 and "compute-0-9" in result.out and "compute-0-8" not in result.out  # … and heals


def test_a_file_added_by_hand_with_a_taken_address_stops_every_command(hosts: Path, rockscc) -> None:
    text = host_path(hosts, "compute-0-0").read_text().replace("rank = 0", "rank = 9")
    host_path(hosts, "compute-0-9").write_text(text)  # compute-0-0's IP and MAC-less interface
    for line in ("list host compute-0-1", "set host attr compute-0-1 x 1", "add host compute-0-5"):
        result = rockscc(line)
        assert result.rc != 0, line
        assert "hosts/compute-0-9.toml:" in result.err and "already used by host compute-0-0" in result.err, result.err


def test_a_hand_made_duplicate_in_another_host_is_named_by_the_next_command_using_it(hosts: Path, rockscc) -> None:
    """The documented limit: an edit assigning an address checks the index's holders, so a copy
    written by hand into a file no command has read since is not seen by that edit; the next
    command that uses that host, or all hosts, names its file and line."""
    path = host_path(hosts, "compute-0-3")
    path.write_text(path.read_text().replace("10.1.255.251", "10.1.100.100"))  # in place
    # either file may be named (both changed since the index saw them), with the other host
    DUPLICATE = r"hosts/compute-0-(0|3)\.toml:\d+: interfaces\[0\]\.ip: IP 10\.1\.100\.100 is already used by host compute-0-(?!\1)[03]"
    assert rockscc("set host interface compute-0-0 eth0 ip=10.1.100.100").rc == 0
    for line in ("list host compute-0-3", "list host", "set host attr compute-0-3 x 1", "check hosts=none", "dump"):
        result = rockscc(line)
        assert result.rc != 0, line
        assert re.search(DUPLICATE, result.err), (line, result.err)
    path.write_text(path.read_text().replace("10.1.100.100", "10.1.255.251"))
    assert rockscc("list host").rc == 0


def test_a_hand_made_duplicate_in_a_host_the_edit_uses_is_refused(hosts: Path, rockscc) -> None:
    path2 = host_path(hosts, "compute-0-2")
    path2.write_text(path2.read_text().replace("10.1.255.252", "10.1.100.101"))
    result = rockscc("set host interface compute-0-1 eth0 ip=10.1.100.101")
    assert result.rc == 0  # compute-0-2 unread: the limit above
    result = rockscc("set host attr compute-0-2 x 1")
    assert result.rc != 0 and "hosts/compute-0-2.toml:" in result.err


def test_an_edit_sees_a_holder_the_index_knows_even_if_its_file_changed(hosts: Path, rockscc) -> None:
    """The index says compute-0-3 holds .251; a hand edit moved it to .240: assigning .251 is
    allowed (the holder's file is checked, and now read), assigning .240 then refused."""
    path = host_path(hosts, "compute-0-3")
    path.write_text(path.read_text().replace("10.1.255.251", "10.1.255.240"))
    assert rockscc("set host interface compute-0-0 eth0 ip=10.1.255.251").rc == 0
    result = rockscc("set host interface compute-0-1 eth0 ip=10.1.255.240")
    assert result.rc != 0 and "IP 10.1.255.240 is already used by host compute-0-3" in result.err


def test_planted_rows_do_not_fool_checks_or_allocation(hosts: Path, rockscc) -> None:
    db = sqlite3.connect(hosts / INDEX)
    # a ghost claims an address and a real host's row is given another host's address
    db.execute("INSERT OR IGNORE INTO addrs VALUES ('ip=10.1.255.250', 'ghost')")
    db.execute("INSERT OR IGNORE INTO addrs VALUES ('ip=10.1.255.249', 'frontend')")
    db.execute("INSERT OR IGNORE INTO ips VALUES (?, 'frontend')", (int(ipaddress.IPv4Address("10.1.255.250")),))
    db.execute("UPDATE hosts SET membership = 'Frontend', sig = 'x' WHERE name = 'compute-0-1'")
    db.commit()
    db.close()
    assert rockscc("set host interface compute-0-0 eth0 ip=10.1.255.249").rc == 0  # frontend holds no such IP
    assert rockscc("add host compute-0-5").rc == 0
    cluster = load(hosts)
    ips = [i.ip for h in cluster.hosts.values() for i in h.interfaces if i.ip]
    assert len(ips) == len(set(ips))
    assert cluster.hosts["compute-0-1"].membership == "Compute"
    assert rockscc("set host attr compute-0-1 y 2").rc == 0  # not taken for a second frontend


def test_deleted_or_damaged_index_is_rebuilt_by_a_single_command(hosts: Path, rockscc) -> None:
    before = load(hosts).to_data()
    for damage in ("delete", "garbage"):
        if damage == "delete":
            (hosts / INDEX).unlink()
        else:
            (hosts / INDEX).write_bytes(b"\0" * 4096)
        for suffix in ("-wal", "-shm"):
            Path(str(hosts / INDEX) + suffix).unlink(missing_ok=True)
        assert rockscc("list host compute-0-2").rc == 0
        assert load(hosts, lazy=True).to_data() == before
        result = rockscc("set host interface compute-0-0 eth0 ip=10.1.255.253")  # compute-0-1's
        assert result.rc != 0 and "already used by host compute-0-1" in result.err


def test_a_refused_transaction_leaves_the_index_writable(hosts: Path) -> None:
    """A transaction that allocated an address (the allocator records a mark in the index) and
    was then refused holds no write lock on the index (it did: every later writer waited 30 s)."""
    from rockscc.model.store import transaction

    cluster = None
    with pytest.raises(RocksccError):
        with transaction(hosts) as cluster:
            ip = cluster.next_ip("private")
            cluster.hosts["compute-0-5"] = Host(name="compute-0-5", membership="Compute", attrs={"a": "\x00"})
            assert ip
    assert cluster is not None  # still referenced: its index connection is alive
    probe = sqlite3.connect(hosts / INDEX, timeout=0.1, isolation_level=None)
    probe.execute("BEGIN IMMEDIATE")
    probe.execute("COMMIT")
    probe.close()


def test_a_file_removed_while_a_command_runs_is_an_error_not_a_ghost(hosts: Path) -> None:
    cluster = load(hosts, lazy=True)
    host_path(hosts, "compute-0-2").unlink()
    with pytest.raises(RocksccError, match="compute-0-2.toml: removed while this command ran"):
        cluster.hosts["compute-0-2"]


def test_concurrent_edits_of_different_hosts_all_land(hosts: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ROCKSCC_FAULT"}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rockscc",
                "-C",
                str(hosts),
                "set",
                "host",
                "attr",
                f"compute-0-{i % 4}",
                f"k{i}",
                str(i),
            ],
            env=env,
            cwd=REPO,
        )
        for i in range(8)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * 8
    cluster = load(hosts)
    for i in range(8):
        assert cluster.hosts[f"compute-0-{i % 4}"].attrs[f"k{i}"] == str(i)


# --- the allocator's indexed search ----------------------------------------------------------
BASE = int(ipaddress.IPv4Address("10.0.0.0"))


def ip_row(numbers: set[int]) -> Row:
    addrs = " ".join(f"ip={ipaddress.IPv4Address(BASE + n)}" for n in sorted(numbers))
    return Row("sig", "{}", "d", True, "Compute", 0, 0, None, None, f" {addrs} ", 1, "linux", "x86_64", None)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ops=st.lists(
        st.tuples(st.sampled_from(["allocate", "free", "hold", "renumber"]), st.integers(0, 7), st.integers(1, 30)),
        max_size=40,
    )
)
def test_highest_free_through_the_index_is_the_plain_search(tmp_path: Path, ops) -> None:
    """Through any sequence of allocations, hosts removed, addresses taken and renumbered (rows
    applied to the index), the indexed search — with its held-above mark — finds what a plain
    search from broadcast - 1 finds."""
    index = Index(tmp_path / str(len(list(tmp_path.iterdir()))))
    first, top = BASE + 1, BASE + 30
    held: dict[str, set[int]] = {}
    for op, host, number in ops:
        name = f"h{host}"
        if op == "allocate":
            taken = set().union(*held.values())
            expected = next((BASE + n for n in range(30, 0, -1) if n not in taken), None)
            assert index.highest_free(top, first, top) == expected
            if expected is not None:
                held.setdefault(name, set()).add(expected - BASE)
        elif op == "free":
            held.pop(name, None)
            assert index.apply({}, {name})
            continue
        elif op == "hold":
            held.setdefault(name, set()).add(number)
        else:
            held[name] = {number}
        assert index.apply({name: ip_row(held.get(name, set()))})
    index.close()


def test_add_host_allocates_as_rocks_does_without_an_address_book(hosts: Path, rockscc) -> None:
    """The highest free address below broadcast: holes left by removed hosts are reused."""
    assert rockscc("remove host compute-0-1").rc == 0  # frees 10.1.255.253
    assert rockscc("add host compute-0-7").rc == 0
    assert load(hosts).hosts["compute-0-7"].interfaces[0].ip == "10.1.255.253"
    assert rockscc("add host compute-0-8").rc == 0
    assert load(hosts).hosts["compute-0-8"].interfaces[0].ip == "10.1.255.250"


# --- random edits and hand edits against a plain reading of the files ------------------------
OPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["attr", "rank", "ip", "add", "remove", "hand-rank", "hand-same-size", "hand-ip", "hand-add", "hand-rm"]
        ),
        st.integers(0, 5),
        st.integers(0, 9),
    ),
    min_size=1,
    max_size=12,
)


def plain_reading(root: Path) -> dict | tuple:
    """The description read with no index at all (a copy of the files), or its error."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "c"
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".rockscc-cache", "*.lock"))
        try:
            return load(copy).to_data()["hosts"]
        except RocksccError as exc:
            return blame(exc)


def blame(exc: RocksccError, root: Path | None = None) -> tuple:
    """What an error is about: a file, or a value two hosts hold (which pair is named when
    several values or hosts clash depends on the order of reading: with `root`, the value is
    checked to be in both named files instead)."""
    dup = re.match(r"hosts/(.+?)\.toml:\d+: \S+: (\w+) (\S+) is already used by host (\S+)$", str(exc))
    if not dup:
        return ("error", str(exc).split(":")[0])
    if root is not None:
        for name in (dup[1], dup[4]):
            held = tomllib.loads(host_path(root, name).read_text()).get("interfaces", [])
            assert any(i.get(dup[2].lower()) == dup[3] for i in held), (str(exc), name)
    return ("duplicate",)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_whole_reads_equal_a_plain_reading_after_any_edits(tmp_path_factory, ops) -> None:
    from tests.conftest import run_cli

    root = tmp_path_factory.mktemp("prop") / "c"
    assert run_cli("init", str(root), "password=x").rc == 0
    for i in range(3):
        assert run_cli("-C", str(root), "add", "host", f"compute-0-{i}").rc == 0
    for op, k, v in ops:
        name = f"compute-0-{k}"
        path = host_path(root, name)
        if op.startswith("hand-"):
            if op == "hand-add" and not path.exists() and host_path(root, "compute-0-0").exists():
                text = host_path(root, "compute-0-0").read_text()
                path.write_text(
                    text.replace("10.1.255.254", f"10.1.{100 + k}.{v + 1}").replace("rank = 0", f"rank = {k}")
                )
            elif not path.exists():
                continue
            elif op == "hand-rm":
                path.unlink()
            elif op == "hand-rank":
                text = path.read_text()
                path.write_text(
                    "\n".join(f"rank = {v * 11}" if line.startswith("rank =") else line for line in text.splitlines())
                    + "\n"
                )
            elif op == "hand-same-size":
                text = path.read_text()
                device = next(line for line in text.splitlines() if line.startswith("device ="))
                keep_size_and_mtime(path, device, f'device = "eth{v}"')
            elif op == "hand-ip":
                text = path.read_text()
                path.write_text(re.sub(r'ip = "[0-9.]+"', f'ip = "10.1.255.{250 + v % 5}"', text, count=1))
        else:
            line = {
                "attr": ["set", "host", "attr", name, "a", str(v)],
                "rank": ["set", "host", "rank", name, str(v)],
                "ip": ["set", "host", "interface", name, "eth0", f"ip=10.1.{v}.{k + 1}"],
                "add": ["add", "host", name],
                "remove": ["remove", "host", name],
            }[op]
            run_cli("-C", str(root), *line)
        expected = plain_reading(root)
        try:
            seen: dict | tuple = load(root, lazy=True).to_data()["hosts"]  # every host used: all checked
        except RocksccError as exc:
            seen = blame(exc, root)
        assert seen == expected, (op, k, v)
        if isinstance(expected, dict):
            for host in list(expected)[:3]:  # and one host used alone is its file's
                assert encode(load(root, lazy=True).hosts[host]) == expected[host]
