"""Helpers: run a node file's partition programs through `rockscc test partition`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli

SEED = REPO / "examples" / "cluster" / "nodes" / "replace-partition.xml"


def program(tmp_path: Path, body: str, interpreter: str = "/opt/rocks/bin/python") -> Path:
    path = tmp_path / "prog.xml"
    arg = f' arg="--interpreter {interpreter}"' if interpreter else ""
    path.write_text(f"<kickstart><pre{arg}><![CDATA[\n{body}\n]]></pre></kickstart>\n")
    return path


@pytest.fixture
def test_partition():
    def call(file: Path, *args: str):
        return run_cli("test", "partition", str(file), *args)

    return call
