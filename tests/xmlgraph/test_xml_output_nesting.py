"""mode="xml" output is more node XML, which may hold more evals and xml includes: an include of
itself, or an eval whose output includes it twice, is one `error -` naming the place, after a
bounded number of sandboxed runs, never an internal error or a build without end."""

from __future__ import annotations

import os

import pytest

from tests.conftest import run_cli


def site_node(cluster_dir, body: str) -> None:
    (cluster_dir / "nodes").mkdir(exist_ok=True)
    (cluster_dir / "nodes" / "extend-compute.xml").write_text(f"<kickstart>\n<post>\n{body}\n</post>\n</kickstart>\n")


def test_an_include_of_itself_is_one_error(cluster_dir):
    assert run_cli("-C", str(cluster_dir), "add", "host", "compute-0-0").rc == 0
    (cluster_dir / "include").mkdir()
    (cluster_dir / "include" / "self.xml").write_text('<include file="self.xml" mode="xml"/>\n')
    site_node(cluster_dir, '<include file="self.xml" mode="xml"/>')
    result = run_cli("-C", str(cluster_dir), "list", "host", "profile", "compute-0-0")
    assert result.rc == 1, result.err
    assert "internal error" not in result.err
    assert 'mode="xml" output nested more than 16 levels deep' in result.err, result.err


@pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox's cgroups need root on this machine kind")
def test_evals_that_print_evals_twice_stop_after_a_bounded_number_of_runs(cluster_dir, monkeypatch):
    from rockscc.xmlgraph import expand

    monkeypatch.setattr(expand, "MAX_NESTED_EVALS", 6, raising=False)
    assert run_cli("-C", str(cluster_dir), "add", "host", "compute-0-0").rc == 0
    (cluster_dir / "include").mkdir()
    (cluster_dir / "include" / "bomb.xml").write_text(
        '<eval shell="sh" mode="xml">echo \'&lt;include file="bomb.xml" mode="xml"/&gt;'
        '&lt;include file="bomb.xml" mode="xml"/&gt;\'</eval>\n'
    )
    site_node(cluster_dir, '<include file="bomb.xml" mode="xml"/>')
    result = run_cli("-C", str(cluster_dir), "list", "host", "profile", "compute-0-0")
    assert result.rc == 1, result.err
    assert "internal error" not in result.err
    assert 'more than 6 <eval>s from mode="xml" output for one host' in result.err, result.err
