"""The sandbox's cgroups, made by the build process (cgroup v1: a memory and a pids hierarchy).

Per sandbox worker, one directory in each hierarchy, below the build process's own cgroup (so
limits set above it still hold): its limits cover the worker and its current task together. The
directory itself (not its limit files) is handed to the sandbox's uid, so the worker can make
one child per task, with the task's own limits, but cannot raise its own. The worker reaches
them through open directory descriptors; no cgroup file system is mounted inside the sandbox.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import time
from dataclasses import dataclass

from rockscc.sandbox.errors import SandboxUnavailable

ROOT = "/sys/fs/cgroup"
PREFIX = "rockscc-sandbox-"
_counter = itertools.count()


@dataclass
class WorkerCgroups:
    memory: str
    pids: str

    def descriptors(self) -> tuple[int, int]:
        """Directory descriptors for the worker (the caller closes them once it started)."""
        return (
            os.open(self.memory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC),
            os.open(self.pids, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC),
        )

    def join(self) -> None:
        """Move the calling process in (the worker's preexec, before it drops to the sandbox uid)."""
        for directory in (self.memory, self.pids):
            with open(os.path.join(directory, "cgroup.procs"), "w") as fh:
                fh.write(str(os.getpid()))

    def remove(self) -> None:
        for directory in (self.memory, self.pids):
            _remove_tree(directory)


def create(uid: int, gid: int, memory_bytes: int, pids: int) -> WorkerCgroups:
    """A worker's cgroups, or SandboxUnavailable naming what is missing."""
    made = []
    try:
        for controller, limits in (
            ("memory", [("memory.limit_in_bytes", memory_bytes), ("memory.memsw.limit_in_bytes", memory_bytes)]),
            ("pids", [("pids.max", pids)]),
        ):
            base = _own_cgroup(controller)
            _sweep(base)
            path = os.path.join(base, f"{PREFIX}{os.getpid()}-{next(_counter)}")
            os.mkdir(path, 0o755)
            made.append(path)
            for key, value in limits:
                with contextlib.suppress(FileNotFoundError if key.startswith("memory.memsw") else ()):
                    with open(os.path.join(path, key), "w") as fh:
                        fh.write(str(value))
            os.chown(path, uid, gid)  # the directory only: the worker makes children, never raises this
    except OSError as exc:
        for path in made:
            _remove_tree(path)
        raise SandboxUnavailable(
            f"the sandbox needs its own memory and pids cgroups (cgroup v1 under {ROOT}/memory and "
            f"{ROOT}/pids, writable by this user: run as root or delegate them): "
            f"{exc.filename or ''}: {exc.strerror}"
        ) from None
    return WorkerCgroups(*made)


def _own_cgroup(controller: str) -> str:
    """This process's cgroup directory in a v1 hierarchy (e.g. …/memory/process_api/<id>)."""
    mount = os.path.join(ROOT, controller)
    if not os.path.isfile(os.path.join(mount, "cgroup.procs")):
        raise FileNotFoundError(2, f"no cgroup v1 {controller} hierarchy mounted", mount)
    with open("/proc/self/cgroup") as fh:
        for line in fh:
            _id, controllers, path = line.rstrip("\n").split(":", 2)
            if controller in controllers.split(","):
                return os.path.join(mount, path.lstrip("/"))
    return mount


def _sweep(base: str) -> None:
    """Remove cgroups left by rockscc processes that are gone (a forked build worker exits
    without running exit handlers)."""
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        if not name.startswith(PREFIX):
            continue
        try:
            os.kill(int(name[len(PREFIX) :].split("-")[0]), 0)
        except ProcessLookupError:
            _remove_tree(os.path.join(base, name))
        except (ValueError, PermissionError):
            continue


def _remove_tree(path: str) -> None:
    """Kill what is inside a cgroup and its children, then remove them (children first)."""
    for _ in range(100):
        try:
            children = [e.path for e in os.scandir(path) if e.is_dir(follow_symlinks=False)]
        except FileNotFoundError:
            return
        except OSError:
            children = []
        for child in children:
            _remove_tree(child)
        try:
            with open(os.path.join(path, "cgroup.procs")) as fh:
                for pid in fh.read().split():
                    with contextlib.suppress(ProcessLookupError, ValueError):
                        os.kill(int(pid), signal.SIGKILL)
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)
