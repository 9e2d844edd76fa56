"""Running `<eval>` scripts at build time, in the sandbox, with the host's variables as the
environment and a `rocks` command that runs rockscc against the same description.

`shell="python"` is what Rocks ran with its own Python 2.7 (`/opt/rocks/bin/python`), after the
three lines `import sys`, `import os`, `sys.path.append("include/applets")` (Rocks 7 core
rocks/profile.py `Pass1NodeHandler.startElement_eval`). rockscc runs the interpreter the attribute
rocks_eval_python names (an executable under /usr, which the sandbox sees); without one, its own
Python 3, but only for a script that is Python 3: one that does not even compile as Python 3
(`print "x"`) is an error naming the eval's file:line and how to configure the interpreter, never
Python 3 guessing at Python 2 code."""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rockscc import sandbox
from rockscc.errors import RocksccError

PYTHONS = {"python", "/opt/rocks/bin/python", "/usr/bin/python", "python2", "python3", "/usr/bin/python3"}
PYTHON_ATTR = "rocks_eval_python"  # the interpreter for shell="python" (Rocks: Python 2.7)
ERRORS_ATTR = "rocks_eval_errors"  # what a non-zero exit status of an eval does
ERROR_POLICIES = ("ignore", "warn", "fail")
DEFAULT_POLICY = "warn"  # Rocks used the output whatever the status; rockscc says so


@dataclass(frozen=True)
class EvalRun:
    stdout: str
    failure: str | None = None  # "exit status N: <stderr tail>" when the script failed


def python_prelude(applet_dirs: list[str]) -> str:
    """Rocks' three lines before a Python eval (so the script's line numbers shift by three, as
    in Rocks), with the overlays' include/applets directories for Rocks' include/applets."""
    return f"import sys\nimport os\nsys.path.extend({applet_dirs!r})\n"


def python_interpreter(configured: str | None, script: str, origin: str) -> str | None:
    """The interpreter a shell="python" eval runs with: `configured` (rocks_eval_python), else None
    for rockscc's own Python 3, which only a script that compiles as Python 3 gets."""
    if configured:
        path = os.path.normpath(configured)
        if not path.startswith("/usr/") or not os.path.isfile(path) or not os.access(path, os.X_OK):
            raise RocksccError(f'{origin}: <eval shell="python">: attribute {PYTHON_ATTR}="{configured}" is not an '
                               "executable under /usr (the sandbox sees only /usr): e.g. /usr/local/bin/python2.7")
        return path
    try:
        compile(script, origin, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        where = f"script line {exc.lineno}: " if getattr(exc, "lineno", None) else ""
        raise RocksccError(
            f'{origin}: <eval shell="python"> is not Python 3 ({where}{getattr(exc, "msg", exc)}); Rocks ran it with '
            f"Python 2.7. Name a Python 2 interpreter under /usr with `rockscc set attr {PYTHON_ATTR} "
            "/usr/local/bin/python2.7` (Debian 12 ships none: build one), or port the eval to Python 3") from None
    return None
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


def interpreter(shell: str, origin: str, python: str | None = None) -> list[str]:
    if shell in PYTHONS:
        return [python or sys.executable, "-"]
    if shell in SHELLS:
        return [SHELLS[shell], "-s"]
    if os.path.isabs(shell) and os.access(shell, os.X_OK):
        return [shell]
    raise RocksccError(f'{origin}: <eval shell="{shell}">: no such interpreter on this machine')


def run_eval(shell: str, script: str, env: dict[str, str], origin: str, cluster_dir: Path | None, *,
             python: str | None = None, applets: list[str] = ()) -> EvalRun:
    """The script's stdout, and how it failed if its exit status was not 0; the sandbox stopping
    it (time, memory, output) is an error naming the eval's file:line and its stderr."""
    argv = interpreter(shell, origin, python)
    if shell in PYTHONS:
        script = python_prelude(list(applets)) + script
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
    tail = result.stderr.decode(errors="replace").strip().splitlines()[-5:]
    if result.error:
        raise RocksccError(f"{origin}: <eval> failed ({result.error})" + (": " + " | ".join(tail) if tail else ""))
    failure = None
    if result.returncode != 0:
        failure = f"exit status {result.returncode}" + (": " + " | ".join(tail) if tail else "")
    return EvalRun(result.stdout.decode(errors="replace"), failure)


def _rocks_prefix(shim: str) -> list[str]:
    """Rocks evals call /opt/rocks/bin/rocks by absolute path: on a machine without Rocks, the
    sandbox gets a private /opt whose rocks/bin holds rockscc's `rocks`."""
    if os.path.isdir("/opt") and not os.path.exists("/opt/rocks"):
        return ["--tmpfs", "/opt", "--ro-bind", shim, "/opt/rocks/bin"]
    return []


def _env_name(name: str) -> bool:
    return bool(name) and (name[0].isalpha() or name[0] == "_") and all(c.isalnum() or c == "_" for c in name)
