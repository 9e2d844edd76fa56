"""Shared fixtures: run the real `rockscc` command line in-process against a fresh cluster."""

from __future__ import annotations

import contextlib
import io
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from rockscc.cli.main import main

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "corpus"  # a copy of ../shared/corpus (unmodified Rocks files), so a clean clone tests alone


@dataclass
class Result:
    rc: int
    out: str
    err: str


def run_cli(*argv: str, cwd: Path | None = None) -> Result:
    """Run `rockscc argv…` in this process (as the console script does) and capture its output."""
    if len(argv) == 1 and " " in argv[0]:
        argv = tuple(shlex.split(argv[0]))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), contextlib.chdir(cwd or Path.cwd()):
        rc = main(list(argv))
    return Result(rc, out.getvalue(), err.getvalue())


@pytest.fixture
def cluster_dir(tmp_path: Path) -> Path:
    """A fresh `rockscc init` description (password fixed so nothing random leaks into outputs)."""
    root = tmp_path / "cluster"
    result = run_cli("init", str(root), "password=secret")
    assert result.rc == 0, result.err
    return root


@pytest.fixture
def rockscc(cluster_dir: Path):
    """`rockscc("add host compute-0-0")` runs a command line against the fixture cluster."""

    def call(*argv: str) -> Result:
        if len(argv) == 1:
            argv = tuple(shlex.split(argv[0]))
        return run_cli("-C", str(cluster_dir), *argv)

    return call


def remove_test_domains(uri: str = "test:///default", prefix: str = "compute-") -> None:
    """Destroy and undefine the VMs a test left on libvirt's in-process test driver (its state
    lives as long as this process), then drop rockscc's cached connections."""
    import libvirt

    from rockscc.runtime.connection import forget_connections

    conn = libvirt.open(uri)
    for dom in conn.listAllDomains():
        if dom.name().startswith(prefix):
            if dom.isActive():
                dom.destroy()
            dom.undefine()
    forget_connections()
