"""Running `<eval>` scripts at build time, in the sandbox, with the host's variables (secrets
left out) as the environment and a `rocks` command that answers from a read-only view of the
same description, without its secrets. Only a script whose text names `rocks`, or a Python one
when some overlay has include/applets, gets that view (`wants_description`: the same test makes
the compiler record the whole description as the eval's dependency).

`shell="python"` is what Rocks ran with its own Python 2.7 (`/opt/rocks/bin/python`), after the
three lines `import sys`, `import os`, `sys.path.append("include/applets")` (Rocks 7 core
rocks/profile.py `Pass1NodeHandler.startElement_eval`). rockscc runs the interpreter the attribute
rocks_eval_python names (an executable under /usr, which the sandbox's read-only system has);
without one, the sandbox's own Python 3, but only for a script that is Python 3: one that does
not even compile as Python 3 (`print "x"`) is an error naming the eval's file:line and how to
configure the interpreter, never Python 3 guessing at Python 2 code. The prelude puts the
include/applets directories of the description and its rolls, as the sandbox sees them, on
sys.path. A non-zero exit status is returned, not raised: rocks_eval_errors decides (expand.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rockscc.errors import RocksccError
from rockscc.model.secrets import is_secret

if TYPE_CHECKING:  # imported where an eval runs: a compile whose evals are memoized runs none
    from rockscc import sandbox

PYTHONS = {"python", "/opt/rocks/bin/python", "/usr/bin/python", "python2", "python3", "/usr/bin/python3"}
SHELLS = {"sh": "/bin/sh", "bash": "/bin/bash", "/bin/sh": "/bin/sh", "/bin/bash": "/bin/bash"}
BASE_ENV = {"PATH": "/opt/rocks/bin:/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "TMPDIR": "/tmp"}


def __getattr__(name: str):
    """LIMITS, the sandbox limits of an eval: made on first use (module attribute, PEP 562), so
    that importing the compiler does not import the sandbox."""
    if name != "LIMITS":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rockscc import sandbox

    limits = sandbox.Limits(
        cpu_s=20, wall_s=30, mem_mb=2048, nproc=256, output_bytes=4 << 20, file_bytes=64 << 20, tmp_mb=64, shm_mb=16
    )
    globals()["LIMITS"] = limits
    return limits


def _limits() -> sandbox.Limits:
    """LIMITS as the module has it now (a test may have replaced it)."""
    return globals().get("LIMITS") or __getattr__("LIMITS")


PYTHON_ATTR = "rocks_eval_python"  # the interpreter for shell="python" (Rocks: Python 2.7)
ERRORS_ATTR = "rocks_eval_errors"  # what a non-zero exit status of an eval does
ERROR_POLICIES = ("ignore", "warn", "fail")
DEFAULT_POLICY = "warn"  # Rocks used the output whatever the status; rockscc says so


@dataclass(frozen=True)
class EvalRun:
    """An `<eval>` script's output, and how it failed."""

    stdout: str
    failure: str | None = None  # "exit status N: <stderr tail>" when the script exited non-zero
    note: str | None = None  # what was changed in the output to make it text (a warning)


def wants_description(shell: str, script: str, has_applets: bool) -> bool:
    """Whether the eval gets the description's view (and depends on the whole description)."""
    return "rocks" in script or (shell in PYTHONS and has_applets)


def python_interpreter(configured: str | None, script: str, origin: str) -> str | None:
    """The interpreter a shell="python" eval runs with: `configured` (rocks_eval_python), else None
    for the sandbox's Python 3, which only a script that compiles as Python 3 gets."""
    if configured:
        path = os.path.normpath(configured)
        if not path.startswith("/usr/") or not os.path.isfile(path) or not os.access(path, os.X_OK):
            raise RocksccError(
                f'{origin}: <eval shell="python">: attribute {PYTHON_ATTR}="{configured}" is not an '
                "executable under /usr (the sandbox's system is /usr): e.g. /usr/local/bin/python2.7"
            )
        return path
    try:
        compile(script, origin, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        where = f"script line {exc.lineno}: " if getattr(exc, "lineno", None) else ""
        raise RocksccError(
            f'{origin}: <eval shell="python"> is not Python 3 ({where}{getattr(exc, "msg", exc)}); Rocks ran it with '
            f"Python 2.7. Name a Python 2 interpreter under /usr with `rockscc set attr {PYTHON_ATTR} "
            "/usr/local/bin/python2.7` (Debian 12 ships none: build one), or port the eval to Python 3"
        ) from None
    return None


def python_prelude(applet_dirs: list[str]) -> str:
    """Rocks' three lines before a Python eval (the script's line numbers shift by three, as in
    Rocks), with include/applets directories for Rocks' relative include/applets."""
    return f"import sys\nimport os\nsys.path.extend({applet_dirs!r})\n"


def step_for(shell: str, script: str, origin: str, python: str | None = None, applets: list[str] = ()) -> sandbox.Step:
    """The script as a sandbox step: Python in the sandbox's warm interpreter (or the one
    rocks_eval_python names) after Rocks' prelude, a shell or another interpreter reading the
    script on its standard input."""
    from rockscc import sandbox

    if shell in PYTHONS:
        body = (python_prelude(list(applets)) + script).encode()
        return sandbox.Step(argv=(python, "-"), stdin=body) if python else sandbox.Step(body=body)
    if shell in SHELLS:
        return sandbox.Step(argv=(SHELLS[shell], "-s"), stdin=script.encode())
    if os.path.isabs(shell) and os.access(shell, os.X_OK) and shell.startswith(("/usr/", "/bin/", "/sbin/")):
        return sandbox.Step(argv=(shell,), stdin=script.encode())
    raise RocksccError(
        f'{origin}: <eval shell="{shell}">: no such interpreter in the sandbox '
        "(Python, sh, bash or a program under /usr)"
    )


def run_eval(
    shell: str,
    script: str,
    env: dict[str, str],
    origin: str,
    cluster_dir: Path | None,
    *,
    python: str | None = None,
    has_applets: bool = False,
) -> EvalRun:
    """The script's stdout, and how it failed if it exited non-zero; the sandbox stopping it
    (time, memory, output) is an error naming the eval's file:line and its stderr."""
    view = _view(cluster_dir) if wants_description(shell, script, has_applets) else None
    applets = applet_dirs(view) if shell in PYTHONS and view is not None else []
    step = step_for(shell, script, origin, python, applets)
    from rockscc import sandbox

    variables = {k: v for k, v in env.items() if _env_name(k) and not is_secret(k) and "\0" not in v}
    result = sandbox.run([step], env={**variables, **BASE_ENV}, limits=_limits(), description=view)
    why = _failure(result)
    tail = result.steps[0].stderr.decode(errors="replace").strip().splitlines()[-5:] if result.steps else []
    if why:
        raise RocksccError(f"{origin}: <eval> failed ({why})" + (": " + " | ".join(tail) if tail else ""))
    step_result = result.steps[0]
    failure = None
    if step_result.status != 0:
        failure = f"exit status {step_result.status}" + (": " + " | ".join(tail) if tail else "")
    text, note = _output_text(step_result.stdout, origin)
    return EvalRun(text, failure, note)


def _output_text(out: bytes, origin: str) -> tuple[str, str | None]:
    """An eval's output as kickstart text. A NUL byte is an error: the kickstart would carry it,
    and the installer's shell drops it or its parser stops there (pykickstart lets it through).
    Bytes that are not UTF-8 (a Latin-1 file cat'ed, say) become U+FFFD, with a warning: Rocks
    passed them on raw, into a kickstart the installer reads as UTF-8."""
    nul = out.find(b"\0")
    if nul >= 0:
        raise RocksccError(f"{origin}: <eval> printed a NUL byte (byte {nul} of its output): a kickstart is text")
    try:
        return out.decode(), None
    except UnicodeDecodeError as exc:
        return out.decode(errors="replace"), (
            f"output is not UTF-8 (byte {exc.start} first): each byte that is not became U+FFFD"
        )


def applet_dirs(view: sandbox.DescriptionView) -> list[str]:
    """include/applets of the description, then of its rolls (last added first), where the
    sandbox sees them (under sandbox.view.DESCRIPTION). rockscc's built-in rolls have none."""
    from rockscc.sandbox.view import DESCRIPTION

    found = []
    if "include" in view.trees and os.path.isdir(os.path.join(view.trees["include"], "applets")):
        found.append(f"{DESCRIPTION}/include/applets")
    for name in reversed([n for n in view.trees if n.startswith("rolls/")]):
        if os.path.isdir(os.path.join(view.trees[name], "include", "applets")):
            found.append(f"{DESCRIPTION}/{name}/include/applets")
    return found


def _failure(result: sandbox.TaskResult) -> str | None:
    if result.oom_kills:
        return f"killed by the memory limit of {_limits().mem_mb} MiB"
    if result.error:
        return result.error
    step = result.steps[0]
    if step.stopped == "output":
        return f"killed: more than {_limits().output_bytes} bytes of output"
    if step.status < 0:
        return f"killed by signal {-step.status}" + (
            f" (the CPU-time limit, {_limits().cpu_s} s)" if step.status in (-9, -24) else ""
        )
    return None


_views: dict[tuple, sandbox.DescriptionView] = {}


def _view(cluster_dir: Path | None) -> sandbox.DescriptionView | None:
    """The description as the eval's `rocks` command reads it, made once per state of cluster.toml
    and of the hosts/ directory (rockscc replaces host files by rename, which changes the
    directory; a host file edited in place by hand is seen by the next process)."""
    if cluster_dir is None:
        return None
    from rockscc.model import load

    try:
        st = os.stat(cluster_dir / "cluster.toml")
    except OSError:
        return None
    try:
        hosts = os.stat(cluster_dir / "hosts")
        hosts_key = (hosts.st_ino, hosts.st_mtime_ns)
    except OSError:
        hosts_key = None
    key = (str(cluster_dir), st.st_ino, st.st_size, st.st_mtime_ns, hosts_key)
    if key not in _views:
        _views.clear()
        _views[key] = description_view(load(cluster_dir))
    return _views[key]


def description_view(cluster) -> sandbox.DescriptionView:
    """cluster.toml without secrets, roll directories outside the description moved under rolls/
    of the view, and the trees the `rocks` command may read."""
    import hashlib

    import tomli_w

    from rockscc import sandbox
    from rockscc.model.overlay import BUILTIN_BASE
    from rockscc.model.secrets import public_data

    data = public_data(cluster)
    root = cluster.root.resolve()
    trees = {
        name: str(cluster.root / name)
        for name in ("nodes", "graphs", "include")
        if (cluster.root / name).is_dir() and (cluster.root / name).resolve().is_relative_to(root)
    }  # no link out
    for name, roll in cluster.rolls.items():
        if roll.path.startswith(("builtin:", "pkg:")):
            continue
        path, inside = cluster.roll_path(roll), f"rolls/{name}"
        if _is_roll(path):
            trees[inside] = str(path)
        data["rolls"][name]["path"] = inside
    builtin = {
        name: str(BUILTIN_BASE / name) for name in ("nodes", "graphs", "rolls") if (BUILTIN_BASE / name).is_dir()
    }
    text = tomli_w.dumps(data)
    key = hashlib.sha256(repr((text, sorted(trees.items()), sorted(builtin.items()))).encode()).hexdigest()
    return sandbox.DescriptionView(key, text, trees, builtin)


def _is_roll(path: Path) -> bool:
    """Whether a roll's directory is one (nodes/ or graphs/ in it, as `add roll` requires): a path
    in cluster.toml naming `/` or `/var` must not bring the build host's files and sockets into
    the sandbox."""
    return path.is_dir() and ((path / "nodes").is_dir() or (path / "graphs").is_dir())


def _env_name(name: str) -> bool:
    return bool(name) and (name[0].isalpha() or name[0] == "_") and all(c.isalnum() or c == "_" for c in name)
