"""Running a host's `%pre` chain at build time, as the installer would, in the sandbox.

The chain sees what Rocks' installer gave it: /tmp/discovered.disks (`disks: sda sdb`,
`raids: md0`), `rocks_partition` importable by Python programs (answering from the declared
hardware, /tmp/.rockscc/hardware.json), a private /tmp, no network, a read-only minimal file
system (the sandbox: rockscc/sandbox/).
What it leaves in /tmp/user_partition_info is the result. Runs are memoized by (program texts,
hardware): hosts sharing a program and a hardware profile cost one run.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from dataclasses import dataclass, field
from functools import lru_cache

from rockscc import sandbox
from rockscc.errors import Diagnostic, RocksccError
from rockscc.partitions.deadvalues import canonical

PYTHONS = ("python", "python2", "python3")
PROGRAM_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "LANG": "C.UTF-8",
    "TMPDIR": "/tmp",
    "PYTHONDONTWRITEBYTECODE": "1",
}
LIMITS = sandbox.Limits(
    cpu_s=10, wall_s=20, mem_mb=1024, nproc=64, output_bytes=1 << 20, file_bytes=16 << 20, tmp_mb=16, shm_mb=16
)
PYTHON = "python"  # a step run by the sandbox's warm interpreter
# exit statuses of a step the kernel stopped for a resource limit (128 + signal)
LIMIT_KILLS = {
    "137": f"the CPU-time limit ({LIMITS.cpu_s} s) or the memory limit ({LIMITS.mem_mb} MiB)",
    "152": f"the CPU-time limit ({LIMITS.cpu_s} s)",
    "153": f"the file-size limit ({LIMITS.file_bytes >> 20} MiB)",
}


@dataclass
class ChainResult:
    user_partition_info: str | None  # None: no program wrote the file
    installer_partition_info: str | None  # what the kickstart's own %pre chain wrote to /tmp/partition-info
    warnings: list[Diagnostic] = field(default_factory=list)


STEP_BYTES = 256 << 20  # the /tmp snapshots and outputs a session keeps of steps (ChainCache.trim)


@dataclass
class ChainCache:
    """What one session remembers of %pre chains (partitions.Planner holds it): results by chain
    key, and each step's result by the /tmp it started from (see _run_stepwise)."""

    chains: dict[str, ChainResult] = field(default_factory=dict)
    steps: dict[str, tuple[dict[str, bytes], str, bytes]] = field(default_factory=dict)
    # (the steps, id of the hardware JSON) -> (that JSON, the chain key): see chain_key
    keys: dict[tuple, tuple[dict, str]] = field(default_factory=dict)
    step_bytes: int = 0  # what `steps` holds, in bytes

    def remember(self, key: str, result: tuple[dict[str, bytes], str, bytes]) -> None:
        self.step_bytes += _size(result) - _size(self.steps.pop(key, ({}, "", b"")))
        self.steps[key] = result

    def trim(self) -> None:
        """The oldest step results go beyond STEP_BYTES (a trimmed step only runs again): a %pre
        that embeds the host's name and fills its 16 MiB /tmp would otherwise keep that much of
        the build process's memory per host — a roll's program growing the build, not its task,
        past any limit."""
        while self.step_bytes > STEP_BYTES and self.steps:
            self.step_bytes -= _size(self.steps.pop(next(iter(self.steps))))


def _size(result: tuple[dict[str, bytes], str, bytes]) -> int:
    files, _status, out = result
    return sum(len(data) for data in files.values()) + len(out)


def interpreter_of(script, host: str) -> list[str]:
    """The command running a %pre body: `--interpreter X` in arg=, or interpreter=, else sh."""
    try:
        return list(_interpreter(script.arg or "", script.interpreter or ""))
    except ValueError as exc:
        raise RocksccError(
            f"host {host}: {script.origin}: %pre interpreter {exc.args[0]!r} is not one rockscc "
            "can run (Python, sh or bash)"
        ) from None


@lru_cache(maxsize=1024)  # asked for every %pre of every host; a handful of distinct answers
def _interpreter(arg: str, interpreter: str) -> tuple[str, ...]:
    try:
        words = shlex.split(arg)
    except ValueError:  # unbalanced quotes
        raise ValueError(arg) from None
    chosen = interpreter or (words[words.index("--interpreter") + 1] if "--interpreter" in words[:-1] else "/bin/sh")
    base = chosen.rsplit("/", 1)[-1]
    if base.startswith(PYTHONS):
        return (PYTHON,)  # the sandbox's warm interpreter, rocks_partition already imported
    if base in ("sh", "bash", "dash"):
        return ("/bin/bash" if base == "bash" else "/bin/sh",)
    raise ValueError(chosen)


def _runnable(scripts: list, host: str) -> list[tuple[list[str], str, str]]:
    """(interpreter, the text to run, origin) of each %pre; Python texts in canonical form
    (deadvalues.py: a host name a program records but never reads does not make it distinct)."""
    steps = []
    for script in scripts:
        argv = interpreter_of(script, host)
        steps.append((argv, canonical(script.body) if argv[0] == PYTHON else script.body, script.origin))
    return steps


def chain_key(scripts: list, hardware_json: dict, host: str, cache: ChainCache | None = None) -> str:
    """What a chain's result depends on: interpreters, texts and origins of its steps, and the
    hardware. With a `cache`, remembered by the steps and the hardware JSON object (the hosts
    of a hardware profile share it; the entry keeps it, so its id stays its own): the hosts of
    one program and profile hash their texts instead of encoding and digesting them."""
    steps = _runnable(scripts, host)
    if cache is None:
        return _key_of(steps, hardware_json)
    known = (tuple((tuple(argv), text, origin) for argv, text, origin in steps), id(hardware_json))
    found = cache.keys.get(known)
    if found is None or found[0] is not hardware_json:
        if len(cache.keys) > 4096:
            cache.keys.clear()
        found = cache.keys[known] = (hardware_json, _key_of(steps, hardware_json))
    return found[1]


def _key_of(steps: list, hardware_json: dict) -> str:
    hardware = json.dumps(hardware_json, sort_keys=True)
    return hashlib.sha256(repr((steps, hardware, _discovered(hardware_json))).encode()).hexdigest()


def run_chain(scripts: list, hardware_json: dict, host: str, cache: ChainCache) -> ChainResult:
    steps = _runnable(scripts, host)
    key = _key_of(steps, hardware_json)
    if key not in cache.chains:
        cache.chains[key] = _run(steps, hardware_json, _discovered(hardware_json), host, cache)
    return cache.chains[key]


def _discovered(hardware_json: dict) -> str:
    disks = " ".join(d["name"] for d in hardware_json["disks"])
    raids = " ".join(r["name"] for r in hardware_json["raids"])
    return f"disks: {disks}\nraids: {raids}\n"


def _run(steps, hardware_json: dict, discovered: str, host: str, cache: ChainCache) -> ChainResult:
    files = {
        "/tmp/discovered.disks": discovered.encode(),
        "/tmp/.rockscc/hardware.json": json.dumps(hardware_json).encode(),
    }
    return _run_stepwise(steps, files, host, cache)


# --- step by step, memoized ---------------------------------------------------------------------
# A chain runs as one sandbox task, and the /tmp each %pre leaves is sent back. A step's result
# is memoized by (interpreter, text, the /tmp it starts from): when only one program in a chain
# embeds the host's name, the other steps are found in the memo; at the first step not found
# there, the rest of the chain runs as one task. Processes a step leaves behind do not survive
# into the next step (the installer would let them run on): results do not depend on where a
# task began. Only what a step really produced is memoized: a task that failed, was stopped or
# whose answer could not be read leaves nothing behind.
BOOKKEEPING = (sandbox.STEP_FILE,)  # the step's own program, in /tmp while it runs: not part of its result


def _step_key(argv: list[str], body: str, state: dict[str, bytes]) -> str:
    files = sorted((k, hashlib.sha256(v).hexdigest()) for k, v in state.items())
    return hashlib.sha256(repr((argv[0], body, files)).encode()).hexdigest()


def _run_stepwise(steps, state: dict[str, bytes], host: str, cache: ChainCache) -> ChainResult:
    warnings: list[Diagnostic] = []
    for index, (argv, body, origin) in enumerate(steps):
        key = _step_key(argv, body, state)
        if key not in cache.steps:
            _run_rest(steps[index:], state, host, cache)
        state, status, out = cache.steps[key]
        warning = _step_warning(status, out, origin, host)
        if warning is not None:
            warnings.append(warning)
    cache.trim()  # after the chain: each of its steps was read above
    user, installer = state.get("/tmp/user_partition_info"), state.get("/tmp/partition-info")
    return ChainResult(
        user.decode(errors="replace") if user is not None else None,
        installer.decode(errors="replace") if installer is not None else None,
        warnings,
    )


def _run_rest(rest, state: dict[str, bytes], host: str, cache: ChainCache) -> None:
    """Run `rest` (steps from the first one not memoized) in one task starting from `state`, and
    memoize each step that completed by the /tmp it started from."""
    steps = [
        sandbox.Step(
            argv=() if argv[0] == PYTHON else (argv[0], sandbox.STEP_FILE), body=body.encode(), merge_output=True
        )
        for argv, body, _origin in rest
    ]
    result = sandbox.run(steps, files=state, env=PROGRAM_ENV, limits=LIMITS, collect=True)
    if result.error:
        where = (
            f" (in the %pre at {rest[result.step][2]})" if result.step is not None and result.step < len(rest) else ""
        )
        raise RocksccError(f"host {host}: partition programs {_why(result)}{where}")
    for (argv, body, origin), step in zip(rest, result.steps):
        status = str(128 - step.status if step.status < 0 else step.status)  # as a shell reports a signal
        if status == "137" and result.oom_kills:
            raise RocksccError(
                f"host {host}: the %pre at {origin} was killed by the memory limit ({LIMITS.mem_mb} MiB)"
            )
        out = step.stdout
        if step.stopped == "output":  # stopped by rockscc: a failed step (anaconda would go on)
            status = "output"
        _step_warning(status, out, origin, host)  # raises for a resource limit: nothing is memoized
        after = {k: v for k, v in step.files.items() if not k.startswith(BOOKKEEPING)}
        cache.remember(_step_key(argv, body, state), (after, status, out))
        state = after


def _why(result) -> str:
    if result.oom_kills:
        return f"were killed by the memory limit ({LIMITS.mem_mb} MiB)"
    return result.error


def _step_warning(status: str, out: bytes, origin: str, host: str) -> Diagnostic | None:
    """None for success; an error for a resource-limit kill; else a warning (anaconda goes on)."""
    if status == "0":
        return None
    if status in LIMIT_KILLS:
        raise RocksccError(f"host {host}: the %pre at {origin} was killed by {LIMIT_KILLS[status]}")
    file, _, line = origin.rpartition(":")
    if status == "output":
        why = f"was stopped after writing more than {LIMITS.output_bytes >> 20} MiB of output"
        tail = []
    else:
        why = f"exited with status {status}"
        tail = _tail(out)
        if b"Resource temporarily unavailable" in out:
            why += f" (it hit the sandbox's process limit of {LIMITS.nproc}: a fork bomb?)"
    return Diagnostic(file, int(line or 0), f"%pre {why}" + (": " + " | ".join(tail) if tail else ""))


def _tail(out: bytes) -> list[str]:
    """The last lines a failing step printed, without traceback frames: the message itself."""
    lines = [
        line
        for line in out.decode(errors="replace").strip().splitlines()
        if line.strip() and not line.startswith(("Traceback (most recent", "  File ", "    "))
    ]
    return [line[:200] for line in lines[-2:]]
