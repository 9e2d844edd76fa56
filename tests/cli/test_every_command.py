"""Every command, fed nothing and fed nonsense, answers (or refuses with `error - …` and leaves the
description unchanged) — never an internal error or a traceback."""

from __future__ import annotations

import pytest

from rockscc.cli import registry
from tests.conftest import run_cli

# commands that would wait for input or take over the terminal
INTERACTIVE = {"console host vm", "build"}
NONSENSE = [[], ["no-such-host"], ["../x", "a b"], ["frobnicate=1"], ["--no-such-option"]]


@pytest.mark.parametrize("name", sorted(set(registry.names()) - INTERACTIVE))
def test_command_survives_bad_input(cluster_dir, name):
    for extra in NONSENSE:
        before = (cluster_dir / "cluster.toml").read_bytes()
        argv = [*name.split(), *extra]
        if name in ("init",) and extra:
            argv = ["init", str(cluster_dir / "sub" / "x"), *extra[1:]]
        result = run_cli("-C", str(cluster_dir), *argv)
        assert result.rc in (0, 1), (argv, result.rc, result.err)
        assert "internal error" not in result.err and "Traceback" not in result.err, (argv, result.err)
        if result.rc:  # refused: one error line, nothing changed
            assert result.err.startswith("error - "), (argv, result.err)
            assert (cluster_dir / "cluster.toml").read_bytes() == before, argv


@pytest.mark.parametrize("name", sorted(registry.names()))
def test_help_for_every_command(cluster_dir, name):
    result = run_cli("-C", str(cluster_dir), *name.split(), "help")
    assert result.rc == 0 and result.out.startswith(f"rockscc {name}")
