"""Running `<eval>` scripts at build time, in the sandbox, with the host's variables (secrets
left out) as the environment and a `rocks` command that answers from a read-only view of the
same description, without its secrets. Only a script whose text names `rocks` gets that view
(the same test makes the compiler record the whole description as the eval's dependency)."""

from __future__ import annotations

import os
from pathlib import Path

from rockscc import sandbox
from rockscc.errors import RocksccError
from rockscc.model.secrets import is_secret

PYTHONS = {"python", "/opt/rocks/bin/python", "/usr/bin/python", "python2", "python3", "/usr/bin/python3"}
SHELLS = {"sh": "/bin/sh", "bash": "/bin/bash", "/bin/sh": "/bin/sh", "/bin/bash": "/bin/bash"}
LIMITS = sandbox.Limits(cpu_s=20, wall_s=30, mem_mb=2048, nproc=256, output_bytes=4 << 20, file_bytes=64 << 20,
                        tmp_mb=64, shm_mb=16)
BASE_ENV = {"PATH": "/opt/rocks/bin:/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8",
            "TMPDIR": "/tmp"}


def step_for(shell: str, script: str, origin: str) -> sandbox.Step:
    """The script as a sandbox step: Python in the sandbox's warm interpreter, a shell or another
    interpreter reading the script on its standard input."""
    if shell in PYTHONS:
        return sandbox.Step(body=script.encode())
    if shell in SHELLS:
        return sandbox.Step(argv=(SHELLS[shell], "-s"), stdin=script.encode())
    if os.path.isabs(shell) and os.access(shell, os.X_OK) and shell.startswith(("/usr/", "/bin/", "/sbin/")):
        return sandbox.Step(argv=(shell,), stdin=script.encode())
    raise RocksccError(f'{origin}: <eval shell="{shell}">: no such interpreter in the sandbox '
                       "(Python, sh, bash or a program under /usr)")


def run_eval(shell: str, script: str, env: dict[str, str], origin: str, cluster_dir: Path | None) -> str:
    """stdout of the script; a failure is an error naming the eval's file:line and stderr."""
    step = step_for(shell, script, origin)
    variables = {k: v for k, v in env.items() if _env_name(k) and not is_secret(k) and "\0" not in v}
    view = _view(cluster_dir) if "rocks" in script else None  # as expand.py records the dependency
    result = sandbox.run([step], env={**variables, **BASE_ENV}, limits=LIMITS, description=view)
    why = _failure(result)
    if why:
        tail = result.steps[0].stderr.decode(errors="replace").strip().splitlines()[-5:] if result.steps else []
        raise RocksccError(f"{origin}: <eval> failed ({why})" + (": " + " | ".join(tail) if tail else ""))
    return result.steps[0].stdout.decode(errors="replace")


def _failure(result: sandbox.TaskResult) -> str | None:
    if result.oom_kills:
        return f"killed by the memory limit of {LIMITS.mem_mb} MiB"
    if result.error:
        return result.error
    step = result.steps[0]
    if step.stopped == "output":
        return f"killed: more than {LIMITS.output_bytes} bytes of output"
    if step.status < 0:
        return f"killed by signal {-step.status}" + (f" (the CPU-time limit, {LIMITS.cpu_s} s)" if step.status in (-9, -24) else "")
    if step.status != 0:
        return f"exit status {step.status}"
    return None


_views: dict[tuple, sandbox.DescriptionView] = {}


def _view(cluster_dir: Path | None) -> sandbox.DescriptionView | None:
    """The description as the eval's `rocks` command reads it, made once per state of cluster.toml."""
    if cluster_dir is None:
        return None
    from rockscc.model import load

    try:
        st = os.stat(cluster_dir / "cluster.toml")
    except OSError:
        return None
    key = (str(cluster_dir), st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in _views:
        _views.clear()
        _views[key] = description_view(load(cluster_dir))
    return _views[key]


def description_view(cluster) -> sandbox.DescriptionView:
    """cluster.toml without secrets, roll directories outside the description moved under rolls/
    of the view, and the trees the `rocks` command may read."""
    import hashlib

    import tomli_w

    from rockscc.model.overlay import BUILTIN_BASE
    from rockscc.model.secrets import public_data

    data = public_data(cluster)
    root = cluster.root.resolve()
    trees = {name: str(cluster.root / name) for name in ("nodes", "graphs", "include")
             if (cluster.root / name).is_dir() and (cluster.root / name).resolve().is_relative_to(root)}  # no link out
    for name, roll in cluster.rolls.items():
        if roll.path.startswith(("builtin:", "pkg:")):
            continue
        path, inside = cluster.roll_path(roll), f"rolls/{name}"
        if path.is_dir():
            trees[inside] = str(path)
        data["rolls"][name]["path"] = inside
    builtin = {name: str(BUILTIN_BASE / name) for name in ("nodes", "graphs", "rolls") if (BUILTIN_BASE / name).is_dir()}
    text = tomli_w.dumps(data)
    key = hashlib.sha256(repr((text, sorted(trees.items()), sorted(builtin.items()))).encode()).hexdigest()
    return sandbox.DescriptionView(key, text, trees, builtin)


def _env_name(name: str) -> bool:
    return bool(name) and (name[0].isalpha() or name[0] == "_") and all(c.isalnum() or c == "_" for c in name)
