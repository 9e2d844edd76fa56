"""The parent side of the persistent sandbox (worker.py): one bubblewrap sandbox per build
process, started on first use, serving every host's `%pre` chain over a pipe.

A fresh sandbox per chain costs ~20 ms (bwrap) plus an interpreter start for Python programs;
a task in the warm worker costs a couple of forks. Isolation per task is the worker's job (new
mount and pid namespaces, private /tmp, no capabilities). Where the worker cannot run (no
bubblewrap privileges for namespaces inside the sandbox), callers fall back to sandbox.run.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

from rockscc import sandbox

WORKER = Path(__file__).with_name("worker.py")
PYLIB = Path(__file__).with_name("pylib")
_pools: dict[int, Pool] = {}


class PoolUnavailable(Exception):
    pass


class Pool:
    def __init__(self, nproc: int) -> None:
        self.cgroup = sandbox.make_pids_cgroup(nproc)
        command = [sandbox.bwrap_path(), "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session",
                   "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
                   *sandbox.own_path_args(),
                   "--cap-add", "CAP_SYS_ADMIN", "--", sys.executable, "-S", str(WORKER), str(PYLIB)]
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     preexec_fn=lambda: sandbox.join_cgroup(self.cgroup),
                                     env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})

    def run(self, steps, files: dict[str, bytes], env: dict[str, str], limits) -> dict:
        """One task: `steps` from /tmp holding `files`; the reply has every file under /tmp after
        each step (`snapshots`), or an `error` and the `step` that was running."""
        request = {"steps": steps, "files": {k: base64.b64encode(v).decode() for k, v in files.items()}, "env": env,
                   "limits": {"cpu_s": limits.cpu_s, "wall_s": limits.wall_s, "mem_mb": limits.mem_mb,
                              "file_bytes": limits.file_bytes, "output_bytes": limits.output_bytes}}
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
            line = self._read_line(limits.wall_s + 10)
        except (BrokenPipeError, OSError, TimeoutError) as exc:
            self.close()
            raise PoolUnavailable(str(exc)) from None
        reply = json.loads(line)
        reply["snapshots"] = [{k: base64.b64decode(v) for k, v in snap.items()} for snap in reply["snapshots"]]
        return reply

    def _read_line(self, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        buffer = b""
        while not buffer.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError("the sandbox worker did not answer")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise BrokenPipeError("the sandbox worker exited")
            buffer += chunk
        return buffer

    def close(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(timeout=5)
        except Exception:
            pass
        sandbox.remove_cgroup(self.cgroup)


def pool(nproc: int) -> Pool:
    """This process's worker (a forked build worker gets its own, never its parent's)."""
    current = _pools.get(os.getpid())
    if current is None or current.proc.poll() is not None:
        current = Pool(nproc)
        _pools[os.getpid()] = current
    return current


@atexit.register
def _close_all() -> None:
    mine = _pools.pop(os.getpid(), None)
    if mine is not None:
        mine.close()
