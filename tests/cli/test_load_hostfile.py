"""`rockscc load hostfile`: hosts from a CSV spreadsheet; every error names its line and loads
nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from rockscc.model import load
from rockscc.model.store import FILENAME, HOSTS_DIR

GOOD = """Name,Appliance,Rack,Rank,Interface,IP,MAC,Network
compute-0-0,compute,0,0,eth0,10.1.200.1,52:54:00:00:01:01,private
compute-0-0,,,,eth1,,,public
compute-0-1,,,,,,52:54:00:00:01:02,
"login node 1",compute,3,4,,,,
"""


def files(root: Path) -> dict[str, bytes]:
    out = {FILENAME: (root / FILENAME).read_bytes()}
    return out | {p.name: p.read_bytes() for p in (root / HOSTS_DIR).iterdir()}


def test_a_hostfile_loads_hosts_and_interfaces(tmp_path, cluster_dir, rockscc) -> None:
    good = GOOD.replace('"login node 1"', "login1")
    (tmp_path / "hosts.csv").write_text(good)
    result = rockscc(f"load hostfile {tmp_path / 'hosts.csv'}")
    assert result.rc == 0, result.err
    assert "loaded 3 host(s)" in result.out
    cluster = load(cluster_dir)
    c0 = cluster.hosts["compute-0-0"]
    assert [(i.device, i.ip, i.mac, i.subnet) for i in c0.interfaces] == [
        ("eth0", "10.1.200.1", "52:54:00:00:01:01", "private"),
        ("eth1", "198.51.100.254", None, "public"),
    ]
    c1 = cluster.hosts["compute-0-1"]
    assert (c1.membership, c1.rack, c1.rank, c1.interfaces[0].ip, c1.pxeboot) == (
        "Compute",
        0,
        1,
        "10.1.255.254",
        "install",
    )
    login = cluster.hosts["login1"]
    assert (login.rack, login.rank, login.interfaces[0].name) == (3, 4, "login1")


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("name,rack\ncompute-0-5,zz\n", 2, 'rack: "zz" is not an integer'),
        ("name,colour\ncompute-0-5,red\n", 1, 'unknown column "colour"'),
        ("rack,rank\n1,2\n", 1, 'no "name" column'),
        ("name,name\nx,y\n", 1, 'column "name" named twice'),
        ("name,mac\ncompute-0-5,52:54:00:00:00:01\ncompute-0-6,zz:zz\n", 3, "MAC address"),
        ("name,ip\ncompute-0-5,10.1.1.1\n", 2, "IP 10.1.1.1 is already used by host frontend"),
        ("name,ip\ncompute-0-5,10.1.100.5\ncompute-0-6,10.1.100.5\n", 3, "IP 10.1.100.5 is already used"),
        ("name\ncompute-0-5\ncompute-0-5\n", 3, "the interface cell is empty"),
        ("name,interface\ncompute-0-5,eth0\ncompute-0-5,eth0\n", 3, 'already has interface "eth0"'),
        ("name,rack\ncompute-0-5,\ncompute-0-5,2\n", 3, "was named on an earlier row"),
        ("name,interface\ncompute-0-5,\n,eth1\n", 3, "the name cell is empty"),
        ("name\ncompute-0-5,extra\n", 2, "2 cells, but the header names 1"),
        ("name\nfrontend\n", 2, 'host "frontend" already exists'),
        ("name,appliance\nx1,nosuch\n", 2, 'membership "nosuch" is not defined'),
        ("name\nbad/name\n", 2, "must not contain"),
        ("name,network\ncompute-0-5,nowhere\n", 2, 'network "nowhere" is not defined'),
        ('name\n"compute-0-5\n', 2, "unexpected end of data"),
    ],
)
def test_any_error_names_its_line_and_loads_nothing(tmp_path, cluster_dir, rockscc, text, line, message) -> None:
    before = files(cluster_dir)
    (tmp_path / "hosts.csv").write_text(text)
    result = rockscc(f"load hostfile {tmp_path / 'hosts.csv'}")
    assert result.rc == 1, result.out
    assert result.err.startswith(f"error - {tmp_path / 'hosts.csv'}:{line}: ") and message in result.err, result.err
    assert "nothing was loaded" in result.err and len(result.err.splitlines()) == 1
    assert files(cluster_dir) == before


def test_an_empty_file_is_an_error(tmp_path, rockscc) -> None:
    (tmp_path / "hosts.csv").write_text("\n\n")
    result = rockscc(f"load hostfile {tmp_path / 'hosts.csv'}")
    assert result.rc == 1 and "no header row" in result.err
