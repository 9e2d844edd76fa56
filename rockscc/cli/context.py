"""What a running command sees: the cluster (read-only or in a transaction) and output helpers."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from rockscc.cli.command import str2bool
from rockscc.errors import RocksccError, printable
from rockscc.model import Cluster, Host, find_cluster_dir, load

if TYPE_CHECKING:  # the pipeline (lxml, Jinja2, pykickstart) is imported by commands that compile
    from rockscc.pipeline import CompileOptions, Session


class Context:
    def __init__(
        self, cluster_dir: Path | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
    ) -> None:
        self.cluster_dir = cluster_dir
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.output: dict[str, str] = {}
        self._cluster: Cluster | None = None
        self.in_transaction = False
        self.after_commit: list[Callable[[], None]] = []

    # --- the description -----------------------------------------------------------------------
    @property
    def root(self) -> Path:
        if self.cluster_dir is None:
            self.cluster_dir = find_cluster_dir()
        return self.cluster_dir

    @property
    def cluster(self) -> Cluster:
        if self._cluster is None:
            self._cluster = load(self.root, lazy=True)  # each host file checked when used
        return self._cluster

    @property
    def loaded(self) -> bool:
        return self._cluster is not None

    def use(self, cluster: Cluster, *, in_transaction: bool) -> None:
        self._cluster = cluster
        self.in_transaction = in_transaction

    def hosts(self, tokens: Sequence[str], *, default_all: bool = True) -> list[Host]:
        return self.cluster.select_hosts(list(tokens), default_all=default_all)

    def session(self, options: CompileOptions, *, cluster: bool = True) -> Session:
        """A compile pipeline for this command (pipeline.Session): of the description in use, or
        of none (`cluster=False`: test node, test partition). The options are always given: a
        command that compiles takes them from COMPILE_PARAMS, as `rockscc build` does
        (commands/_compile.py; tests/pipeline/test_side_entrances.py checks every command)."""
        from rockscc.pipeline import Session

        return Session(self.cluster if cluster else None, options)

    # --- output --------------------------------------------------------------------------------
    def out(self, text: str = "") -> None:
        self.stdout.write(text if text.endswith("\n") or not text else text + "\n")

    def warn(self, message: str) -> None:
        self.stderr.write(f"warning - {printable(message)}\n")

    def table(
        self, header: Sequence[str], rows: Sequence[Sequence[Any]], *, owner: bool = True, pad: str = "-"
    ) -> None:
        """A Rocks table, honouring output-header=, output-col= and output-format=json."""
        from rockscc.cli.table import format_json, format_table  # here: a build prints no table

        columns = [c for c in self.output.get("output-col", "").split(",") if c.strip()] or None
        fmt = self.output.get("output-format", "text").strip().lower()
        if fmt == "json":
            self.stdout.write(format_json(header, rows, columns))
            return
        if fmt != "text":
            raise RocksccError(f'output-format: "{fmt}" is not one of text, json')
        show = str2bool(self.output.get("output-header", "yes"), "output-header")
        self.stdout.write(format_table(header, rows, owner=owner, show_header=show, columns=columns, pad=pad))
