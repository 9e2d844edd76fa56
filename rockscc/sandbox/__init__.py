"""The one place build-time user code runs: `<eval>` scripts and `%pre` partition programs (in
builds, `--watch`, `test node` and `test partition` alike).

    result = sandbox.run([Step(argv=("/bin/sh", "-s"), stdin=b"echo hi")], env={...}, limits=Limits(...))

A task is a list of steps run one after another in one fresh set of namespaces, with a private
/tmp that the steps share (the files given are put there first; with `collect`, every file under
/tmp is returned after each step). Steps are programs to exec, or Python run in the supervisor's
warm interpreter (`rocks_partition` already imported); a step's own program text is written to
STEP_FILE only when it starts, so no step can change a later one's. What a program can and cannot do is in
docs/partitioning.md ("The sandbox"); the pieces are view.py (what it sees), supervisor.py (how
a task runs), seccomp.py, cgroups.py and pool.py (the build process's side).

There is no weaker fallback: where the sandbox cannot be had, `SandboxUnavailable` says what is
missing and the code does not run.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

from rockscc.sandbox.errors import SandboxUnavailable
from rockscc.sandbox.view import DescriptionView

__all__ = ["Limits", "Step", "StepResult", "TaskResult", "SandboxUnavailable", "DescriptionView", "run"]


@dataclass(frozen=True)
class Limits:
    """What a sandboxed task may use: CPU, wall time, memory, processes, output and file sizes."""

    cpu_s: int = 10  # CPU time of each process
    wall_s: float = 20.0  # the whole task
    mem_mb: int = 1024  # the whole task (cgroup), and the address space of each process
    nproc: int = 64  # processes of the whole task (cgroup)
    output_bytes: int = 1 << 20  # of each output stream of a step
    file_bytes: int = 16 << 20  # largest file a process may write
    tmp_mb: int = 16  # the task's /tmp (counted in its memory too)
    shm_mb: int = 16  # the task's /dev/shm


STEP_FILE = "/tmp/.rockscc/pre"  # where a step's program is, while it runs


@dataclass(frozen=True)
class Step:
    """One program of a task: an executable with its stdin, or a Python body."""

    argv: tuple[str, ...] = ()  # a program to exec (absolute path first); empty: `body` is Python
    body: bytes | None = None  # the program, written to STEP_FILE when the step starts (None: none)
    stdin: bytes = b""
    merge_output: bool = False  # stderr into stdout (partition programs), else kept apart (evals)


@dataclass
class StepResult:
    """How a step ended: its exit status and output."""

    status: int  # exit status; -N: killed by signal N
    stdout: bytes
    stderr: bytes
    stopped: str | None = None  # "output": stopped for writing more than its limit
    files: dict[str, bytes] | None = None  # /tmp after the step (with collect)


@dataclass
class TaskResult:
    """How a task ended: each step's result, or why the task was stopped."""

    steps: list[StepResult] = field(default_factory=list)
    error: str | None = None  # why the task was stopped or its answer is unusable
    step: int | None = None  # the step running when the task was stopped
    oom_kills: int = 0  # processes the kernel killed at the task's memory limit
    pid_limit_hits: int = 0  # forks refused at the task's process limit

    @property
    def ok(self) -> bool:
        return self.error is None


def run(
    steps: list[Step],
    *,
    files: dict[str, bytes] | None = None,
    env: dict[str, str] | None = None,
    limits: Limits = Limits(),
    collect: bool = False,
    description: DescriptionView | None = None,
) -> TaskResult:
    """Run one task; raises SandboxUnavailable where no sandbox can be had."""
    from rockscc.sandbox import pool

    request = json.dumps(
        {
            "steps": [
                {
                    "argv": list(s.argv),
                    "body": None if s.body is None else base64.b64encode(s.body).decode(),
                    "stdin": base64.b64encode(s.stdin).decode(),
                    "merge": s.merge_output,
                }
                for s in steps
            ],
            "files": {name: base64.b64encode(data).decode() for name, data in (files or {}).items()},
            "env": dict(env or {}),
            "collect": collect,
            "limits": {
                "cpu_s": limits.cpu_s,
                "memory_bytes": limits.mem_mb << 20,
                "file_bytes": limits.file_bytes,
                "output_bytes": limits.output_bytes,
                "tmp_bytes": limits.tmp_mb << 20,
                "shm_bytes": limits.shm_mb << 20,
            },
        }
    ).encode()
    # each step may return its outputs and a whole /tmp, in base64
    answer_limit = len(steps) * ((limits.tmp_mb << 20) + 2 * limits.output_bytes) * 4 // 3 + (1 << 20)
    worker = pool.worker(description)
    try:
        done, raw = worker.run(request, limits.wall_s, limits.mem_mb << 20, limits.nproc, answer_limit)
    except pool.WorkerFailed as exc:
        pool.forget(worker)
        return TaskResult(error=str(exc))
    result = TaskResult(step=done["step"], oom_kills=done["oom_kills"], pid_limit_hits=done["pid_limit_hits"])
    if done.get("error"):
        result.error = str(done["error"])
    elif done["timeout"]:
        result.error = f"killed after {limits.wall_s:g} s of wall-clock time"
    else:
        _read_answer(raw, len(steps), collect, result)
    return result


def _read_answer(raw: bytes, count: int, collect: bool, result: TaskResult) -> None:
    """The task's answer, checked field by field: anything else is that task's error."""
    try:
        answer = json.loads(raw)
        if not isinstance(answer, dict) or set(answer) != {"steps", "error"}:
            raise ValueError("not an answer")
        if answer["error"] is not None:
            result.error = str(answer["error"])
            return
        if not isinstance(answer["steps"], list) or len(answer["steps"]) != count:
            raise ValueError("not one result per step")
        result.steps = [_step_result(item, collect) for item in answer["steps"]]
    except (ValueError, TypeError, KeyError) as exc:
        result.steps = []
        result.error = f"the sandbox's answer could not be read ({exc}): the task ended without a complete answer"


def _step_result(item, collect: bool) -> StepResult:
    if (
        not isinstance(item, dict)
        or not isinstance(item.get("status"), int)
        or item.get("stopped") not in (None, "output")
    ):
        raise ValueError("a step result of the wrong shape")
    files = item.get("files")
    if collect:
        if not isinstance(files, dict) or not all(isinstance(k, str) and k.startswith("/tmp/") for k in files):
            raise ValueError("a /tmp snapshot of the wrong shape")
        files = {k: base64.b64decode(v, validate=True) for k, v in files.items()}
    elif files is not None:
        raise ValueError("files from a task that collects none")
    return StepResult(
        item["status"],
        base64.b64decode(item["out"], validate=True),
        base64.b64decode(item["err"], validate=True),
        item["stopped"],
        files,
    )
