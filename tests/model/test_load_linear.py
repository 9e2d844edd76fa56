"""`load` costs a bounded amount of host-table work per line, whatever the cluster's size: a
per-line check that scans every host (the one-frontend check once did, and a 10 000-host load
took 116 s instead of 7 s) makes the count grow with the square of the lines. Counted, not timed."""

from __future__ import annotations

from pathlib import Path

from rockscc.model.hosttable import HostTable
from tests.conftest import run_cli


def _summaries_for_load(root: Path, hosts: int, monkeypatch) -> int:
    script = root.parent / f"hosts-{hosts}.sh"
    script.write_text("".join(f"rockscc add host compute-{hosts}-{i}\n" for i in range(hosts)))
    calls = 0
    original = HostTable.summary

    def counted(self, name):
        nonlocal calls
        calls += 1
        return original(self, name)

    monkeypatch.setattr(HostTable, "summary", counted)
    result = run_cli("load", str(script), cwd=root)
    monkeypatch.setattr(HostTable, "summary", original)
    assert result.rc == 0, result.err
    return calls


def test_a_load_looks_at_each_host_a_bounded_number_of_times(cluster_dir, monkeypatch) -> None:
    small = _summaries_for_load(cluster_dir, 40, monkeypatch)
    # the same description grown by 160 more lines: linear work grows 4x, quadratic 16x and more
    large = _summaries_for_load(cluster_dir, 160, monkeypatch)
    assert large <= 6 * max(small, 40), (small, large)
