"""A normal install works: the sdist and the wheel built from it carry everything rockscc needs
(its built-in nodes/, graphs/ and rolls/ inside the package), and the wheel, installed into a
fresh virtualenv, runs `rockscc init` and `rockscc build` away from the source tree.

Slow (~1 min: two isolated builds and an install with the dependencies; pip's cache makes the
compiled ones quick after the first run)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from rockscc import __version__
from tests.conftest import REPO

pytestmark = pytest.mark.slow

DATA = ("nodes", "graphs", "rolls")


def _run(argv: list, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, argv))}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _builtin_files() -> set[str]:
    return {str(p.relative_to(REPO)) for name in DATA for p in (REPO / name).rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """`python -m build`: the sdist, then the wheel built from the sdist."""
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", out, REPO], cwd=out)
    return out


def test_the_sdist_carries_the_sources_data_and_license(dist):
    (sdist,) = dist.glob(f"rockscc-{__version__}.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    assert _builtin_files() <= names
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml", "rockscc/pipeline/session.py"} <= names


def test_the_wheel_carries_the_builtin_data_inside_the_package(dist):
    (wheel,) = dist.glob(f"rockscc-{__version__}-py3-none-any.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"rockscc/data/{name}" for name in _builtin_files()} <= names
    assert {
        "rockscc/backends/kickstart/templates/head.j2",
        "rockscc/grammar/cond.lark",
        "rockscc/sandbox/supervisor.py",
        "rockscc/partitions/pylib/rocks_partition.py",
    } <= names
    metadata = zipfile.ZipFile(wheel).read(f"rockscc-{__version__}.dist-info/METADATA").decode()
    assert "License-Expression: BSD-3-Clause" in metadata and "Programming Language :: Python :: 3.13" in metadata
    assert not any(name.startswith(("tests/", "nodes/", "graphs/")) for name in names)


def test_the_installed_wheel_inits_and_builds_a_cluster(dist, tmp_path):
    (wheel,) = dist.glob("*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=tmp_path)
    _run([venv / "bin" / "pip", "install", "-q", wheel], cwd=tmp_path)
    rockscc = venv / "bin" / "rockscc"
    where = _run([venv / "bin" / "python", "-c", "import rockscc; print(rockscc.__file__)"], cwd=tmp_path).stdout
    assert where.startswith(str(venv)), where  # the installed copy, not the source tree
    assert _run([rockscc, "--version"], cwd=tmp_path).stdout == f"rockscc {__version__}\n"
    root = tmp_path / "cluster"
    _run([rockscc, "init", root, "password=x"], cwd=tmp_path)
    for command in (
        ["add", "host", "compute-0-0"],
        ["add", "host", "vm-container-0-0"],
        ["add", "host", "vm", "vm-container-0-0", "membership=Compute"],
        ["add", "hwprofile", "one", "disks=sda:80G"],
        ["set", "host", "hwprofile", "compute-0-0", "one"],
    ):
        _run([rockscc, "-C", root, *command], cwd=tmp_path)
    _run([rockscc, "-C", root, "build"], cwd=tmp_path)
    build = root / "build"
    kickstart = (build / "kickstart" / "compute-0-0.ks").read_text()
    assert "# nodes/compute.xml (base)" in kickstart  # the built-in base, from the package
    assert "# nodes/xen.xml (xen)" in (build / "kickstart" / "vm-container-0-0.ks").read_text()  # the built-in roll
    assert (build / "partitions" / "compute-0-0.json").is_file()  # the sandboxed %pre chain ran (worker, pylib)
    assert (build / "libvirt" / "compute-0-0-0.xml").is_file()
