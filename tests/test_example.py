"""The bundled example cluster: what the README's first command runs must keep working."""

from __future__ import annotations

import shutil

import pytest
from pykickstart.parser import KickstartParser
from pykickstart.version import makeVersion

from tests.conftest import REPO, run_cli


@pytest.fixture
def example(tmp_path):
    root = tmp_path / "cluster"
    shutil.copytree(REPO / "examples" / "cluster", root, ignore=shutil.ignore_patterns("build", ".rockscc-cache"))
    return root


def test_example_checks_clean(example):
    result = run_cli("-C", str(example), "check", "hosts=all")
    assert result.rc == 0, result.out + result.err
    assert "0 error(s), 0 warning(s)" in result.out


def test_example_compute_profile_is_valid_kickstart(example):
    result = run_cli("-C", str(example), "list", "host", "profile", "compute-0-0")
    assert result.rc == 0, result.err
    KickstartParser(makeVersion("RHEL5"), followIncludes=False).readKickstartFromString(result.out)
    assert "rootpw --iscrypted $6$" in result.out
    assert "%include /tmp/partition-info" in result.out


def test_example_builds_every_host(example):
    result = run_cli("-C", str(example), "build")
    assert result.rc == 0, result.err
    built = sorted(p.name for p in (example / "build" / "kickstart").iterdir())
    hosts = run_cli("-C", str(example), "list", "host", "output-header=no", "output-col=host").out.split()
    assert built == sorted(f"{h.rstrip(':')}.ks" for h in hosts)  # Rocks tables end the owner column with ":"
    assert all((example / "build" / "kickstart" / b).stat().st_mode & 0o777 == 0o600 for b in built)
