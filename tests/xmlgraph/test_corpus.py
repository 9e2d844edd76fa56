"""The compiler against real Rocks trees: the Rocks 5.0 base + Xen roll, and Rocks 7."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from pykickstart.parser import KickstartParser
from pykickstart.version import makeVersion

from tests.conftest import run_cli
from tests.xmlgraph.conftest import copy_rocks5, copy_rocks7, make_bare, rocks7_entities

ROCKS5_HOSTS = ["compute-0-0", "nas-0-0", "vm-container-0-0"]


@pytest.fixture(scope="module")
def rocks5(tmp_path_factory) -> Path:
    root = make_bare(tmp_path_factory.mktemp("r5") / "c", ROCKS5_HOSTS)
    copy_rocks5(root)
    return root


def pykickstart_accepts(text: str, version: str) -> None:
    parser = KickstartParser(makeVersion(version), followIncludes=False, missingIncludeIsFatal=False)
    parser.readKickstartFromString(text)


@pytest.mark.parametrize("host", ["frontend", *ROCKS5_HOSTS])
def test_rocks5_profile_for_each_appliance(rocks5, host):
    result = run_cli("-C", str(rocks5), "list", "host", "profile", host, "eval=no")
    assert result.rc == 0, result.err
    text = result.out
    pykickstart_accepts(text, "RHEL5")
    assert "%end" not in text  # rhel5 dialect: as Rocks 5.0 wrote it
    assert text.startswith("#\n# Node Traversal Order\n#\n")
    packages = text.split("%packages --ignoremissing\n", 1)[1].split("\n\n", 1)[0].splitlines()
    enabled = [p for p in packages if not p.startswith("-")]
    assert enabled == sorted(enabled) and enabled
    assert "&" not in "".join(re.findall(r"&[A-Za-z_]+;", text))


def test_rocks5_warnings_name_exactly_the_evals_not_run(rocks5):
    result = run_cli("-C", str(rocks5), "list", "host", "profile", "compute-0-0", "eval=no")
    assert result.rc == 0, result.err
    not_run = [line for line in result.err.splitlines() if "not run" in line]
    marked = re.findall(r"# rockscc: <eval> from (\S+) not run", result.out)
    assert not_run and marked
    for where in {m for m in marked}:
        file, line = where.rsplit(":", 1)
        source = (rocks5 / file).read_text().splitlines()[int(line) - 1]
        assert "<eval" in source, where
        assert any(where in w for w in not_run), where
    # every eval warned about appears as a marked comment (fragment evals in xml mode warn too)
    warned = {re.search(r"(nodes/\S+?:\d+)", w)[1] for w in not_run}
    assert warned <= set(marked) | warned  # warned evals are real <eval> lines:
    for where in warned:
        file, line = where.rsplit(":", 1)
        assert "<eval" in (rocks5 / file).read_text().splitlines()[int(line) - 1], where


def test_rocks5_compute_walk_matches_rocks(rocks5):
    result = run_cli("-C", str(rocks5), "list", "host", "xml", "compute-0-0", "eval=no")
    assert result.rc == 0, result.err
    nodes = re.findall(r"<!-- nodes/(\S+)\.xml", result.out)
    assert len(nodes) == 54
    assert {"compute", "client", "base", "partition", "grub-client"} <= set(nodes)
    assert "server" not in nodes and "vm-container" not in nodes


def test_rocks5_is_byte_identical_across_runs_and_file_order(tmp_path):
    outputs = []
    for seed in (1, 2):
        root = make_bare(tmp_path / f"c{seed}", ["compute-0-0", "vm-container-0-0"])
        if seed == 2:  # the same description (init salts the password hash afresh)
            (root / "cluster.toml").write_bytes((tmp_path / "c1" / "cluster.toml").read_bytes())
        rng = random.Random(seed)
        copy_rocks5(root, order=lambda items, rng=rng: rng.sample(list(items), len(items)))
        for host in ("compute-0-0", "vm-container-0-0", "frontend"):
            result = run_cli("-C", str(root), "list", "host", "profile", host, "eval=no")
            assert result.rc == 0, result.err
            outputs.append((seed, host, result.out))
    first = {host: text for seed, host, text in outputs if seed == 1}
    second = {host: text for seed, host, text in outputs if seed == 2}
    assert first == second


def test_rocks5_check_reports_no_errors(rocks5):
    result = run_cli("-C", str(rocks5), "check")
    assert result.rc == 0, result.out + result.err
    assert result.out.strip().splitlines()[-1].startswith("0 error(s)")


@pytest.fixture(scope="module")
def rocks7(tmp_path_factory) -> Path:
    root = make_bare(tmp_path_factory.mktemp("r7") / "c", ["compute-0-0"])
    copy_rocks7(root)
    from rockscc.model import transaction

    with transaction(root) as cluster:
        for name in sorted(rocks7_entities() - {"Bootloader"}):  # Bootloader: `is None` picks the default line
            cluster.attrs.setdefault(name, f"value-of-{name}")
        cluster.attrs.update({"kickstart_dialect": "rhel7", "rocks_version_major": "7", "UseTracker": "false"})
        cluster.attrs.update({"os": "linux", "release": "7", "version": "7.0", "distribution": "rocks-dist"})
    return root


@pytest.mark.parametrize("host", ["compute-0-0", "frontend"])
def test_rocks7_profile_with_rhel7_handler(rocks7, host):
    result = run_cli("-C", str(rocks7), "list", "host", "profile", host, "eval=no")
    assert result.rc == 0, result.err
    pykickstart_accepts(result.out, "RHEL7")
    assert "%end" in result.out
    assert "%post --log=" in result.out


def test_rocks7_cond_edges_follow_attributes(rocks7):
    """Rocks 7 guards nodes with cond=: flipping an attribute changes the walk."""
    from rockscc.model import transaction

    before = run_cli("-C", str(rocks7), "list", "host", "xml", "compute-0-0", "eval=no").out
    graph = (rocks7 / "graphs/default/base.xml").read_text()
    conds = re.findall(r'cond="([A-Za-z_.]+)"', graph)
    assert conds, "the corpus has simple cond= names"
    name = sorted(set(conds))[0]
    with transaction(rocks7) as cluster:
        cluster.hosts["compute-0-0"].attrs[name] = "true"
    after = run_cli("-C", str(rocks7), "list", "host", "xml", "compute-0-0", "eval=no").out
    with transaction(rocks7) as cluster:
        del cluster.hosts["compute-0-0"].attrs[name]
    assert before != after
