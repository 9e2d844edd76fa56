"""`rockscc list build`: the build log, job by job."""

from __future__ import annotations

import json
from pathlib import Path

from rockscc.cli.command import Arg, Command, Param
from rockscc.errors import RocksccError


class ListBuild(Command):
    """List what the last build recorded: for each job, its host, the artifacts it wrote and
    what it read (dependency keys: node and graph files, attributes, hardware, options).
    With json=yes, the full records (dependency values, output sizes, ctimes and sha256)."""

    name = "list build"
    args = [Arg("host", repeat=True, optional=True, help="only these hosts' jobs (names, appliances, rackN, globs)")]
    params = [
        Param("out", help="build directory (default: build/ in the description)"),
        Param("json", kind="bool", default=False, help="print the full records as JSON"),
    ]
    examples = ["rockscc list build compute-0-0", "rockscc list build compute-0-0 json=yes"]

    def run(self, ctx, opts) -> None:
        from rockscc.engine.make import output_dir
        from rockscc.engine.manifest import NAME, Manifest

        outdir = output_dir(ctx.root, Path(opts.out) if opts.out else None)
        if not (outdir / NAME).exists():
            raise RocksccError(f"{outdir}: no build log ({NAME}); run 'rockscc build' first")
        manifest = Manifest.load(outdir)
        wanted = {h.name for h in ctx.hosts(opts.host)} if opts.host else None
        ids = sorted(j for j in manifest.jobs if wanted is None or manifest.jobs.host_of(j) in wanted)
        if opts.json:
            ctx.out(json.dumps({j: self._full(manifest, j) for j in ids}, indent=2, sort_keys=True))
            return
        rows = []
        for job_id in ids:
            record = manifest.jobs[job_id]
            reads = sorted({**manifest.groups.get(record.get("group"), {}), **record.get("deps", {})})
            rows.append(
                [
                    job_id,
                    record.get("host") or "",
                    " ".join(sorted(record["outputs"])) or "-",
                    " ".join(reads) if reads else "its spec (json=yes)" if record.get("spec") else "-",
                ]
            )
        ctx.table(["job", "host", "artifacts", "reads"], rows, owner=False)

    @staticmethod
    def _full(manifest, job_id: str) -> dict:
        record = dict(manifest.jobs[job_id])
        if record.get("group") is not None:
            record["group_deps"] = manifest.groups.get(record["group"], {})
        return record
