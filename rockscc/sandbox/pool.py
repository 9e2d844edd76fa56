"""The build process's side of the sandbox: one supervisor (supervisor.py) per process, started
on first use under bubblewrap as an unprivileged uid, serving every task over a socket.

A task travels in two memfds the parent creates: the request (read by the task's pid 1) and
the answer (written by it). The socket carries only the descriptors and a few numbers, so what
a task returns can come from that task and nothing else; the supervisor's "done" message is
checked too. A worker that misbehaves in any way is stopped and replaced for the next task.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import socket
import subprocess
import tempfile
from functools import partial

from rockscc.sandbox import cgroups, view
from rockscc.sandbox.errors import SandboxUnavailable

SANDBOX_ID = 2147483645  # the host uid and gid sandboxed code runs as when rockscc runs as root
WORKER_MEMORY = 2560 << 20  # the worker and its current task together (a task's own limit is lower)
WORKER_PIDS = 320
START_TIMEOUT = 20.0
SUPERVISOR = f"{view.LIB}/rockscc/sandbox/supervisor.py"
PYLIB = f"{view.LIB}/rockscc/partitions/pylib"


class WorkerFailed(Exception):
    """The worker died or answered out of protocol during a task (that task's error)."""


def sandbox_ids() -> tuple[int, int]:
    """The unprivileged host uid/gid of sandboxed code: a dedicated one when running as root
    (owning no file, used by nothing else), else the user's own."""
    if os.geteuid() == 0:
        return SANDBOX_ID, SANDBOX_ID
    return os.getuid(), os.getgid()


def bwrap_path() -> str:
    path = shutil.which("bwrap")
    if not path:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, so build-time code cannot run sandboxed: "
            "install it (apt-get install bubblewrap; scripts/setup does) or build with --eval=no"
        )
    return path


class Worker:
    def __init__(self, description: view.DescriptionView | None) -> None:
        self.view_key = description.key if description is not None else None
        self.next_id = 0
        uid, gid = sandbox_ids()
        bwrap = bwrap_path()
        self.cgroups = cgroups.create(uid, gid, WORKER_MEMORY, WORKER_PIDS)
        self.channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        errors = os.memfd_create("rockscc-worker-errors", os.MFD_CLOEXEC)
        # only a mount point, in the worker's own namespace; in /tmp whatever TMPDIR says: the
        # sandbox's uid must be able to walk the path to it
        stage = tempfile.mkdtemp(prefix="rockscc-stage-", dir="/tmp")
        try:
            self.proc = self._spawn(bwrap, uid, gid, description, theirs, errors, stage)
            theirs.close()
            try:
                ready = self._receive(START_TIMEOUT)
            except WorkerFailed:
                ready = None
            if not isinstance(ready, dict) or ready.get("ready") is not True:
                why = ready.get("missing") if isinstance(ready, dict) else _last_line(errors)
                raise SandboxUnavailable(
                    f"the sandbox cannot run on this machine, so build-time code does not run "
                    f"(build with --eval=no to skip evals): {why or 'the worker did not start'}"
                )
        except BaseException:
            theirs.close()
            self.close()
            raise
        finally:
            os.close(errors)
            os.rmdir(stage)  # bwrap has bound what it needed: the worker keeps its own mounts

    def _spawn(
        self,
        bwrap: str,
        uid: int,
        gid: int,
        description: view.DescriptionView | None,
        theirs: socket.socket,
        errors: int,
        stage: str,
    ) -> subprocess.Popen:
        """bwrap with the view's arguments, the supervisor inside; the worker's process joins its
        cgroups, stages the view's sources and drops to the sandbox's uid before bwrap runs."""
        args = view.Arguments(stage)
        try:
            memory_fd, pids_fd = self.cgroups.descriptors()
            args.fds += [memory_fd, pids_fd]
            view.system(args, uid, gid)
            view.own_code(args)
            view.rocks_commands(args)
            if description is not None:
                view.description(args, description)
            command = [
                bwrap,
                "--unshare-user",
                "--unshare-pid",
                "--unshare-ipc",
                "--unshare-net",
                "--unshare-uts",
                "--unshare-cgroup",
                "--die-with-parent",
                "--new-session",
                "--hostname",
                "localhost",
                "--cap-add",
                "CAP_SYS_ADMIN",
                "--cap-add",
                "CAP_SETPCAP",
                *args.argv,
                "--remount-ro",
                "/",
                "--chdir",
                "/",
                "--",
                view.interpreter(),
                "-S",
                "-E",
                "-B",
                SUPERVISOR,
                str(theirs.fileno()),
                str(memory_fd),
                str(pids_fd),
                PYLIB,
            ]
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                pass_fds=[theirs.fileno(), *args.fds],
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **view.interpreter_env()},
                preexec_fn=partial(_become_sandbox_user, uid, gid, self.cgroups, args),
            )
        finally:
            args.close()

    def run(self, request: bytes, wall_s: float, memory_bytes: int, pids: int, answer_limit: int) -> tuple[dict, bytes]:
        """Send one task; returns the worker's "done" message and the task's raw answer."""
        self.next_id += 1
        task_id = self.next_id
        request_fd = os.memfd_create("rockscc-request", os.MFD_CLOEXEC)
        answer_fd = os.memfd_create("rockscc-answer", os.MFD_CLOEXEC)
        try:
            _write_all(request_fd, request)
            control = {"id": task_id, "wall_s": wall_s, "memory_bytes": memory_bytes, "pids": pids}
            try:
                socket.send_fds(self.channel, [json.dumps(control).encode()], [request_fd, answer_fd])
            except OSError as exc:
                raise WorkerFailed(f"the sandbox worker is gone ({exc.strerror})") from None
            os.close(request_fd)
            request_fd = -1
            done = self._receive(wall_s + 30)
            if not _valid_done(done, task_id):
                raise WorkerFailed("the sandbox worker answered out of protocol")
            return done, _read_answer(answer_fd, answer_limit)
        finally:
            if request_fd >= 0:
                os.close(request_fd)
            os.close(answer_fd)

    def _receive(self, timeout: float):
        waiting = select.poll()  # not select.select: a descriptor above 1023 (a long-lived process) fails there
        waiting.register(self.channel, select.POLLIN)
        if not waiting.poll(timeout * 1000):
            raise WorkerFailed("the sandbox worker did not answer")
        try:
            message = self.channel.recv(65536)
        except OSError as exc:
            raise WorkerFailed(f"the sandbox worker is gone ({exc.strerror})") from None
        if not message:
            raise WorkerFailed("the sandbox worker exited")
        try:
            return json.loads(message)
        except ValueError:
            raise WorkerFailed("the sandbox worker answered out of protocol") from None

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        """The supervisor ends when its channel closes (and bwrap with it); one that does not
        within a second is killed. Then its cgroups go."""
        with contextlib.suppress(OSError):
            self.channel.close()
        proc = getattr(self, "proc", None)  # a worker that failed to start has none
        if proc is not None:
            try:
                proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(Exception):
                    proc.kill()
                    proc.wait(timeout=5)
        self.cgroups.remove()


def _become_sandbox_user(uid: int, gid: int, groups: cgroups.WorkerCgroups, args: view.Arguments) -> None:
    """In the worker's process before bwrap: into its cgroups and its staged sources bound (as the
    build's user), then the sandbox's uid with no supplementary groups and no capabilities left
    on the host."""
    groups.join()
    view.stage_sources(args)
    if os.geteuid() == 0:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)


def _valid_done(done, task_id: int) -> bool:
    if not isinstance(done, dict) or done.get("id") != task_id or not isinstance(done.get("timeout"), bool):
        return False
    counters_ok = all(
        isinstance(done.get(k), int) and not isinstance(done.get(k), bool) for k in ("oom_kills", "pid_limit_hits")
    )
    step = done.get("step")
    return counters_ok and (step is None or (isinstance(step, int) and not isinstance(step, bool)))


def _write_all(fd: int, data: bytes) -> None:
    view_ = memoryview(data)
    while view_:
        view_ = view_[os.write(fd, view_) :]
    os.lseek(fd, 0, os.SEEK_SET)


def _read_answer(fd: int, limit: int) -> bytes:
    size = os.fstat(fd).st_size
    if size > limit:
        raise WorkerFailed(f"the task's answer ({size} bytes) is larger than the {limit} bytes a task may return")
    os.lseek(fd, 0, os.SEEK_SET)
    chunks, total = [], 0
    while total < size:
        data = os.read(fd, min(1 << 20, size - total))
        if not data:
            break
        chunks.append(data)
        total += len(data)
    return b"".join(chunks)


def _last_line(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 65536).decode(errors="replace").strip()
    return text.splitlines()[-1] if text else ""


# --- one worker per process ----------------------------------------------------------------------
_workers: dict[int, Worker] = {}


def worker(description: view.DescriptionView | None) -> Worker:
    """This process's worker (a forked build worker gets its own, never its parent's), with the
    given description view (any worker serves tasks that need none)."""
    current = _workers.get(os.getpid())
    if current is not None and current.alive and (description is None or current.view_key == description.key):
        return current
    if current is not None:
        forget(current)
    current = _workers[os.getpid()] = Worker(description)
    return current


def forget(broken: Worker) -> None:
    broken.close()
    if _workers.get(os.getpid()) is broken:
        del _workers[os.getpid()]


@atexit.register
def _close_all() -> None:
    mine = _workers.pop(os.getpid(), None)
    if mine is not None:
        mine.close()
