"""Running `<eval>` scripts at build time, in the sandbox, with the host's variables as the
environment and a `rocks` command that runs rockscc against the same description."""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from functools import cache
from pathlib import Path

from rockscc import sandbox
from rockscc.errors import RocksccError

PYTHONS = {"python", "/opt/rocks/bin/python", "/usr/bin/python", "python2", "python3", "/usr/bin/python3"}
SHELLS = {"sh": "/bin/sh", "bash": "/bin/bash", "/bin/sh": "/bin/sh", "/bin/bash": "/bin/bash"}
LIMITS = sandbox.Limits(cpu_s=20, wall_s=30, mem_mb=2048)


@cache
def _shim_dir() -> str:
    """A directory holding `rocks`: evals that call Rocks commands get rockscc's. It lives
    outside /tmp, which the sandbox replaces with a private, empty one."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rockscc"
    text = f'#!/bin/sh\nexec "{sys.executable}" -m rockscc -C "$ROCKSCC_CLUSTER" "$@"\n'
    directory = base / ("shim-" + hashlib.sha256(text.encode()).hexdigest()[:12])
    shim = directory / "rocks"
    if not shim.is_file() or shim.read_text() != text:
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=directory)
        os.close(fd)  # an executable still open for writing cannot be run ("text file busy")
        partial = Path(name)
        partial.write_text(text)
        partial.chmod(0o755)
        partial.replace(shim)
    python = directory / "python"
    if not python.exists():
        python.symlink_to(sys.executable)  # /opt/rocks/bin/python in Rocks' scripts
    return str(directory)


def interpreter(shell: str, origin: str) -> list[str]:
    if shell in PYTHONS:
        return [sys.executable, "-"]
    if shell in SHELLS:
        return [SHELLS[shell], "-s"]
    if os.path.isabs(shell) and os.access(shell, os.X_OK):
        return [shell]
    raise RocksccError(f'{origin}: <eval shell="{shell}">: no such interpreter on this machine')


def run_eval(shell: str, script: str, env: dict[str, str], origin: str, cluster_dir: Path | None) -> str:
    """stdout of the script; a failure is an error naming the eval's file:line and stderr."""
    argv = interpreter(shell, origin)
    shim = _shim_dir()
    full_env = {k: v for k, v in env.items() if _env_name(k)}
    full_env["PATH"] = f"{shim}:/opt/rocks/bin:/usr/local/bin:/usr/bin:/bin"
    if cluster_dir is not None:
        full_env["ROCKSCC_CLUSTER"] = str(cluster_dir)
    full_env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent.parent)
    # the description stays readable (read-only) even where it lives under /tmp
    binds = [(str(cluster_dir), str(cluster_dir))] if cluster_dir is not None else []
    result = sandbox.run(argv, stdin=script.encode(), env=full_env, limits=LIMITS, extra_ro_binds=binds,
                         extra_args=_rocks_prefix(shim))
    if not result.ok:
        why = result.error or f"exit status {result.returncode}"
        tail = result.stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise RocksccError(f"{origin}: <eval> failed ({why})" + (": " + " | ".join(tail) if tail else ""))
    return result.stdout.decode(errors="replace")


def _rocks_prefix(shim: str) -> list[str]:
    """Rocks evals call /opt/rocks/bin/rocks by absolute path: on a machine without Rocks, the
    sandbox gets a private /opt whose rocks/bin holds rockscc's `rocks`."""
    if os.path.isdir("/opt") and not os.path.exists("/opt/rocks"):
        return ["--tmpfs", "/opt", "--ro-bind", shim, "/opt/rocks/bin"]
    return []


def _env_name(name: str) -> bool:
    return bool(name) and (name[0].isalpha() or name[0] == "_") and all(c.isalnum() or c == "_" for c in name)
