"""Start-up cost without timing (issue 17): every edit pays for what the command line imports
before it does anything, so the commands that edit or list the description must not import the
compiler (lxml, Jinja2, lark, pykickstart), the VM runtime (libvirt), pyparted, or the installed
distributions' metadata (importlib.metadata, which brings in the email package), and `--version`
and `--help` must not import even the model. Each case runs in a fresh interpreter, as a user
runs rockscc, and reports what ended up in sys.modules; a command that compiles is the control
that shows the probe does see a heavy import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rockscc.cli import registry
from tests.conftest import REPO

# third-party packages and rockscc's own layers an edit has no use for (`remove host` reads the VM
# move journal, rockscc.runtime.journal: a JSON file, no libvirt; the rest of the runtime is heavy)
HEAVY = (
    "lark",
    "jinja2",
    "lxml",
    "pykickstart",
    "libvirt",
    "parted",
    "tomlkit",
    "importlib.metadata",
    "email",
    "rockscc.pipeline",
    "rockscc.backends",
    "rockscc.xmlgraph",
    "rockscc.grammar",
    "rockscc.engine",
    "rockscc.runtime.vms",
    "rockscc.runtime.connection",
    "rockscc.runtime.move",
    "rockscc.partitions",
    "rockscc.sandbox",
    "rockscc.provision",
    # stdlib modules an edit has no use for: socket.py builds enums at import (model/alloc.py and
    # hostindex.py take inet_aton from _socket); signal is for the commit's test faults only;
    # hashlib loads OpenSSL (a host's digest is blake2b, from _blake2)
    "socket",
    "signal",
    "hashlib",
    "subprocess",
    "tempfile",
)

PROBE = """
import json, sys
from rockscc.cli.main import main
rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "modules": sorted(sys.modules)}))
"""


def imported(*argv: str, cwd: Path) -> tuple[set[str], int]:
    """The modules a fresh `rockscc argv…` has imported when it finishes, and its exit status."""
    modules, rc, _ = probe(*argv, cwd=cwd)
    return modules, rc


def probe(*argv: str, cwd: Path) -> tuple[set[str], int, str]:
    """imported(), and what the command printed."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    *printed, last = proc.stdout.splitlines()
    report = json.loads(last)
    return set(report["modules"]), report["rc"], "\n".join(printed)


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.fixture
def edited(cluster_dir: Path) -> Path:
    """The fixture cluster with two hosts, made by a fresh process as well."""
    for argv in (["add", "host", "compute-0-0"], ["add", "host", "compute-0-1"]):
        _, rc = imported("-C", str(cluster_dir), *argv, cwd=cluster_dir)
        assert rc == 0
    return cluster_dir


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["-h"]])
def test_version_and_help_import_neither_the_model_nor_the_command_table(argv, tmp_path: Path) -> None:
    modules, rc = imported(*argv, cwd=tmp_path)
    assert rc == 0
    assert heavy(modules) == []
    assert sorted(m for m in modules if m.startswith("rockscc.")) == [
        "rockscc.cli",
        "rockscc.cli.main",
        "rockscc.errors",
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["set", "host", "attr", "compute-0-1", "rack_switch", "sw1"],
        ["add", "host", "compute-0-5"],
        ["set", "host", "interface", "compute-0-1", "eth0", "mac=52:54:00:00:00:09"],
        ["remove", "host", "compute-0-0"],
        ["list", "host", "compute-0-1"],
        ["list", "host"],
        ["list", "host", "interface", "compute-0-1"],
        ["set", "host", "pxeboot", "compute-0-1", "action=install"],
    ],
    ids=" ".join,
)
def test_edits_and_listings_import_only_their_own_command(argv, edited: Path) -> None:
    modules, rc = imported("-C", str(edited), *argv, cwd=edited)
    assert rc == 0
    assert heavy(modules) == []
    module = "rockscc.commands." + "_".join(registry.resolve(argv)[0].split())
    commands = {m for m in modules if m.startswith("rockscc.commands.") and not m.split(".")[-1].startswith("_")}
    assert commands == {module}  # the command table names modules; only the one run is imported


# what a build that runs no job must not import: the compiler and what it runs (a build imports
# them when a job compiles a host), and the rest of HEAVY but the pipeline, backends, engine and
# hashlib (sha256 of the code identity)
NO_OP_HEAVY = (
    *(
        h
        for h in HEAVY
        if h not in ("rockscc.pipeline", "rockscc.backends", "rockscc.engine", "rockscc.partitions", "hashlib")
    ),
    "rockscc.backends.kickstart",
    "rockscc.backends.preseed",
    "rockscc.partitions.programs",
    "rockscc.partitions.layout",
)


def test_a_no_op_build_imports_no_compiler(edited: Path) -> None:
    """A build with nothing to do plans, checks its outputs and stops: no lxml, Jinja2, lark,
    pykickstart, xmlgraph or sandbox (issue 17: their imports were most of a no-op build's
    start-up). The first build, which compiles every host, is the control: it does import them."""
    first, rc = imported("-C", str(edited), "build", cwd=edited)
    assert rc == 0
    assert {"jinja2", "lxml", "pykickstart", "rockscc.xmlgraph", "rockscc.backends.kickstart"} <= {
        m for m in first if any(m == h or m.startswith(h + ".") for h in NO_OP_HEAVY)
    }
    again, rc, printed = probe("-C", str(edited), "build", cwd=edited)
    assert rc == 0 and " 0 rebuilt" in printed
    assert sorted(m for m in again if any(m == h or m.startswith(h + ".") for h in NO_OP_HEAVY)) == []
    assert {"rockscc.commands.build", "rockscc.engine.make"} <= again  # the probe saw the build run


def test_a_command_that_compiles_does_import_the_compiler(edited: Path) -> None:
    """The control: the probe sees heavy imports where they belong (a test that can fail)."""
    modules, rc = imported("-C", str(edited), "list", "host", "xml", "compute-0-1", cwd=edited)
    assert rc == 0
    assert {"lxml", "rockscc.pipeline", "rockscc.xmlgraph"} <= set(heavy(modules))


def test_a_typo_and_help_still_see_installed_plugin_commands(monkeypatch) -> None:
    """Installed entry points are read only for a line no built-in or roll command names: such a
    line resolves to the plugin; a plugin cannot take over a built-in's command line."""
    monkeypatch.setattr(registry, "_plugins", lambda: {"frob widget": "nowhere:Frob", "list host extra": "x:Y"})
    assert registry.resolve(["frob", "widget", "a", "k=v"]) == ("frob widget", ["a", "k=v"])
    assert registry.resolve(["list", "host", "extra"]) == ("list host", ["extra"])
    assert "frob widget" in registry.names()
    assert registry.resolve(["frob", "gadget"]) == (None, ["frob", "gadget"])
