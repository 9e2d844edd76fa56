"""A persistent sandboxed worker for `%pre` chains (runs *inside* bubblewrap, see pool.py).

Started once per build process with `python -S`, it reads requests (one JSON line each) and runs
every chain in a fresh task: a new mount and pid namespace, a private tmpfs /tmp, all
capabilities dropped and no_new_privs set before any user code runs, rlimits on each step. When
the task's pid-1 exits, the kernel kills whatever the chain left behind. Python steps run in a
process forked from this warm interpreter (no interpreter start-up); shell steps exec /bin/sh.
Only the standard library is used here.
"""

import base64
import ctypes
import json
import os
import resource
import signal
import sys
import time

CLONE_NEWNS, CLONE_NEWPID = 0x00020000, 0x20000000
MS_REC, MS_PRIVATE = 0x4000, 0x40000
PR_SET_NO_NEW_PRIVS = 38
STEP_PATH = "/tmp/.rockscc/pre"
SYS_CAPSET = 126  # x86_64
libc = ctypes.CDLL(None, use_errno=True)


def main():
    if len(sys.argv) > 1:  # rocks_partition's directory: imported once, warm in every task
        sys.path.insert(0, sys.argv[1])
        import rocks_partition  # noqa: F401
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        request = json.loads(line)
        reply = run_task(request)
        out.write(json.dumps(reply).encode() + b"\n")
        out.flush()


def run_task(request):
    """Fork the task, wait for it within the wall-clock limit, return what it collected."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            task_namespace(request, write_fd)
        finally:
            os._exit(0)
    os.close(write_fd)
    deadline = time.monotonic() + request["limits"]["wall_s"]
    chunks, error = [], None
    os.set_blocking(read_fd, False)
    while True:
        import select

        remaining = deadline - time.monotonic()
        if remaining <= 0:
            error = "killed after %g s of wall-clock time" % request["limits"]["wall_s"]
            kill_group(pid)
            break
        ready, _, _ = select.select([read_fd], [], [], min(remaining, 0.5))
        if ready:
            data = os.read(read_fd, 1 << 20)
            if not data:
                break
            chunks.append(data)
    os.close(read_fd)
    os.waitpid(pid, 0)
    # the task writes "#step N" lines as it starts each step, then its answer (JSON, one line)
    progress, _, answer = b"".join(chunks).rpartition(b"\n")
    started = [int(line[6:]) for line in progress.split(b"\n") if line.startswith(b"#step ")]
    step = started[-1] if started else None
    if error:
        return {"snapshots": [], "error": error, "step": step}
    try:
        return json.loads(answer or b'{"snapshots": [], "error": "the task died without an answer"}')
    except ValueError:
        return {"snapshots": [], "error": "the task's answer was cut short", "step": step}


def kill_group(pid):
    for target in (-pid, pid):
        try:
            os.kill(target, signal.SIGKILL)
        except OSError:
            pass


def task_namespace(request, write_fd):
    """New mount + pid namespace; its pid 1 runs the chain and answers on write_fd."""
    os.setsid()
    if libc.unshare(CLONE_NEWNS | CLONE_NEWPID) != 0:
        os.write(write_fd, json.dumps({"snapshots": [], "error": "unshare failed: errno %d" % ctypes.get_errno()}).encode())
        return
    libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None)
    init = os.fork()
    if init == 0:
        try:
            answer = task_init(request, write_fd)
        except Exception as exc:  # report, never hang the worker
            answer = {"snapshots": [], "error": "%s: %s" % (type(exc).__name__, exc)}
        data = json.dumps(answer).encode()
        while data:
            data = data[os.write(write_fd, data):]
        os._exit(0)
    os.waitpid(init, 0)


def task_init(request, write_fd):
    limits = request["limits"]
    if libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, ("size=%d" % (limits["file_bytes"] * 4)).encode()) != 0:
        return {"snapshots": [], "error": "cannot mount a private /tmp: errno %d" % ctypes.get_errno()}
    for name, data in request["files"].items():
        os.makedirs(os.path.dirname(name), exist_ok=True)
        with open(name, "wb") as fh:
            fh.write(base64.b64decode(data))
    drop_privileges()
    snapshots = []  # every file under /tmp after each step: the step's result, which the next starts from
    for index, (kind, body_path) in enumerate(request["steps"]):
        os.write(write_fd, b"#step %d\n" % index)  # which step was running if the task is stopped
        if body_path != STEP_PATH:  # every step runs as STEP_PATH: its messages name the same file
            os.replace(body_path, STEP_PATH)  # whichever step of a chain it is
        status = run_step(kind, STEP_PATH, index, request, limits, write_fd)
        with open("/tmp/.rockscc/status-%d" % index, "w") as fh:
            fh.write("%d\n" % status)
        snapshots.append(read_files(tmp_files(), limits))
    return {"snapshots": snapshots, "error": None}


def read_files(names, limits):
    files = {}
    for name in names:
        try:
            with open(name, "rb") as fh:
                files[name] = base64.b64encode(fh.read(limits["output_bytes"])).decode()
        except OSError:
            pass
    return files


def tmp_files():
    """Every file under /tmp (at most 4096)."""
    names = []
    for directory, _dirs, entries in os.walk("/tmp"):
        names += [os.path.join(directory, entry) for entry in sorted(entries)]
    return sorted(names)[:4096]


def run_step(kind, body_path, index, request, limits, answer_fd):
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(answer_fd)  # the task's answer is the task's to write, not the program's
            code = step_child(kind, body_path, index, request, limits)
        finally:
            os._exit(code)  # whatever happened, the step never returns into the task's code
    # reap everything; the step's own status is the answer
    status = 0
    while True:
        try:
            reaped, raw = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if reaped == pid:
            status = os.waitstatus_to_exitcode(raw)
            break
    end_leftovers()
    return status if status >= 0 else 128 - status


def end_leftovers():
    """What a step left running (a daemon, the rest of a fork bomb) does not live into the next
    step: this is the namespace's pid 1, so kill(-1) reaches every other process in it and only
    those. Forks cannot slip past a kill(-1), the kernel signals all tasks at once."""
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            break
        try:
            while os.waitpid(-1, 0):
                pass
        except ChildProcessError:
            pass


def step_child(kind, body_path, index, request, limits):
    try:
        os.chdir("/tmp")
        fd = os.open("/tmp/.rockscc/out-%d" % index, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.dup2(os.open("/dev/null", os.O_RDONLY), 0)
        set_limits(limits)
        os.environ.clear()
        os.environ.update(request["env"])
        if kind != "python":
            os.execv(kind, [kind, body_path])
        run_python(body_path)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        code = 1
        try:
            import traceback

            traceback.print_exc()
        except BaseException:
            pass
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        code = code or 120
    return code


def run_python(path):
    sys.argv = [path]
    with open(path) as fh:
        code = compile(fh.read(), path, "exec")
    exec(code, {"__name__": "__main__", "__file__": path})


def set_limits(limits):
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_s"], limits["cpu_s"]))
    resource.setrlimit(resource.RLIMIT_AS, (limits["mem_mb"] << 20, limits["mem_mb"] << 20))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))


class CapHeader(ctypes.Structure):  # capset(2)'s arguments (defined once: ~0.5 ms a task otherwise)
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_privileges():
    """No capabilities and no way to regain any (setuid binaries included) before user code."""
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError("prctl(NO_NEW_PRIVS) failed")
    header, data = CapHeader(0x20080522, 0), (CapData * 2)()
    if libc.syscall(SYS_CAPSET, ctypes.byref(header), ctypes.byref(data)) != 0:
        raise OSError("capset failed: errno %d" % ctypes.get_errno())


if __name__ == "__main__":
    main()
