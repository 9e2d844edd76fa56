"""A description damaged by hand — cluster.toml or a host file — makes every command refuse with
one `error - FILE[:LINE]: …` line and exit 1: never an internal error, a hang, or a change to the
description or to build/. Each damage is run against the commands that read hosts in each way:
one host (`set host attr`, `report host attr`), all hosts (`list host`, `dump`), a build."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO, run_cli

HOST = "hosts/compute-0-0.toml"
COMMANDS = [
    ["list", "host"],
    ["set", "host", "attr", "compute-0-0", "colour", "blue"],
    ["report", "host", "attr", "compute-0-0"],
    ["dump"],
    ["build"],
]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A description with a few hosts, built once: each test damages a copy of it."""
    root = tmp_path_factory.mktemp("built") / "cluster"
    for line in ("init {root} password=secret", "-C {root} add host compute-0-0", "-C {root} add host compute-0-1"):
        assert run_cli(*line.format(root=root).split()).rc == 0
    assert run_cli("-C", str(root), "build").rc == 0
    return root


@pytest.fixture
def copy(built, tmp_path) -> Path:
    root = tmp_path / "cluster"
    shutil.copytree(built, root, symlinks=True)
    return root


def snapshot(root: Path) -> dict[str, str]:
    """Every file of the description and of build/ (the host index, a cache, left out)."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(".rockscc-cache") or rel.startswith(".cluster"):
            continue
        if path.is_symlink():
            found[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[rel] = "dir" if path.is_dir() else "special"
    return found


def edit(rel: str, change):
    def damage(root: Path) -> None:
        path = root / rel
        path.write_bytes(change(path.read_bytes()))

    return damage


def prepend(rel: str, data: bytes):
    return edit(rel, lambda old: data + old)


def append(rel: str, data: bytes):
    return edit(rel, lambda old: old + data)


def replace(rel: str, old: bytes, new: bytes):
    def change(text: bytes) -> bytes:
        assert old in text, (rel, old)
        return text.replace(old, new, 1)

    return edit(rel, change)


def write(rel: str, data: bytes):
    return edit(rel, lambda old: data)


def swap(rel: str, make):
    def damage(root: Path) -> None:
        (root / rel).unlink()
        make(root / rel)

    return damage


# name -> (damage, the file the error names, the line it names or None)
DAMAGES = {
    "host: TOML syntax": (append(HOST, b"\nfoo = \n"), HOST, 10),
    "host: duplicate key": (prepend(HOST, b'membership = "Compute"\n'), HOST, 2),
    "host: empty": (write(HOST, b""), HOST, None),
    "host: int for a string": (replace(HOST, b'membership = "Compute"', b"membership = 5"), HOST, 1),
    "host: list for a string": (replace(HOST, b'membership = "Compute"', b'membership = ["C"]'), HOST, 1),
    "host: table for a list": (replace(HOST, b"[[interfaces]]", b"[interfaces]"), HOST, 4),
    "host: unknown key": (prepend(HOST, b"frobnicate = 1\n"), HOST, 1),
    "host: unknown interface key": (append(HOST, b"bogus = 1\n"), HOST, 9),
    "host: nested attribute": (append(HOST, b'\n[attrs]\nfoo = {bar = "x"}\n'), HOST, 11),
    "host: rack too large": (prepend(HOST, b"rack = 99999999999999999999999\n"), HOST, 1),
    "host: rank past SQLite's integers": (prepend(HOST, b"rank = 9223372036854775808\n"), HOST, 1),
    "host: negative rack": (prepend(HOST, b"rack = -1\n"), HOST, 1),
    "host: nan": (prepend(HOST, b"rack = nan\n"), HOST, 1),
    "host: float": (prepend(HOST, b"rank = 1.5\n"), HOST, 1),
    "host: date": (prepend(HOST, b"rank = 1979-05-27\n"), HOST, 1),
    "host: cpus too large": (prepend(HOST, b"cpus = 9223372036854775807\n"), HOST, 1),
    "host: bad IP": (replace(HOST, b'ip = "10.1.255.254"', b'ip = "10.1.255.999"'), HOST, 6),
    "host: IPv6": (replace(HOST, b'ip = "10.1.255.254"', b'ip = "::1"'), HOST, 6),
    "host: bad MAC": (append(HOST, b'mac = "zz:zz"\n'), HOST, 9),
    "host: bad name": (replace(HOST, b'name = "compute-0-0"', b'name = "bad name!"'), HOST, 8),
    "host: NUL escape": (replace(HOST, b'name = "compute-0-0"', b'name = "a\\u0000b"'), HOST, 8),
    "host: escape character": (replace(HOST, b'name = "compute-0-0"', b'name = "a\\u001bb"'), HOST, 8),
    "host: raw NUL": (append(HOST, b"\x00"), HOST, None),
    "host: invalid UTF-8": (prepend(HOST, b'comment = "\xc3\x28"\n'), HOST, 1),
    "host: byte order mark": (prepend(HOST, b"\xef\xbb\xbf"), f"{HOST}:1: starts with a byte order mark", None),
    "host: undefined network": (replace(HOST, b'subnet = "private"', b'subnet = "nosuch"'), HOST, 7),
    "host: path in os": (prepend(HOST, b'os = "../../etc"\n'), HOST, 1),
    "host: address of another host": (replace(HOST, b'ip = "10.1.255.254"', b'ip = "10.1.255.253"'), HOST, 6),
    "host: a directory": (swap(HOST, Path.mkdir), HOST, None),
    "host: a link to a file outside": (swap(HOST, lambda p: p.symlink_to("/etc/passwd")), HOST, 1),
    "host: a dangling link": (swap(HOST, lambda p: p.symlink_to("/nonexistent")), f"{HOST}: a link to a missing", None),
    "host: a loop of links": (swap(HOST, lambda p: p.symlink_to(p.name)), "compute-0-0.toml", None),
    "cluster: TOML syntax": (append("cluster.toml", b"\n[[[x\n"), "cluster.toml", None),
    "cluster: duplicate table": (
        append("cluster.toml", b'\n[appliances.compute]\nmembership = "X"\n'),
        "cluster.toml",
        None,
    ),
    "cluster: int attribute": (
        replace("cluster.toml", b'Kickstart_Lang = "en_US"', b"Kickstart_Lang = 5"),
        "cluster.toml",
        9,
    ),
    "cluster: line separator in a value": (
        replace("cluster.toml", b'Kickstart_Lang = "en_US"', b'Kickstart_Lang = "en\\u2028US"'),
        "cluster.toml",
        9,
    ),
    "cluster: bad subnet": (
        replace("cluster.toml", b'subnet = "10.1.0.0"', b'subnet = "10.1.0.300"'),
        "cluster.toml",
        78,
    ),
    "cluster: bad netmask": (
        replace("cluster.toml", b'netmask = "255.255.0.0"', b'netmask = "255.0.255.0"'),
        "cluster.toml",
        79,
    ),
    "cluster: MTU out of range": (
        replace("cluster.toml", b'dnszone = "local"', b'dnszone = "local"\nmtu = 99999999999999999999'),
        "cluster.toml",
        None,
    ),
    "cluster: node path": (
        replace("cluster.toml", b'node = "compute"', b'node = "../../etc/passwd"'),
        "cluster.toml",
        None,
    ),
    "cluster: invalid UTF-8": (append("cluster.toml", b"\n# \xff\n"), "cluster.toml", 113),
    "cluster: a directory": (swap("cluster.toml", Path.mkdir), "cluster.toml", None),
    "cluster: host table of a host that has a file": (
        append("cluster.toml", b'\n[hosts.compute-0-0]\nmembership = "Compute"\nrank = 7\n'),
        "cluster.toml",
        None,
    ),
}


def assert_refused(result, root: Path, before: dict, names: str, line: int | None, argv) -> None:
    assert result.rc == 1, (argv, result.rc, result.err)
    assert "internal error" not in result.err and "Traceback" not in result.err, (argv, result.err)
    assert result.err.startswith("error - "), (argv, result.err)
    assert names in result.err, (argv, result.err)
    if line is not None:
        assert f"{names}:{line}:" in result.err, (argv, result.err)
    assert snapshot(root) == before, argv  # nothing of the description or build/ changed


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_description_is_refused_and_kept(copy: Path, damage: str) -> None:
    change, names, line = DAMAGES[damage]
    change(copy)
    before = snapshot(copy)
    for argv in COMMANDS:
        result = run_cli("-C", str(copy), *argv)
        assert_refused(result, copy, before, names, line, argv)


def test_a_host_table_pasted_for_a_host_with_a_file_replaces_nothing(copy: Path) -> None:
    """Splitting a cluster.toml that holds [hosts.compute-0-0] used to write that table over
    hosts/compute-0-0.toml (its address lost) — in a read-only `list host`."""
    own = (copy / HOST).read_bytes()
    with (copy / "cluster.toml").open("a") as file:
        file.write('\n[hosts.compute-0-0]\nmembership = "Compute"\nrank = 7\n')
    result = run_cli("-C", str(copy), "list", "host")
    assert result.rc == 1 and "hosts/compute-0-0.toml" in result.err, result.err
    assert (copy / HOST).read_bytes() == own
    # a table for a host without a file is still split out, as before
    text = (copy / "cluster.toml").read_text().replace("[hosts.compute-0-0]", "[hosts.compute-0-7]")
    (copy / "cluster.toml").write_text(text)
    assert run_cli("-C", str(copy), "list", "host").rc == 0
    assert (copy / "hosts/compute-0-7.toml").is_file() and (copy / HOST).read_bytes() == own


@pytest.mark.parametrize(
    "argv",
    [
        ["add", "host", "compute-0-9", "rack=99999999999999999999"],
        ["add", "host", "compute-0-99999999999999999999"],
        ["add", "host", "login-1", "membership=Compute", "rank=-2"],
        ["set", "host", "rack", "compute-0-1", "9223372036854775808"],
    ],
)
def test_an_out_of_range_rack_or_rank_is_refused_before_anything_is_written(copy: Path, argv) -> None:
    """Such a host used to be committed, then the host index refused the number (OverflowError,
    exit 70), and every later command failed with it."""
    before = snapshot(copy)
    result = run_cli("-C", str(copy), *argv)
    assert_refused(result, copy, before, "rack" if "rack" in " ".join(argv) else "ran", None, argv)
    assert run_cli("-C", str(copy), "list", "host").rc == 0


@pytest.mark.parametrize("target", ["cluster.toml", HOST])
def test_a_fifo_in_place_of_a_file_is_refused_not_waited_on(copy: Path, target: str) -> None:
    """Reading a FIFO blocks until someone writes to it: every command used to hang."""
    (copy / target).unlink()
    os.mkfifo(copy / target)
    result = subprocess.run(
        [sys.executable, "-m", "rockscc", "-C", str(copy), "list", "host"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert result.returncode == 1 and result.stderr.startswith("error - "), result.stderr
    assert f"{target}: not a regular file" in result.stderr


# --- generated damage ----------------------------------------------------------------------------
# small edits of the files' text with the characters TOML's syntax turns on
_PIECES = st.sampled_from(
    ['"', "'", "=", "[", "]", "[[", "{", "}", ",", "\n", "#", ".", "-", "0", "99999999999999999999", "nan", "inf",
     "true", "1979-05-27", "\\u0000", "\\", "\x00", "\x7f", "\u2028", "\ufeff", "é", " ", "\t", "\r", "x", "ip",
     "rack", "rank", "membership", "interfaces", "attrs", "vm", "hardware"]
)  # fmt: skip
_EDITS = st.lists(st.tuples(st.floats(0, 1), st.integers(0, 8), st.lists(_PIECES, max_size=4)), min_size=1, max_size=3)


def _apply(text: str, edits) -> str:
    for where, cut, pieces in edits:
        at = int(where * len(text))
        text = text[:at] + "".join(pieces) + text[at + cut :]
    return text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from([HOST, "cluster.toml"]), edits=_EDITS, argv=st.sampled_from(COMMANDS[:4]))
def test_any_edit_is_taken_or_refused_cleanly(built: Path, tmp_path_factory, target: str, edits, argv) -> None:
    root = tmp_path_factory.mktemp("edit") / "cluster"
    shutil.copytree(built, root, symlinks=True)
    path = root / target
    path.write_bytes(_apply(path.read_text(), edits).encode("utf-8", "surrogatepass"))
    before = snapshot(root)
    result = run_cli("-C", str(root), *argv)
    assert result.rc in (0, 1), (argv, result.err)
    assert "internal error" not in result.err and "Traceback" not in result.err, (argv, result.err)
    if result.rc:
        assert result.err.startswith("error - "), result.err
        assert snapshot(root) == before, argv
    shutil.rmtree(root.parent)
