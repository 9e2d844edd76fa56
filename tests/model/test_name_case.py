"""Host names are DNS names, which ignore case: a host whose name differs from another's only in
case (`COMPUTE-0-0` beside `compute-0-0`: two A records for one name, and one file for two on a
case-insensitive file system) is refused by every command that adds or renames hosts, and
nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from rockscc.model.store import FILENAME, HOSTS_DIR
from tests.conftest import run_cli


def files(root: Path) -> dict[str, bytes]:
    out = {FILENAME: (root / FILENAME).read_bytes()}
    return out | {p.name: p.read_bytes() for p in (root / HOSTS_DIR).iterdir()}


@pytest.fixture
def cluster(cluster_dir):
    assert run_cli("-C", str(cluster_dir), "add", "host", "compute-0-0").rc == 0
    return cluster_dir


def refused(cluster, *argv, clash=("COMPUTE-0-0", "compute-0-0")):
    before = files(cluster)
    result = run_cli("-C", str(cluster), *argv)
    assert result.rc == 1 and result.err.startswith("error - "), result.err
    new, old = clash
    assert f'host "{new}": differs from host "{old}" only in case' in result.err, result.err
    assert files(cluster) == before
    assert "loaded" not in result.out  # a load says so only once written
    return result


def test_add_host(cluster):
    refused(cluster, "add", "host", "COMPUTE-0-0", "membership=Compute")
    refused(cluster, "add", "host", "Frontend", "membership=Compute", clash=("Frontend", "frontend"))


def test_set_host_name(cluster):
    assert run_cli("-C", str(cluster), "add", "host", "compute-0-1").rc == 0
    refused(cluster, "set", "host", "name", "compute-0-1", "COMPUTE-0-0")


def test_a_host_renamed_to_its_own_name_in_other_case_is_no_clash(cluster):
    result = run_cli("-C", str(cluster), "set", "host", "name", "compute-0-0", "Compute-0-0")
    assert result.rc == 0, result.err
    assert (cluster / HOSTS_DIR / "Compute-0-0.toml").is_file()
    assert not (cluster / HOSTS_DIR / "compute-0-0.toml").exists()


def script(tmp_path, text: str) -> str:
    path = tmp_path / "lines.sh"
    path.write_text(text)
    return str(path)


def test_load_refuses_the_whole_script(cluster, tmp_path):
    two = "rockscc add host a-0-0 membership=Compute\nrockscc add host A-0-0 membership=Compute\n"
    refused(cluster, "load", script(tmp_path, two), clash=("A-0-0", "a-0-0"))
    refused(cluster, "load", script(tmp_path, "rockscc add host COMPUTE-0-0 membership=Compute\n"))


def test_load_hostfile(cluster, tmp_path):
    (tmp_path / "hosts.csv").write_text("Name,Appliance,Rack,Rank\ncompute-0-5,compute,0,5\nCompute-0-0,compute,0,9\n")
    refused(cluster, "load", "hostfile", str(tmp_path / "hosts.csv"), clash=("Compute-0-0", "compute-0-0"))


def test_names_unlike_in_more_than_case_still_load(cluster, tmp_path):
    lines = "rockscc add host compute-0-1\nrockscc add host c-0-0 membership=Compute\n"
    result = run_cli("-C", str(cluster), "load", script(tmp_path, lines))
    assert result.rc == 0 and "loaded 2 command line(s)" in result.out, result.err


@pytest.mark.parametrize("command", [["list", "host"], ["set", "host", "attr", "compute-0-0", "a", "1"], ["build"]])
@pytest.mark.parametrize("many", [False, True], ids=["one file", "many files"])
def test_a_host_file_written_by_hand_alike_but_for_case_is_refused(cluster, command, many):
    """The same rule for a file made by hand (read one by one through the index, or, many at
    once, checked against every row), named at the file."""
    count = 80 if many else 1  # more than the BULK of store.py (64): every row checked at once
    for n in range(1, count):
        (cluster / HOSTS_DIR / f"compute-1-{n}.toml").write_text(f'membership = "Compute"\nrack = 1\nrank = {n}\n')
    (cluster / HOSTS_DIR / "COMPUTE-0-0.toml").write_text('membership = "Compute"\nrack = 0\nrank = 1\n')
    result = run_cli("-C", str(cluster), *command)
    assert result.rc == 1, result.out
    assert 'hosts/COMPUTE-0-0.toml: host "COMPUTE-0-0" differs from host "compute-0-0" only in case' in result.err
    assert not (cluster / "build" / "kickstart" / "COMPUTE-0-0.ks").exists()


def test_a_host_file_renamed_by_hand_to_other_case_is_the_same_host(cluster):
    (cluster / HOSTS_DIR / "compute-0-0.toml").rename(cluster / HOSTS_DIR / "Compute-0-0.toml")
    result = run_cli("-C", str(cluster), "list", "host")
    assert result.rc == 0 and "Compute-0-0:" in result.out and "compute-0-0:" not in result.out, result.err
