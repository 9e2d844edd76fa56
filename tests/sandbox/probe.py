"""A hostile program: every probe tries one way out of the sandbox and reports BREACH if it got
anywhere. Run as a %pre, an <eval> and through `test partition`; the suite asserts its verdict.

The probes are Python source (the program runs in the sandbox, not here); `program()` fills in
what the host side knows: its description's path and its listeners."""

from __future__ import annotations

PROBES = r'''
import ctypes, errno, os, socket, stat, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
breached, checked = [], []


def probe(name):
    def run(fn):
        checked.append(name)
        try:
            detail = fn()
        except Exception as exc:
            detail = "probe failed to run: %r" % (exc,)
        if detail:
            breached.append(name)
            print("PROBE %s BREACH %s" % (name, detail))
        return fn
    return run


def refused(fn, *errnos):
    """'' when fn raised an OSError with one of errnos, else what happened."""
    try:
        result = fn()
    except OSError as exc:
        return "" if exc.errno in errnos else "unexpected errno %s" % exc.errno
    return "succeeded: %r" % (result,)[:80]


def syscall_refused(result):
    return "" if result == -1 else "syscall returned %r" % result


@probe("read-host-secrets")
def _():
    out = []
    for path in ("/etc/shadow", "/etc/gshadow", "/root/.bashrc", "/root/.ssh", "/home", "/var/lib",
                 "/run", "/var/run/libvirt/libvirt-sock", "/sys/class/net", CLUSTER + "/cluster.toml",
                 CLUSTER + "/.rockscc-cache/cache.key", CLUSTER + "/build"):
        if os.path.exists(path):
            out.append(path)
    for path in ("/opt/rockscc/description/cluster.toml",):
        if os.path.exists(path) and "$6$" in open(path).read():
            out.append(path + " (holds the password hash)")
    if os.environ.get("Kickstart_PrivateRootPassword"):
        out.append("the password hash is in the environment")
    return ", ".join(out)


@probe("write-outside-tmp")
def _():
    out = []
    for path in ("/x", "/etc/x", "/usr/x", "/opt/x", "/dev/x", "/opt/rockscc/description/nodes/x",
                 "/opt/rocks/bin/x", "/proc/x"):
        try:
            open(path, "w").close()
            out.append(path)
        except OSError:
            pass
    return ", ".join(out)


@probe("remount-or-mount")
def _():
    MS_REMOUNT, MS_BIND = 32, 4096
    out = [syscall_refused(libc.mount(None, b"/", None, MS_REMOUNT | MS_BIND, None)),
           syscall_refused(libc.mount(b"tmpfs", b"/opt", b"tmpfs", 0, None)),
           syscall_refused(libc.umount2(b"/tmp", 2))]
    mount = subprocess.run(["/usr/bin/mount", "-t", "tmpfs", "none", "/opt"], capture_output=True)
    if mount.returncode == 0:
        out.append("the setuid mount program worked")
    return "; ".join(o for o in out if o)


@probe("new-namespaces")
def _():
    CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET = 0x10000000, 0x20000, 0x40000000
    out = [syscall_refused(libc.unshare(flag)) for flag in (CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET)]
    out.append(syscall_refused(libc.syscall(435, 0, 0)))  # clone3
    unshare = subprocess.run(["/usr/bin/unshare", "-r", "true"], capture_output=True)
    if unshare.returncode == 0:
        out.append("unshare -r worked")
    return "; ".join(o for o in out if o)


@probe("capabilities")
def _():
    status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    out = ["%s=%s" % (k, status[k].strip()) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
           if int(status[k], 16)]
    if status["NoNewPrivs"].strip() != "1":
        out.append("no_new_privs is off")
    if status["Seccomp"].strip() != "2":
        out.append("no seccomp filter")
    if os.getuid() == 0 or os.geteuid() == 0:
        out.append("runs as uid 0")
    return ", ".join(out)


@probe("ptrace-the-supervisor")
def _():
    PTRACE_ATTACH, PTRACE_SEIZE = 16, 0x4206
    out = [syscall_refused(libc.ptrace(PTRACE_ATTACH, 1, None, None)),
           syscall_refused(libc.ptrace(PTRACE_SEIZE, 1, None, None))]
    for path in ("/proc/1/fd", "/proc/1/mem", "/proc/1/environ", "/proc/1/root/"):
        try:
            os.listdir(path) if path.endswith(("fd", "/")) else open(path, "rb").read(1)
            out.append(path + " readable")
        except OSError:
            pass
    return "; ".join(o for o in out if o)


@probe("forge-the-reply-channel")
def _():
    open_fds = []
    for fd in range(3, 1024):
        try:
            os.fstat(fd)
            open_fds.append(fd)
        except OSError:
            pass
    out = ["descriptor %d is open (%s)" % (fd, os.readlink("/proc/self/fd/%d" % fd)) for fd in open_fds]
    for fd in range(0, 16):
        try:
            with open("/proc/1/fd/%d" % fd, "w") as fh:
                fh.write('{"snapshots": [], "error": null}\n')
            out.append("wrote to pid 1's descriptor %d" % fd)
        except OSError:
            pass
    return "; ".join(out)


@probe("other-processes")
def _():
    mine = {os.getpid(), os.getppid(), 1}
    others = []
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        if pid in mine:
            continue
        try:
            others.append(open("/proc/%d/cmdline" % pid, "rb").read().replace(b"\0", b" ").decode()[:60])
        except OSError:
            pass
    return ", ".join(o for o in others if o and "ps" not in o)


@probe("host-sockets")
def _():
    out = []
    for family, address in ((socket.AF_UNIX, UNIX_PATH), (socket.AF_UNIX, "\0" + ABSTRACT),
                            (socket.AF_INET, ("127.0.0.1", TCP_PORT)), (socket.AF_INET, ("10.0.2.2", 22)),
                            (socket.AF_UNIX, "/run/dbus/system_bus_socket")):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(address)
            out.append("connected to %r" % (address,))
        except OSError:
            pass
        finally:
            s.close()
    interfaces = [line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:]]
    if interfaces != ["lo"]:
        out.append("network interfaces %s" % interfaces)
    return "; ".join(out)


@probe("keyrings")
def _():
    KEY_SPEC_USER_KEYRING, KEY_SPEC_SESSION_KEYRING, KEYCTL_GET_KEYRING_ID = -4, -3, 0
    out = [syscall_refused(libc.syscall(248, b"user", b"rockscc-probe", b"x", 1, KEY_SPEC_USER_KEYRING)),
           syscall_refused(libc.syscall(250, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)),
           syscall_refused(libc.syscall(249, b"user", b"rockscc-probe", None, 0))]
    return "; ".join(o for o in out if o)


@probe("devices")
def _():
    return ", ".join(d for d in os.listdir("/dev") if d.startswith(("sd", "vd", "nvme", "hd", "mem", "kmsg", "loop")))


@probe("tmp-and-shm-are-bounded")
def _():
    out = []
    for directory in ("/tmp", "/dev/shm"):
        try:
            with open(directory + "/fill", "wb") as fh:
                for _ in range(128):
                    fh.write(b"x" * (1 << 20))
            out.append("wrote 128 MiB to " + directory)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EFBIG):
                out.append("%s: errno %d" % (directory, exc.errno))
        finally:
            try:
                os.unlink(directory + "/fill")
            except OSError:
                pass
    return "; ".join(out)


@probe("what-earlier-tasks-left")
def _():
    out = [p for p in ("/tmp/rockscc-probe-marker", "/dev/shm/rockscc-probe-marker") if os.path.exists(p)]
    shmget = libc.shmget(0x5EED, 0, 0)
    if shmget != -1:
        out.append("SysV segment 0x5eed exists")
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect("\0rockscc-probe-marker")
        out.append("an earlier task's abstract socket answers")
    except OSError:
        pass
    s.close()
    # leave all of that for the next task to find
    open("/tmp/rockscc-probe-marker", "w").write("x")
    open("/dev/shm/rockscc-probe-marker", "w").write("x")
    libc.shmget(0x5EED, 4096, 0o1666)
    if os.fork() == 0:
        os.setsid()
        server = socket.socket(socket.AF_UNIX)
        try:
            server.bind("\0rockscc-probe-marker")
            server.listen(1)
            server.accept()
        finally:
            os._exit(0)
    return ", ".join(out)


print("VERDICT breached=%s probes=%d" % (",".join(breached) or "none", len(checked)))
sys.stdout.flush()
'''


def program(cluster_dir, sockets, *, exit_status: int = 0) -> str:
    head = (
        f"CLUSTER = {str(cluster_dir)!r}\nUNIX_PATH = {sockets.unix_path!r}\nABSTRACT = {sockets.abstract!r}\n"
        f"TCP_PORT = {sockets.tcp_port}\n"
    )
    tail = f"sys.exit({exit_status})\n" if exit_status else ""
    return head + PROBES + tail


PROBE_COUNT = PROBES.count('@probe("')
