"""The sandbox's supervisor: the one process that runs build-time user code (runs *inside*
bubblewrap, see pool.py for the other side). Standard library only.

It is started once per build process as an unprivileged host uid, in a user namespace of its
own where it holds CAP_SYS_ADMIN (to make namespaces and mounts) and CAP_SETPCAP (to empty the
bounding set); it sees a read-only minimal system (view.py). Per task it:

1. makes a memory and a pids cgroup for the task (children of the build's delegated cgroups,
   reached through directory descriptors: no cgroup file system is mounted in the sandbox);
2. forks a session process that joins them, unshares mount, pid, IPC and UTS namespaces and forks
   the task's pid 1, which mounts a fresh /proc (only the task's processes), a size-capped private
   tmpfs on /tmp and on /dev/shm, writes the task's input files and makes itself non-dumpable
   (no process of the task can read its memory or descriptors, or ptrace it);
3. drops, in that pid 1, every capability (effective, permitted, inheritable, ambient and
   bounding), sets no_new_privs and installs the seccomp filter (seccomp.py): what it forks
   inherits all of that; then runs the steps one after another, each in a process that closes
   every inherited descriptor and sets its rlimits before any user code; whatever a step leaves
   running is killed when it ends;
4. writes the task's answer into the memfd the parent passed with the request: no process of the
   task holds it, so the answer cannot be forged; the parent reads and checks it.

The supervisor's own memory never holds a task's request or answer (they travel in memfds from
and to the parent), so a forked task cannot find another task's data in it.
"""

import base64
import ctypes
import fcntl
import gc
import json
import os
import resource
import select
import signal
import socket
import stat
import sys
import time

import seccomp

CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWIPC, CLONE_NEWUTS = 0x00020000, 0x20000000, 0x08000000, 0x04000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000
MS_BIND = 0x1000
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
SYS_CAPSET = 126  # x86_64
LAST_CAP = 63
STEP_PATH = "/tmp/.rockscc/pre"
MAX_FILES = 4096
libc = ctypes.CDLL(None, use_errno=True)


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


# --- the supervisor's loop ----------------------------------------------------------------------
def main():
    control, memory_cg, pids_cg = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    sys.path.insert(0, sys.argv[4])  # rocks_partition: imported once, warm in every Python step
    import rocks_partition  # noqa: F401

    channel = socket.socket(fileno=control)
    for name in ("prctl", "syscall", "unshare", "mount"):  # look the C functions up once, not per fork
        getattr(libc, name)
    missing = self_test(memory_cg, pids_cg)
    channel.send(json.dumps({"ready": not missing, "missing": missing}).encode())
    if missing:
        return
    gc.freeze()  # forked tasks do not copy the supervisor's objects to collect them
    while True:
        try:
            message, fds, _flags, _addr = socket.recv_fds(channel, 65536, 2)
        except OSError:
            return
        if not message:
            return  # the parent closed the channel
        request = json.loads(message)
        done = run_task(request, fds[0], fds[1], memory_cg, pids_cg)
        channel.send(json.dumps(done).encode())


def self_test(memory_cg, pids_cg):
    """What this machine lacks for a full sandbox, or "": a task that makes every namespace,
    mount and cgroup a real task makes, drops every privilege and installs the filter."""
    try:
        make_cgroups("selftest", memory_cg, pids_cg, 64 << 20, 8)
    except OSError as exc:
        return "cannot create a task cgroup in the delegated memory and pids cgroups: %s" % exc.strerror
    try:
        null = os.open("/dev/null", os.O_RDWR)
        is_device = stat.S_ISCHR(os.fstat(null).st_mode)
        os.close(null)
    except OSError:
        is_device = False
    if not is_device:
        return "the sandbox's /dev/null is not the null device (is the host's /dev/null a regular file?)"
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        why = ""
        try:
            join_cgroups("selftest", memory_cg, pids_cg)
            unshare_task()
            init = os.fork()
            if init == 0:
                try:
                    mount_task_filesystems({"tmp_bytes": 1 << 20, "shm_bytes": 1 << 20})
                    drop_privileges()
                except OSError as exc:
                    os.write(write_fd, ("%s: %s" % (exc.filename or "setup", exc.strerror or exc)).encode())
                os._exit(0)
            os.waitpid(init, 0)
        except OSError as exc:
            why = "%s: %s" % (exc.filename or "unshare", exc.strerror or exc)
        if why:
            os.write(write_fd, why.encode())
        os._exit(0)
    os.close(write_fd)
    answer = read_all(read_fd, 4096)
    os.close(read_fd)
    os.waitpid(pid, 0)
    remove_cgroups("selftest", memory_cg, pids_cg)
    return answer.decode(errors="replace")


# --- one task -----------------------------------------------------------------------------------
def run_task(request, request_fd, answer_fd, memory_cg, pids_cg):
    """Run one task; return what the parent needs besides the answer (which the task wrote)."""
    name = "t%d" % request["id"]
    done = {"id": request["id"], "timeout": False, "step": None, "oom_kills": 0, "pid_limit_hits": 0}
    try:
        make_cgroups(name, memory_cg, pids_cg, request["memory_bytes"], request["pids"])
    except OSError as exc:
        done["error"] = "cannot create the task's cgroups: %s" % exc.strerror
        return done
    progress_r, progress_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(progress_r)
            code = task_session(name, memory_cg, pids_cg, request_fd, answer_fd, progress_w)
        except BaseException as exc:  # the task could not start: its answer says why (never an empty one)
            write_answer(answer_fd, {"steps": [], "error": "the sandbox could not start the task: %s" % describe(exc)})
        finally:
            os._exit(code)
    for fd in (progress_w, request_fd, answer_fd):
        os.close(fd)
    deadline = time.monotonic() + request["wall_s"]
    progress = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            done["timeout"] = True
            break
        if select.select([progress_r], [], [], remaining)[0]:
            data = os.read(progress_r, 4096)
            if not data:
                break
            progress = (progress + data)[-64:]
    os.close(progress_r)
    started = [line for line in progress.split(b"\n") if line.isdigit()]
    done["step"] = int(started[-1]) if started else None
    if done["timeout"]:
        kill_cgroup(name, pids_cg)
    os.waitpid(pid, 0)
    done["oom_kills"] = read_counter(memory_cg, name + "/memory.oom_control", "oom_kill")
    done["pid_limit_hits"] = read_counter(pids_cg, name + "/pids.events", "max")
    remove_cgroups(name, memory_cg, pids_cg)
    return done


def task_session(name, memory_cg, pids_cg, request_fd, answer_fd, progress_w):
    """The task's session process: into the task's cgroups and namespaces, then its pid 1."""
    join_cgroups(name, memory_cg, pids_cg)
    null = os.open("/dev/null", os.O_RDWR)
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 1000) for fd in (request_fd, answer_fd, progress_w, null)]
    for target, fd in enumerate(high[:3], start=3):
        os.dup2(fd, target, inheritable=False)
    for fd in (0, 1, 2):
        os.dup2(high[3], fd)
    os.closerange(6, 65536)  # the parent's channel and the cgroup directories stay out of the task
    unshare_task()
    init = os.fork()
    if init == 0:
        code = 1
        try:
            code = task_init(3, 4, 5)
        except BaseException as exc:  # the task's pid 1 failed: its answer says why (never an empty one)
            write_answer(4, {"steps": [], "error": "the sandbox's task process failed: %s" % describe(exc)})
        finally:
            os._exit(code)
    os.close(3)
    os.close(4)
    os.close(5)
    _, status = os.waitpid(init, 0)
    return 0 if os.waitstatus_to_exitcode(status) == 0 else 1


def unshare_task():
    if libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS) != 0:
        raise OSError(ctypes.get_errno(), "unshare", "unshare")
    mount(None, "/", None, MS_REC | MS_PRIVATE, None)


def task_init(request_fd, answer_fd, progress_fd):
    """pid 1 of the task's namespace: its file systems, its steps, its answer."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    request = json.loads(read_memfd(request_fd))
    os.close(request_fd)
    limits = request["limits"]
    answer = {"steps": [], "error": None}
    try:
        mount_task_filesystems(limits)
        write_files(request["files"])
    except OSError as exc:
        answer["error"] = "cannot prepare the task: %s: %s" % (exc.filename, exc.strerror)
        write_answer(answer_fd, answer)
        return 0
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # no step may read this process's memory or descriptors
    drop_privileges()  # pid 1 needs nothing more: the steps it forks start with nothing
    for index, step in enumerate(request["steps"]):
        os.write(progress_fd, b"%d\n" % index)
        try:
            if step["body"] is not None:  # written only now: no earlier step can change it
                write_body(base64.b64decode(step["body"]))
            result = run_step(step, request["env"], limits)
            end_leftovers()
            if request["collect"]:
                result["files"] = snapshot("/tmp", limits["tmp_bytes"])
        except OSError as exc:
            end_leftovers()
            answer = {
                "steps": [],
                "error": "the sandbox could not run step %d: %s: %s" % (index, exc.filename, exc.strerror),
            }
            break
        answer["steps"].append(result)
    write_answer(answer_fd, answer)
    return 0


def write_body(body):
    """The step's program at STEP_PATH, whatever an earlier step left there (a link, a directory)."""
    directory = os.path.dirname(STEP_PATH)
    for path in (STEP_PATH, directory):
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        if path == directory and stat.S_ISDIR(st.st_mode):
            continue
        if stat.S_ISDIR(st.st_mode):
            import shutil

            shutil.rmtree(path)
        else:
            os.unlink(path)
    os.makedirs(directory, exist_ok=True)
    fd = os.open(STEP_PATH, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(body)


# files of a fresh /proc that are the machine's, not the task's: the build machine's disks (a
# partition program reading them would plan for whatever machine runs the build, not the declared
# hardware). /dev/null is bound over them: empty, like a machine without disks.
MACHINE_DISK_FILES = ("/proc/partitions", "/proc/diskstats")


def mount_task_filesystems(limits):
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    for path in MACHINE_DISK_FILES:
        if os.path.exists(path):
            mount("/dev/null", path, None, MS_BIND, None)
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=%d,mode=1777" % limits["tmp_bytes"])
    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=%d,mode=1777" % limits["shm_bytes"])


def write_files(files):
    for name, data in files.items():
        if not name.startswith("/tmp/") or "/../" in name + "/":
            raise OSError(0, "not a path under /tmp", name)
        os.makedirs(os.path.dirname(name), exist_ok=True)
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.b64decode(data))


def write_answer(fd, answer):
    data = json.dumps(answer).encode()
    while data:
        data = data[os.write(fd, data) :]
    os.close(fd)


# --- one step -----------------------------------------------------------------------------------
def run_step(step, env, limits):
    """Run a step with its output captured (stdout and stderr apart, or merged)."""
    stdin_r, stdin_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe() if not step["merge"] else (None, None)
    pid = os.fork()
    if pid == 0:
        code = 127
        try:
            os.setsid()
            os.dup2(stdin_r, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w if err_w is not None else out_w, 2)
            os.closerange(3, 65536)
            code = step_child(step, env, limits)
        except BaseException as exc:  # a step that cannot start says why, in its own output
            os.write(2, ("rockscc sandbox: cannot start the program: %s\n" % exc).encode())
        finally:
            os._exit(code)
    for fd in (stdin_r, out_w, err_w):
        if fd is not None:
            os.close(fd)
    stdin = base64.b64decode(step["stdin"])
    outputs, stopped, status = capture(pid, stdin_w, stdin, out_r, err_r, limits["output_bytes"])
    return {
        "status": status,
        "out": base64.b64encode(outputs[0]).decode(),
        "err": base64.b64encode(outputs[1]).decode(),
        "stopped": stopped,
    }


def capture(pid, stdin_w, stdin, out_r, err_r, limit):
    """Feed stdin and collect output until the step's process exits, then end what it left
    running; a step writing more than `limit` bytes to one stream is stopped with all it started.
    Returns ((stdout, stderr), why it was stopped or None, exit status)."""
    pidfd = os.pidfd_open(pid)
    readers = {out_r: [], err_r: []} if err_r is not None else {out_r: []}
    sizes = dict.fromkeys(readers, 0)
    writers = [stdin_w] if stdin else []
    if not stdin:
        os.close(stdin_w)
    for fd in list(readers) + writers:
        os.set_blocking(fd, False)
    stopped = None
    while stopped is None:
        ready_r, ready_w, _ = select.select(list(readers) + [pidfd], writers, [])
        if ready_w:
            try:
                stdin = stdin[os.write(stdin_w, stdin[:65536]) :]
            except BlockingIOError:
                pass
            except BrokenPipeError:
                stdin = b""
            if not stdin:
                os.close(stdin_w)
                writers = []
        for fd in ready_r:
            if fd != pidfd:
                data = read_some(fd)
                sizes[fd] += len(data)
                if sizes[fd] > limit:
                    stopped = "output"
                readers[fd].append(data)
        if pidfd in ready_r:
            break
    status = -signal.SIGKILL
    if stopped is None:
        status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    end_leftovers()  # the step and what it left running: its pipes then reach end of file
    if writers:
        os.close(stdin_w)
    for fd in readers:
        if stopped is None:
            os.set_blocking(fd, True)
            readers[fd].append(read_all(fd, max(0, limit - sizes[fd])))
        os.close(fd)
    os.close(pidfd)
    outs = [b"".join(chunks)[:limit] for chunks in readers.values()]
    return (outs[0], outs[1] if len(outs) > 1 else b""), stopped, status


def read_some(fd):
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return b""


def read_all(fd, limit):
    chunks, size = [], 0
    while size < limit:
        data = os.read(fd, min(65536, limit - size))
        if not data:
            break
        chunks.append(data)
        size += len(data)
    return b"".join(chunks)


def step_child(step, env, limits):
    """The step's own process (pid 1 dropped every privilege already), then the user's program."""
    os.chdir("/tmp")
    libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # its own /proc entries are its own (pid 1's stay closed)
    set_limits(limits)
    if step["argv"]:
        argv = step["argv"]
        os.execve(argv[0], argv, env)
    return run_python(step, env)


def run_python(step, env):
    """A Python step in this warm interpreter (no start-up; rocks_partition already imported)."""
    os.environ.clear()
    os.environ.update(env)
    code = 0
    try:
        with open(STEP_PATH) as fh:
            source = fh.read()
        sys.argv = [STEP_PATH]
        exec(
            compile(source, STEP_PATH, "exec"),
            {"__name__": "__main__", "__file__": STEP_PATH, "__builtins__": __builtins__},
        )
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int) and exc.code is not None:
            sys.stderr.write("%s\n" % exc.code)
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


def set_limits(limits):
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_s"], limits["cpu_s"] + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"], limits["memory_bytes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def bounding_set():
    """The capabilities in this process's bounding set (bwrap leaves only those it was given)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("CapBnd:"):
                mask = int(line.split()[1], 16)
                # CAP_SETPCAP (8) last: dropping from the bounding set needs it
                return sorted((c for c in range(LAST_CAP + 1) if mask >> c & 1), key=lambda c: c == 8)
    return list(range(LAST_CAP + 1))


BOUNDING = bounding_set()


def drop_privileges():
    """No capability in any set, no way to gain one (setuid or file capabilities, a new user
    namespace), and the seccomp filter: before any user code."""
    for cap in BOUNDING:
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != 22:  # EINVAL: no such cap
            raise OSError(ctypes.get_errno(), "cannot empty the capability bounding set", "capabilities")
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS) failed", "no_new_privs")
    header, data = CapHeader(0x20080522, 0), (CapData * 2)()
    if libc.syscall(SYS_CAPSET, ctypes.byref(header), ctypes.byref(data)) != 0:
        raise OSError(ctypes.get_errno(), "capset failed", "capabilities")
    seccomp.install(libc)


def end_leftovers():
    """Kill every process of the task but pid 1 (this one): kill(-1) from a namespace's init
    reaches all of them at once, and only them."""
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


def snapshot(root, limit):
    """Every regular file under `root`, read without following links (a link, a FIFO or a
    socket is not a result); at most MAX_FILES files and `limit` bytes in all."""
    files, total = {}, 0
    pending = [root]
    while pending and len(files) < MAX_FILES:
        directory = pending.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
            elif entry.is_file(follow_symlinks=False) and len(files) < MAX_FILES:
                data = read_regular(entry.path, limit - total)
                if data is not None:
                    files[entry.path] = base64.b64encode(data).decode()
                    total += len(data)
    return files


def read_regular(path, limit):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return read_all(fd, max(0, limit))
    finally:
        os.close(fd)


def read_memfd(fd):
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while True:
        data = os.read(fd, 1 << 20)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


# --- cgroups (v1, delegated: the parent made and chowned the two directories) ------------------
def make_cgroups(name, memory_cg, pids_cg, memory_bytes, pids):
    for directory, settings in (
        (memory_cg, [("memory.limit_in_bytes", memory_bytes), ("memory.memsw.limit_in_bytes", memory_bytes)]),
        (pids_cg, [("pids.max", pids)]),
    ):
        try:
            os.mkdir(name, 0o755, dir_fd=directory)
        except FileExistsError:  # left by a task whose processes were still exiting
            pass
        for key, value in settings:
            try:
                write_at(directory, "%s/%s" % (name, key), str(value))
            except FileNotFoundError:
                if key != "memory.memsw.limit_in_bytes":  # only where swap accounting is on
                    raise


def join_cgroups(name, memory_cg, pids_cg):
    for directory in (memory_cg, pids_cg):
        write_at(directory, name + "/cgroup.procs", str(os.getpid()))


def write_at(directory, path, text):
    fd = os.open(path, os.O_WRONLY, dir_fd=directory)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def read_counter(directory, path, key):
    try:
        fd = os.open(path, os.O_RDONLY, dir_fd=directory)
        try:
            text = os.read(fd, 4096).decode()
        finally:
            os.close(fd)
    except OSError:
        return 0
    for line in text.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == key and words[1].isdigit():
            return int(words[1])
    return 0


def kill_cgroup(name, pids_cg):
    """Kill every process of a task (its pid 1 first: that ends its whole namespace)."""
    for _ in range(200):
        try:
            fd = os.open(name + "/cgroup.procs", os.O_RDONLY, dir_fd=pids_cg)
            try:
                pids = [int(p) for p in read_all(fd, 1 << 20).split()]
            finally:
                os.close(fd)
        except OSError:
            return
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.005)


def remove_cgroups(name, memory_cg, pids_cg):
    for directory in (memory_cg, pids_cg):
        for _ in range(400):  # exiting processes leave their cgroup a moment after they are reaped
            try:
                os.rmdir(name, dir_fd=directory)
                break
            except FileNotFoundError:
                break
            except OSError:
                kill_cgroup(name, pids_cg)
                time.sleep(0.005)


def describe(exc):
    if isinstance(exc, OSError):
        return "%s: %s" % (exc.filename or type(exc).__name__, exc.strerror or exc)
    return "%s: %s" % (type(exc).__name__, exc)


def mount(source, target, fstype, flags, data):
    if (
        libc.mount(
            source and source.encode(), target.encode(), fstype and fstype.encode(), flags, data and data.encode()
        )
        != 0
    ):
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), target)


if __name__ == "__main__":
    main()
