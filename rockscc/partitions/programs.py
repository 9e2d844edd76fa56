"""Running a host's `%pre` chain at build time, as the installer would, in the sandbox.

The chain sees what Rocks' installer gave it: /tmp/discovered.disks (`disks: sda sdb`,
`raids: md0`), `rocks_partition` importable by Python programs (answering from the declared
hardware, /tmp/.rockscc/hardware.json), a private /tmp, no network, a read-only file system.
What it leaves in /tmp/user_partition_info is the result. Runs are memoized by (program texts,
hardware): hosts sharing a program and a hardware profile cost one run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rockscc import sandbox
from rockscc.errors import Diagnostic, RocksccError
from rockscc.partitions.deadvalues import canonical

PYLIB = Path(__file__).resolve().parent / "pylib"
PROGRAM_ENV = {"PYTHONPATH": str(PYLIB), "PYTHONDONTWRITEBYTECODE": "1"}  # rocks_partition importable
PYTHONS = ("python", "python2", "python3")
LIMITS = sandbox.Limits(cpu_s=10, wall_s=20, mem_mb=1024, nproc=64, output_bytes=1 << 20, file_bytes=16 << 20)
# exit statuses of a step the kernel stopped for a resource limit (128 + signal)
LIMIT_KILLS = {"137": f"the CPU-time limit ({LIMITS.cpu_s} s) or the memory limit ({LIMITS.mem_mb} MiB)",
               "152": f"the CPU-time limit ({LIMITS.cpu_s} s)",
               "153": f"the file-size limit ({LIMITS.file_bytes >> 20} MiB)"}


@dataclass
class ChainResult:
    user_partition_info: str | None  # None: no program wrote the file
    installer_partition_info: str | None  # what the kickstart's own %pre chain wrote to /tmp/partition-info
    warnings: list[Diagnostic] = field(default_factory=list)


@dataclass
class ChainCache:
    """What one session remembers of %pre chains (partitions.Planner holds it): results by chain
    key, each step's result by the /tmp it started from (see _run_stepwise), and whether the
    persistent worker turned out to be unusable on this machine."""

    chains: dict[str, ChainResult] = field(default_factory=dict)
    steps: dict[str, tuple[dict[str, bytes], str, bytes]] = field(default_factory=dict)
    pool_broken: bool = False


def interpreter_of(script, host: str) -> list[str]:
    """The command running a %pre body: `--interpreter X` in arg=, or interpreter=, else sh."""
    try:
        return list(_interpreter(script.arg or "", script.interpreter or ""))
    except ValueError as exc:
        raise RocksccError(f"host {host}: {script.origin}: %pre interpreter {exc.args[0]!r} is not one rockscc "
                           "can run (Python, sh or bash)") from None


@lru_cache(maxsize=1024)  # asked for every %pre of every host; a handful of distinct answers
def _interpreter(arg: str, interpreter: str) -> tuple[str, ...]:
    try:
        words = shlex.split(arg)
    except ValueError:  # unbalanced quotes
        raise ValueError(arg) from None
    chosen = interpreter or (words[words.index("--interpreter") + 1] if "--interpreter" in words[:-1] else "/bin/sh")
    base = chosen.rsplit("/", 1)[-1]
    if base.startswith(PYTHONS):
        return (sys.executable, "-S")  # no site: halves start-up; rocks_partition comes from PYTHONPATH
    if base in ("sh", "bash", "dash"):
        return ("/bin/bash" if base == "bash" else "/bin/sh",)
    raise ValueError(chosen)


def _runnable(scripts: list, host: str) -> list[tuple[list[str], str, str]]:
    """(interpreter, the text to run, origin) of each %pre; Python texts in canonical form
    (deadvalues.py: a host name a program records but never reads does not make it distinct)."""
    steps = []
    for script in scripts:
        argv = interpreter_of(script, host)
        steps.append((argv, canonical(script.body) if argv[0] == sys.executable else script.body, script.origin))
    return steps


def chain_key(scripts: list, hardware_json: dict, host: str) -> str:
    """What a chain's result depends on: interpreters, texts and origins of its steps, and the hardware."""
    return _key_of(_runnable(scripts, host), hardware_json)


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
    files = {"/tmp/discovered.disks": discovered.encode(),
             "/tmp/.rockscc/hardware.json": json.dumps(hardware_json).encode()}
    stepwise = _run_stepwise(steps, dict(files), host, cache)
    if stepwise is not None:
        return stepwise
    return _run_whole(steps, files, host)


def _run_whole(steps, files: dict[str, bytes], host: str) -> ChainResult:
    """The whole chain in one fresh sandbox (where the persistent worker cannot run)."""
    driver = ["set +e", "cd /tmp"]
    for i, (argv, body, _origin) in enumerate(steps):
        files[f"/tmp/.rockscc/pre-{i}"] = body.encode()
        driver.append(f"{' '.join(shlex.quote(a) for a in argv)} /tmp/.rockscc/pre-{i} "
                      f"> /tmp/.rockscc/out-{i} 2>&1; echo $? > /tmp/.rockscc/status-{i}")
    files["/tmp/.rockscc/driver"] = "\n".join(driver).encode()
    collect = ["/tmp/user_partition_info", "/tmp/partition-info"]
    collect += [f"/tmp/.rockscc/{kind}-{i}" for i in range(len(steps)) for kind in ("status", "out")]
    result = sandbox.run(["/bin/sh", "/tmp/.rockscc/driver"], env=PROGRAM_ENV, files=files, collect=collect, limits=LIMITS)
    if result.error:
        raise RocksccError(f"host {host}: partition programs {result.error}" + _where(steps, result))
    _check_all_started(steps, result, host)
    warnings = []
    for i, (_argv, _body, origin) in enumerate(steps):
        status = result.files.get(f"/tmp/.rockscc/status-{i}", b"").decode().strip()
        warning = _step_warning(status, result.files.get(f"/tmp/.rockscc/out-{i}", b""), origin, host)
        if warning is not None:
            warnings.append(warning)
    user = result.files.get("/tmp/user_partition_info")
    installer = result.files.get("/tmp/partition-info")
    return ChainResult(user.decode(errors="replace") if user is not None else None,
                       installer.decode(errors="replace") if installer is not None else None, warnings)


# --- step by step, memoized ---------------------------------------------------------------------
# In the persistent worker a chain runs as one task, and the /tmp each %pre leaves is sent back.
# A step's result is memoized by (interpreter, text, the /tmp it starts from): when only one
# program in a chain embeds the host's name, the other steps are found in the memo; at the first
# step not found there, the rest of the chain runs as one task (a task costs ~3 ms more than a
# step inside one). Processes a step leaves behind do not survive into the next step (the
# installer would let them run on): results do not depend on where a task began.
BOOKKEEPING = ("/tmp/.rockscc/pre", "/tmp/.rockscc/status-", "/tmp/.rockscc/out-")  # the worker's, not a result


def _step_key(argv: list[str], body: str, state: dict[str, bytes]) -> str:
    kind = "python" if argv[0] == sys.executable else argv[0]
    files = sorted((k, hashlib.sha256(v).hexdigest()) for k, v in state.items())
    return hashlib.sha256(repr((kind, body, files)).encode()).hexdigest()


def _run_stepwise(steps, state: dict[str, bytes], host: str, cache: ChainCache) -> ChainResult | None:
    warnings: list[Diagnostic] = []
    for index, (argv, body, origin) in enumerate(steps):
        key = _step_key(argv, body, state)
        if key not in cache.steps and not _run_rest(steps[index:], state, host, cache):
            return None  # no worker here: the whole chain in one fresh sandbox instead
        state, status, out = cache.steps[key]
        warning = _step_warning(status, out, origin, host)
        if warning is not None:
            warnings.append(warning)
    user, installer = state.get("/tmp/user_partition_info"), state.get("/tmp/partition-info")
    return ChainResult(user.decode(errors="replace") if user is not None else None,
                       installer.decode(errors="replace") if installer is not None else None, warnings)


def _run_rest(rest, state: dict[str, bytes], host: str, cache: ChainCache) -> bool:
    """Run `rest` (steps from the first one not memoized) in one task starting from `state`, and
    memoize each step by the /tmp it started from. False when there is no worker."""
    files = dict(state)
    kinds = []
    for j, (argv, body, _origin) in enumerate(rest):
        files[f"/tmp/.rockscc/pre-{j}"] = body.encode()
        kinds.append(("python" if argv[0] == sys.executable else argv[0], f"/tmp/.rockscc/pre-{j}"))
    reply = _pool_request(kinds, files, cache)
    if reply is None:
        return False
    if reply.error:
        where = f" (in the %pre at {rest[reply.step][2]})" if reply.step is not None and reply.step < len(rest) else ""
        raise RocksccError(f"host {host}: partition programs {reply.error}{where}")
    for j, (argv, body, origin) in enumerate(rest):
        after = reply.snapshots[j] if j < len(reply.snapshots) else {}
        if f"/tmp/.rockscc/status-{j}" not in after:
            raise RocksccError(f"host {host}: the %pre at {origin} could not run: the sandbox's process limit "
                               f"({LIMITS.nproc}) was reached (fork bomb?)")
        result = {k: v for k, v in after.items() if not k.startswith(BOOKKEEPING)}
        cache.steps[_step_key(argv, body, state)] = (result, after[f"/tmp/.rockscc/status-{j}"].decode().strip(),
                                                after.get(f"/tmp/.rockscc/out-{j}", b""))
        state = result
    return True


def _step_warning(status: str, out: bytes, origin: str, host: str) -> Diagnostic | None:
    """None for success; an error for a resource-limit kill; else a warning (anaconda goes on)."""
    if status == "0":
        return None
    if status in LIMIT_KILLS:
        raise RocksccError(f"host {host}: the %pre at {origin} was killed by {LIMIT_KILLS[status]}")
    file, _, line = origin.rpartition(":")
    why = f"exited with status {status}"
    tail = _tail(out)
    if b"Resource temporarily unavailable" in out:
        why += f" (it hit the sandbox's process limit of {LIMITS.nproc}: a fork bomb?)"
    if len(out) >= LIMITS.output_bytes:
        why += f" after writing more than {LIMITS.output_bytes >> 20} MiB of output (limit on files: {LIMITS.file_bytes >> 20} MiB)"
        tail = []
    return Diagnostic(file, int(line or 0), f"%pre {why}" + (": " + " | ".join(tail) if tail else ""))


def _pool_request(kinds, files: dict[str, bytes], cache: ChainCache):
    """One task in this process's persistent worker, or None when the worker cannot be used."""
    from rockscc.partitions import pool as pools

    if cache.pool_broken or os.environ.get("ROCKSCC_NO_POOL"):
        return None
    env = {**sandbox.BASE_ENV, **PROGRAM_ENV}  # the worker starts each task from an empty environment
    try:
        reply = pools.pool(LIMITS.nproc).run(kinds, files, env, LIMITS)
    except (pools.PoolUnavailable, sandbox.SandboxUnavailable, OSError):
        cache.pool_broken = True
        return None
    if (reply.get("error") or "").startswith(("unshare failed", "cannot mount")):
        cache.pool_broken = True  # this machine cannot give tasks their own namespaces: fresh sandboxes
        return None
    return sandbox.SandboxResult(0, b"", b"", error=reply.get("error"), snapshots=reply["snapshots"],
                                 step=reply.get("step"))



def _tail(out: bytes) -> list[str]:
    """The last lines a failing step printed, without traceback frames: the message itself."""
    lines = [line for line in out.decode(errors="replace").strip().splitlines()
             if line.strip() and not line.startswith(("Traceback (most recent", "  File ", "    "))]
    return [line[:200] for line in lines[-2:]]


def _check_all_started(steps, result, host: str) -> None:
    """A %pre that never got a status could not even be started: an earlier one left the
    sandbox without processes (a fork bomb) or the driver itself was stopped."""
    for i, (_argv, _body, origin) in enumerate(steps):
        if f"/tmp/.rockscc/status-{i}" not in result.files:
            culprit = f"; the %pre at {steps[i - 1][2]} exhausted it" if i else ""
            raise RocksccError(f"host {host}: the %pre at {origin} could not run: the sandbox's process limit "
                               f"({LIMITS.nproc}) was reached{culprit} (fork bomb?)")


def _where(steps, result) -> str:
    """Which %pre was running when the whole chain was stopped: the first without a status."""
    for i, (_argv, _body, origin) in enumerate(steps):
        if f"/tmp/.rockscc/status-{i}" not in result.files:
            return f" (in the %pre at {origin})"
    return ""
