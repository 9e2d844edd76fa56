"""Fixtures for compiler tests: bare descriptions holding the Rocks corpus or small hand-written trees."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from rockscc.model import transaction
from tests.conftest import CORPUS, run_cli

# the appliance Rocks 5.0's Xen roll declares (nodes/xen-server.xml `rocks add appliance vm-container …`):
# copy_rocks5 merges that roll's files into the site, so its declaration is made by hand
ROCKS5_XEN_APPLIANCE = (
    "add",
    "appliance",
    "vm-container",
    "membership=VM Container",
    "node=vm-container",
    "short-name=vc",
    "schedulable=no",
    "public=yes",
)


def make_bare(root: Path, hosts: list[str] = (), **attrs: str) -> Path:
    result = run_cli("init", str(root), "bare=yes", "password=secret")
    assert result.rc == 0, result.err
    if any(name.startswith("vm-container-") for name in hosts):
        assert run_cli("-C", str(root), *ROCKS5_XEN_APPLIANCE).rc == 0
    for name in hosts:
        result = run_cli("-C", str(root), "add", "host", name)
        assert result.rc == 0, result.err
    if attrs:
        with transaction(root) as cluster:
            cluster.attrs.update(attrs)
    return root


def copy_rocks5(root: Path, order=sorted) -> None:
    """Rocks 5.0 base + Xen roll merged into the description's nodes/ and graphs/default/."""
    for roll in order(["base", "xen"]):
        for sub in ("nodes", "graphs/default"):
            for path in order(list((CORPUS / "rocks-5.0" / roll / sub).glob("*.xml"))):
                target = root / sub / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)


def copy_rocks7(root: Path) -> list[str]:
    """The Rocks 7 base roll; its graph names nodes of other rolls (python-development, …):
    those get empty stand-ins, as if those rolls were installed. Returns their names."""
    for sub in ("nodes", "graphs/default"):
        (root / sub).mkdir(parents=True, exist_ok=True)
        for path in sorted((CORPUS / "rocks-7" / "base" / sub).glob("*.xml")):
            shutil.copyfile(path, root / sub / path.name)
    graph = (root / "graphs/default/base.xml").read_text()
    named = set(re.findall(r'(?:from|to)="([^"]+)"', graph)) | {
        t.strip() for t in re.findall(r"<(?:to|from)>([^<]+)</", graph)
    }
    missing = sorted(n for n in named if not (root / "nodes" / f"{n}.xml").exists())
    for name in missing:
        write(
            root,
            f"nodes/{name}.xml",
            "<kickstart><description>stand-in: a node of another roll</description></kickstart>\n",
        )
    return missing


def rocks7_entities() -> set[str]:
    names = set()
    for path in (CORPUS / "rocks-7" / "base").rglob("*.xml"):
        names |= set(re.findall(r"&([A-Za-z_][A-Za-z0-9_.]*);", path.read_text(errors="replace")))
    return names - {"lt", "gt", "amp", "quot", "apos"}


def write(root: Path, relpath: str, text: str) -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def bare(tmp_path: Path):
    """A bare description with one compute host; write node/graph files into it."""
    return make_bare(tmp_path / "c", ["compute-0-0"])
