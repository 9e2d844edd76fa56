"""The one place that runs build-time user code (`<eval>` scripts, `<pre>` partition programs).

bubblewrap gives each run a private network namespace (no network at all), a read-only view of
the file system, a private /tmp and /dev, and dies with its parent; rlimits bound CPU time,
address space, processes and file size; a wall clock kills the whole process group. A machine
without bwrap gets `SandboxUnavailable`: user code never runs unsandboxed silently.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from rockscc.errors import RocksccError


class SandboxUnavailable(RocksccError):
    pass


BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "TMPDIR": "/tmp"}


@dataclass(frozen=True)
class Limits:
    cpu_s: int = 10
    wall_s: float = 20.0
    mem_mb: int = 1024
    nproc: int = 256
    output_bytes: int = 4 << 20
    file_bytes: int = 64 << 20


@dataclass
class SandboxResult:
    returncode: int
    stdout: bytes
    stderr: bytes
    files: dict[str, bytes] = field(default_factory=dict)
    error: str | None = None  # why the run was stopped (time, output), if it was
    snapshots: list[dict[str, bytes]] = field(default_factory=list)  # /tmp after each step (partition worker)
    step: int | None = None  # the step running when the task was stopped (partition worker)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.error is None


def own_paths() -> list[str]:
    """Directories the sandboxed code needs from rockscc itself — its Python and its package (for
    `rocks_partition` and the `rocks` shim) — when they live under /tmp, which the sandbox replaces
    with a private one (a clone in /tmp, a venv in /tmp)."""
    roots = {os.path.realpath(sys.prefix), os.path.realpath(os.path.dirname(sys.executable)),
             str(Path(__file__).resolve().parent.parent)}
    return sorted(r for r in roots if r == "/tmp" or r.startswith("/tmp/"))


def own_path_args() -> list[str]:
    args: list[str] = []
    for path in own_paths():
        args += ["--ro-bind", path, path]
    return args


def bwrap_path() -> str:
    path = shutil.which("bwrap")
    if not path:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed, so build-time scripts cannot run sandboxed: "
                                 "install it (apt-get install bubblewrap; scripts/setup does) or build with --eval=no")
    return path


def run(argv: list[str], *, stdin: bytes = b"", env: dict[str, str] | None = None,
        files: dict[str, bytes] | None = None, collect: list[str] | None = None, limits: Limits = Limits(),
        extra_ro_binds: list[tuple[str, str]] | None = None, extra_args: list[str] | None = None) -> SandboxResult:
    """Run argv in the sandbox. `files` are placed under the private /tmp before the run
    (keys are absolute /tmp/… paths); `collect` names /tmp files to read back afterwards."""
    bwrap = bwrap_path()
    with tempfile.TemporaryDirectory(prefix="rockscc-sandbox-") as private:
        for name, data in (files or {}).items():
            target = Path(private) / _under_tmp(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        command = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--ro-bind", "/", "/",
                   "--dev", "/dev", "--proc", "/proc", "--bind", private, "/tmp", "--chdir", "/tmp"]
        command += own_path_args()
        command += extra_args or []
        for source, target in extra_ro_binds or []:
            command += ["--ro-bind", source, target]
        result = _execute(command + ["--", *argv], stdin, env or {}, limits)
        for name in collect or []:
            path = Path(private) / _under_tmp(name)
            if path.is_file():
                result.files[name] = path.read_bytes()[: limits.output_bytes]
        return result


def _under_tmp(name: str) -> str:
    path = Path(name)
    if not name.startswith("/tmp/") or ".." in path.parts:
        raise RocksccError(f"sandbox file {name!r} must be under /tmp")
    return str(path.relative_to("/tmp"))


PIDS_CGROUP_ROOTS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")  # cgroup v1 pids controller, or v2


@contextlib.contextmanager
def _pids_cgroup(limit: int):
    """A fresh pids cgroup capped at `limit` tasks, or None where none can be made.

    RLIMIT_NPROC does not bind processes running as root (the kernel exempts uid 0), so a fork
    bomb in a sandbox started by root is stopped by the cgroup's pids.max instead."""
    path = make_pids_cgroup(limit)
    try:
        yield path
    finally:
        if path:
            _empty_cgroup(path)


def make_pids_cgroup(limit: int) -> str | None:
    path = None
    for root in PIDS_CGROUP_ROOTS:
        if os.access(os.path.join(root, "cgroup.procs"), os.W_OK):
            _sweep_dead_cgroups(root)
            candidate = os.path.join(root, f"rockscc-sandbox-{os.getpid()}-{next(_counter)}")
            try:
                os.mkdir(candidate)
                with open(os.path.join(candidate, "pids.max"), "w") as fh:
                    fh.write(str(limit))
                path = candidate
                break
            except OSError:
                with contextlib.suppress(OSError):
                    os.rmdir(candidate)
    return path


_swept: set[str] = set()


def _sweep_dead_cgroups(root: str) -> None:
    """Remove empty cgroups left by rockscc processes that are gone (a forked build worker exits
    without running atexit handlers). Once per process and cgroup root."""
    if root in _swept:
        return
    _swept.add(root)
    try:
        names = os.listdir(root)
    except OSError:
        return
    for name in names:
        if not name.startswith("rockscc-sandbox-"):
            continue
        try:
            pid = int(name.split("-")[2])
            os.kill(pid, 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(root, name))  # fails (harmlessly) if tasks are still inside
        except (ValueError, IndexError, PermissionError):
            continue


def join_cgroup(path: str | None) -> None:
    """Move the calling process into the cgroup (used in preexec_fn)."""
    if path:
        with open(os.path.join(path, "cgroup.procs"), "w") as fh:
            fh.write(str(os.getpid()))


def remove_cgroup(path: str | None) -> None:
    if path:
        _empty_cgroup(path)


def _empty_cgroup(path: str) -> None:
    for _ in range(50):
        try:
            with open(os.path.join(path, "cgroup.procs")) as fh:
                pids = [int(p) for p in fh.read().split()]
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            os.rmdir(path)
            return
        except OSError:
            time.sleep(0.02)


_counter = itertools.count()


def _execute(command: list[str], stdin: bytes, env: dict[str, str], limits: Limits) -> SandboxResult:
    with _pids_cgroup(limits.nproc) as cgroup:
        return _execute_in(command, stdin, env, limits, cgroup)


def _execute_in(command: list[str], stdin: bytes, env: dict[str, str], limits: Limits, cgroup: str | None) -> SandboxResult:
    def preexec() -> None:
        if cgroup:
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as fh:
                fh.write(str(os.getpid()))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s))
        resource.setrlimit(resource.RLIMIT_AS, (limits.mem_mb << 20, limits.mem_mb << 20))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.nproc, limits.nproc))
        os.setpgrp()

    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**BASE_ENV, **env}, preexec_fn=preexec)
    error = None
    try:
        out, err = _communicate(proc, stdin, limits)
    except subprocess.TimeoutExpired:
        _kill(proc)
        out, err = proc.communicate()
        error = f"killed after {limits.wall_s:g} s of wall-clock time"
    except _TooMuchOutput:
        _kill(proc)
        out, err = b"", b""
        proc.communicate()
        error = f"killed: more than {limits.output_bytes} bytes of output"
    if error is None and proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL, 128 + signal.SIGXCPU, 128 + signal.SIGKILL):
        error = f"killed by a resource limit (CPU time {limits.cpu_s} s, memory {limits.mem_mb} MiB)"
    return SandboxResult(proc.returncode, out[: limits.output_bytes], err[-65536:], error=error)


class _TooMuchOutput(Exception):
    pass


def _communicate(proc: subprocess.Popen, stdin: bytes, limits: Limits) -> tuple[bytes, bytes]:
    """Like communicate(timeout=…) but stops a process that floods stdout."""
    import selectors
    import time

    deadline = time.monotonic() + limits.wall_s
    if stdin:
        try:
            proc.stdin.write(stdin)
        except BrokenPipeError:
            pass
    proc.stdin.close()
    chunks = {proc.stdout: [], proc.stderr: []}
    sizes = {proc.stdout: 0, proc.stderr: 0}
    with selectors.DefaultSelector() as selector:
        for stream in chunks:
            selector.register(stream, selectors.EVENT_READ)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise subprocess.TimeoutExpired(proc.args, limits.wall_s)
            for key, _ in selector.select(timeout=remaining):
                data = os.read(key.fileobj.fileno(), 65536)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                sizes[key.fileobj] += len(data)
                if sizes[key.fileobj] > limits.output_bytes:
                    raise _TooMuchOutput()
                chunks[key.fileobj].append(data)
    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    return b"".join(chunks[proc.stdout]), b"".join(chunks[proc.stderr])


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
