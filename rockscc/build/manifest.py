"""The build log (ninja's shape): for each job, what it read and what it wrote.

`build/.rockscc-manifest.json` holds
- `jobs`: id -> {kind, host, fp, outputs: {path: [size, mtime_ns, sha256]}, spec | deps}
- `files`: dependency file key -> [size, mtime_ns, sha256], so unchanged files are not re-hashed
- `groups`: id -> {dependency key: value}, the part of many jobs' dependencies that does not
  depend on which host reads it (node and graph files, options, non-intrinsic attributes), stored
  once and checked once per attribute context instead of once per host
It is replaced atomically at the end of a build; a build killed before that leaves the previous
manifest, whose records then disagree with the files on disk, so the next build redoes that work.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rockscc import __version__

NAME = ".rockscc-manifest.json"
FORMAT = 2


@dataclass
class Manifest:
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, list] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    version: str = __version__
    dirty: bool = True  # a loaded manifest is clean until a build changes something in it

    @classmethod
    def load(cls, outdir: Path) -> Manifest:
        try:
            data = json.loads((outdir / NAME).read_text())
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            return cls()  # no usable log: everything is rebuilt, nothing is lost
        if data.get("format") != FORMAT:
            return cls()
        return cls(jobs=data.get("jobs", {}), files=data.get("files", {}), groups=data.get("groups", {}),
                   version=data.get("version", ""), dirty=data.get("version") != __version__)

    def save(self, outdir: Path) -> None:
        if not self.dirty and (outdir / NAME).exists():
            return  # a no-op build leaves the manifest untouched (and does not serialize it)
        outdir.mkdir(parents=True, exist_ok=True)
        used = {job.get("group") for job in self.jobs.values()}
        self.groups = {gid: deps for gid, deps in self.groups.items() if gid in used}
        data = {"format": FORMAT, "version": __version__, "files": self.files, "jobs": self.jobs, "groups": self.groups}
        text = json.dumps(data, separators=(",", ":"), sort_keys=True)
        try:
            if (outdir / NAME).read_text() == text:
                return  # a no-op build leaves even the manifest untouched
        except OSError:
            pass
        tmp = outdir / f".{NAME}.tmp{os.getpid()}"
        tmp.write_text(text)
        os.replace(tmp, outdir / NAME)

    def outputs(self) -> set[str]:
        return {path for job in self.jobs.values() for path in job.get("outputs", {})}
