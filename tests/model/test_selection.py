"""Host selection: one resolver (model/selection.py) behind every command's host arguments —
HPC ranges as HPC users mean them, racks, appliances, globs, addresses — and the force= guard
of remove host."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rockscc.errors import RocksccError
from rockscc.model import load
from rockscc.model.selection import pattern, select


@pytest.fixture
def many(cluster_dir, rockscc):
    rockscc.root = cluster_dir
    lines = [f"rockscc add host compute-0-{i}" for i in range(20)]
    lines += [f"rockscc add host compute-1-{i}" for i in range(3)] + ["rockscc add host nas-0-0"]
    (cluster_dir.parent / "hosts.sh").write_text("\n".join(lines) + "\n")
    assert rockscc(f"load {cluster_dir.parent / 'hosts.sh'}").rc == 0
    return rockscc


def names(rockscc, *tokens: str) -> list[str]:
    """The hosts `list host TOKENS` lists (through the command line, as a user runs it)."""
    result = rockscc("list", "host", *tokens, "output-format=json")
    assert result.rc == 0, result.err
    import json

    rows = json.loads(result.out)
    if rows and "host" not in rows[0]:  # one host: Rocks leaves the owner column out
        return select(load(rockscc.root), list(tokens))
    return [row["host"] for row in rows]


def test_a_range_means_numbers(many) -> None:
    assert names(many, "compute-0-[0-12]") == [f"compute-0-{i}" for i in range(13)]
    assert names(many, "compute-0-[0-2,15]") == ["compute-0-0", "compute-0-1", "compute-0-2", "compute-0-15"]
    assert names(many, "compute-[0-1]-[1-2]") == ["compute-0-1", "compute-0-2", "compute-1-1", "compute-1-2"]
    assert names(many, "compute-0-[18-40]") == ["compute-0-18", "compute-0-19"]  # the hosts that exist


def test_globs_racks_appliances_and_addresses(many) -> None:
    assert names(many, "compute-1-*") == ["compute-1-0", "compute-1-1", "compute-1-2"]
    assert names(many, "compute-0-1?") == [f"compute-0-{i}" for i in range(10, 20)]
    assert names(many, "compute-[0,1]-0") == ["compute-0-0", "compute-1-0"]
    assert names(many, "nas-0-[!1]") == ["nas-0-0"]  # a glob class
    assert names(many, "rack1") == ["compute-1-0", "compute-1-1", "compute-1-2"]
    assert "frontend" not in names(many, "rack0")
    assert names(many, "nas") == ["nas-0-0"]
    assert names(many, "10.1.1.1") == ["frontend"]


def test_every_command_resolves_alike(many, cluster_dir) -> None:
    assert many("set host attr compute-0-[3-5,9] colour blue").rc == 0
    cluster = load(cluster_dir)
    coloured = sorted(n for n, h in cluster.hosts.items() if h.attrs.get("colour") == "blue")
    assert coloured == sorted(names(many, "compute-0-[3-5,9]"))
    assert many("remove host compute-0-[3-5]").rc == 0
    assert not {"compute-0-3", "compute-0-4", "compute-0-5"} & set(load(cluster_dir).hosts)


def test_a_token_naming_nothing_is_an_error(many) -> None:
    for token in ("compute-9-[0-3]", "nothing", "rack7", "compute-0-[5-2]", "compute-0-[0-"):
        result = many("list", "host", token)
        assert result.rc == 1 and result.err.startswith("error - ") and "Traceback" not in result.err, token


def test_removing_many_hosts_or_the_frontend_needs_force(many, cluster_dir) -> None:
    before = set(load(cluster_dir).hosts)
    result = many("remove host compute-0-*")
    assert result.rc == 1 and "would remove 20 hosts" in result.err and "force=yes" in result.err
    result = many("remove host frontend")
    assert result.rc == 1 and "frontend" in result.err and "force=yes" in result.err
    result = many("remove host '*'")
    assert result.rc == 1 and "force=yes" in result.err
    assert set(load(cluster_dir).hosts) == before
    assert many("remove host compute-0-[0-7]").rc == 0  # a handful: no question
    assert many("remove host compute-0-* force=yes").rc == 0
    assert not any(n.startswith("compute-0-") for n in load(cluster_dir).hosts)


@settings(max_examples=200, deadline=None)
@given(
    low=st.integers(0, 300),
    span=st.integers(0, 50),
    extra=st.integers(0, 400),
    n=st.integers(0, 500),
    pad=st.booleans(),
)
def test_ranges_against_a_plain_reading(low, span, extra, n, pad) -> None:
    high = low + span
    width = len(str(max(high, extra, n))) + 1 if pad else 0
    bounds = f"{low:0{width}d}-{high:0{width}d},{extra:0{width}d}" if pad else f"{low}-{high},{extra}"
    test = pattern(f"c-[{bounds}]")
    number = f"{n:0{width}d}" if pad else str(n)
    assert test(f"c-{number}") == (low <= n <= high or n == extra)
    assert not test(f"c-{number}x") and not test(f"x-{number}")
    if not pad and n < 10:
        assert not test(f"c-0{n}")  # no padding asked: 05 is not 5


def test_pattern_errors_are_one_line() -> None:
    for bad in ("c-[", "c-[3-1]", "c-[0-99999999999]"):
        with pytest.raises(RocksccError, match=re.escape(bad[:3])):
            pattern(bad)
