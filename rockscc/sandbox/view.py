"""What the sandbox sees: bubblewrap's arguments for the worker's file system.

Read-only, and only: /usr with the /bin, /sbin and /lib* links or directories of the host, a
handful of /etc files programs need to run (the dynamic loader's cache, the alternatives links,
the time zone) plus a synthesized passwd, group, hosts and nsswitch.conf, a fresh /dev without
write access, rockscc's own code under /opt/rockscc/lib (and the virtual environment's packages
under /opt/rockscc/site) for `rocks_partition` and the `rocks` command, and, for `<eval>`s, a
view of the description without secrets under /opt/rockscc/description. No /root, /home, /var,
/run, /srv, /mnt, /sys, no host socket, no /etc/shadow. /proc, /tmp and /dev/shm are mounted per
task by the supervisor.

Sources outside /usr are *staged*: before it drops to the sandbox's uid, the worker's process
(still the build's user) makes a private mount namespace and binds each of them onto a directory
of a fresh tmpfs, from where bubblewrap binds them into the sandbox. The sandbox's uid then needs
no way to them (a Python under /root, a description under a 0700 directory still work), only
read access to the files themselves.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # rockscc/
LIB = "/opt/rockscc/lib"  # rockscc's package (and its nodes/, graphs/, rolls/) inside the sandbox
SITE = "/opt/rockscc/site"  # the virtual environment's site-packages inside the sandbox
DESCRIPTION = "/opt/rockscc/description"
ROCKS_BIN = "/opt/rocks/bin"  # where Rocks' node files call `rocks` and `python` by absolute path
ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "localtime",
    "timezone",
    "mime.types",
    "protocols",
    "services",
)
SYSTEM_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


PYTHON_HOME = "/opt/rockscc/python"  # an interpreter installed outside /usr, inside the sandbox


def _python_home() -> str | None:
    """The build's Python installation when it is not under /usr (pyenv, a build in /opt)."""
    home = os.path.realpath(sys.base_prefix)
    return None if home == "/usr" or home.startswith("/usr/") else home


def interpreter() -> str:
    """The Python the sandbox runs: the build's own, without its virtual environment."""
    executable, home = os.path.realpath(sys.executable), _python_home()
    return executable if home is None else f"{PYTHON_HOME}/{os.path.relpath(executable, home)}"


def interpreter_env() -> dict[str, str]:
    """What that interpreter needs in its environment: its shared library when it moved (its
    run path names where it was built)."""
    return {} if _python_home() is None else {"LD_LIBRARY_PATH": f"{PYTHON_HOME}/lib"}


@dataclass
class Arguments:
    """bwrap arguments, the descriptors they name (closed by `close` once bwrap started) and the
    sources staged under `stage` (see `stage_sources`)."""

    stage: str
    argv: list[str] = field(default_factory=list)
    fds: list[int] = field(default_factory=list)
    staged: list[str] = field(default_factory=list)

    def bind_staged(self, source: str | Path, target: str) -> None:
        self.staged.append(os.path.realpath(source))
        self.argv += ["--ro-bind", f"{self.stage}/{len(self.staged) - 1}", target]

    def data(self, text: str | bytes, target: str, mode: int = 0o444) -> None:
        fd = os.memfd_create("rockscc-view", os.MFD_CLOEXEC)
        os.write(fd, text.encode() if isinstance(text, str) else text)
        os.lseek(fd, 0, os.SEEK_SET)
        self.fds.append(fd)
        self.argv += ["--perms", f"{mode:o}", "--ro-bind-data", str(fd), target]

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds.clear()


def stage_sources(args: Arguments) -> None:
    """In the worker's process, before it drops privileges: a private mount namespace in which
    each staged source is bound under `args.stage` (a tmpfs anyone may traverse)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def mount(source, target, fstype, flags, data=None):
        if (
            libc.mount(
                source and source.encode(), target.encode(), fstype and fstype.encode(), flags, data and data.encode()
            )
            != 0
        ):
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), target)

    if libc.unshare(0x00020000) != 0:  # CLONE_NEWNS
        raise OSError(ctypes.get_errno(), "cannot make a mount namespace", "unshare")
    mount(None, "/", None, 0x4000 | 0x40000)  # MS_REC | MS_PRIVATE: nothing leaks to the host
    mount("tmpfs", args.stage, "tmpfs", 0x2 | 0x4 | 0x8, "mode=0755,size=1m")
    for index, source in enumerate(args.staged):
        target = f"{args.stage}/{index}"
        if os.path.isdir(source):
            os.mkdir(target)
        else:
            open(target, "w").close()
        # MS_BIND alone, not MS_REC: a file system mounted below a source (a /proc, /run, a tmpfs
        # with sockets) does not come along into the sandbox
        mount(source, target, None, 0x1000)


def system(args: Arguments, uid: int, gid: int) -> None:
    args.argv += ["--ro-bind", "/usr", "/usr"]
    for name in SYSTEM_LINKS:
        path = "/" + name
        if os.path.islink(path):
            args.argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args.argv += ["--ro-bind", path, path]
    if _python_home() is not None:
        args.bind_staged(_python_home(), PYTHON_HOME)
    args.argv += ["--dir", "/etc"]
    for name in ETC_FILES:
        if os.path.exists("/etc/" + name):
            args.argv += ["--ro-bind", "/etc/" + name, "/etc/" + name]
    args.data(
        f"root:x:0:0:root:/root:/bin/sh\nrockscc:x:{uid}:{gid}:rockscc sandbox:/tmp:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
        "/etc/passwd",
    )
    args.data(f"root:x:0:\nrockscc:x:{gid}:\nnogroup:x:65534:\n", "/etc/group")
    args.data("127.0.0.1\tlocalhost\n::1\tlocalhost\n", "/etc/hosts")
    args.data("localhost\n", "/etc/hostname")
    args.data("passwd: files\ngroup: files\nshadow: files\nhosts: files\n", "/etc/nsswitch.conf")
    # a fresh /dev (null, zero, random, tty …) nobody can add files to; /dev/shm is per task
    args.argv += ["--dev", "/dev", "--remount-ro", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]


def own_code(args: Arguments) -> None:
    """rockscc's package and the packages of the environment it runs in, for `rocks_partition`
    and the `rocks` command."""
    args.argv += ["--dir", LIB]
    args.bind_staged(PACKAGE, f"{LIB}/rockscc")
    site = site_packages()
    if site is not None:
        args.bind_staged(site, SITE)


def site_packages() -> str | None:
    """The virtual environment's (or user install's) packages, when they are not under /usr."""
    import sysconfig

    path = os.path.realpath(sysconfig.get_paths()["purelib"])
    return path if os.path.isdir(path) and not path.startswith("/usr/") else None


def rocks_commands(args: Arguments) -> None:
    """`rocks` and `python` where Rocks' files call them (/opt/rocks/bin) and on PATH."""
    env = " ".join(f"{k}={v}" for k, v in {"PYTHONPATH": f"{LIB}:{SITE}", **interpreter_env()}.items())
    shim = f'#!/bin/sh\n{env} exec {interpreter()} -m rockscc -C {DESCRIPTION} "$@"\n'
    args.argv += ["--dir", ROCKS_BIN]
    args.data(shim, f"{ROCKS_BIN}/rocks", 0o555)
    args.data(shim, f"{ROCKS_BIN}/rockscc", 0o555)
    args.argv += ["--symlink", interpreter(), f"{ROCKS_BIN}/python"]


def description(args: Arguments, view: DescriptionView) -> None:
    """The description as the `rocks` command inside the sandbox reads it: cluster.toml without
    secrets (a file of its own, so the real one may stay 0600), its node, graph and include trees
    and its rolls, read-only; and rockscc's built-in trees where rockscc looks for them."""
    args.argv += ["--dir", DESCRIPTION]
    args.data(view.toml, f"{DESCRIPTION}/cluster.toml")
    for name, source in view.trees.items():
        args.bind_staged(source, f"{DESCRIPTION}/{name}")
    for name, source in view.builtin.items():
        if not source.startswith(str(PACKAGE) + "/"):  # an installed wheel has them in the package itself
            args.bind_staged(source, f"{LIB}/{name}")


@dataclass(frozen=True)
class DescriptionView:
    """What an `<eval>`'s `rocks` command may read (xmlgraph/evals.py makes it): cluster.toml
    without secrets, the trees it names (name in the view -> directory on the host) and
    rockscc's built-in nodes, graphs and rolls."""

    key: str  # identifies the description as it was when the view was made
    toml: str
    trees: dict[str, str]
    builtin: dict[str, str]
