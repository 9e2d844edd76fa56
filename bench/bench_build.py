"""Benchmark `rockscc build` on synthetic clusters. Run by hand; prints figures, asserts nothing.

    .venv/bin/python bench/bench_build.py 100 1000 10000
    .venv/bin/python bench/bench_build.py --program=reads-hostname 10000

--program: the partition program every host runs (bench/gen_cluster.py): `seed` (default), the
seed deck's as written, embedding the host name it never reads; `shared`, the same without the
name; `reads-hostname`, one that reads the name, so every host's program and result differ.

For each size: full build (seconds, µs per host, peak RSS), no-op rebuild and one host attribute
changed (time and jobs rebuilt; median of 5 runs), one node file changed (time and jobs rebuilt),
and the floor: writing the same bytes to the same number of files with plain Python. Each figure
also shows the CPU seconds of rockscc and its children (the sandbox worker too).
"""

from __future__ import annotations

import fcntl
import os
import platform
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROCKSCC = [sys.executable, "-m", "rockscc"]
sys.path.insert(0, str(HERE))

from gen_cluster import PROGRAMS, generate  # noqa: E402


def rockscc(root: Path, *argv: str) -> tuple[float, int, str, float]:
    """Run rockscc in a child process; returns (seconds, its peak RSS in KiB, stdout, CPU seconds
    of it and its children: the figure that holds when the machine is busy)."""
    out_path, err_path = root / ".bench-out", root / ".bench-err"
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.dup2(os.open(str(out_path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 1)
        os.dup2(os.open(str(err_path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
        # as installed rockscc runs: with its compiled bytecode cached (some shells here disable that)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        os.execve(sys.executable, [*ROCKSCC, "-C", str(root), *argv], env)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    if status:
        sys.exit(f"rockscc {' '.join(argv)} failed:\n{err_path.read_text()[-3000:]}")
    return seconds, usage.ru_maxrss, out_path.read_text(), usage.ru_utime + usage.ru_stime


def rebuilt(output: str) -> int:
    for line in output.splitlines():
        if " jobs: " in line:
            return int(line.split(" jobs: ")[1].split()[0])
    return -1


def artifact_count(root: Path) -> tuple[int, int]:
    from rockscc.engine.manifest import Manifest

    files = sorted(Manifest.load(root / "build").outputs())
    size = sum((root / "build" / p).stat().st_size for p in files)
    return len(files), size


def floor(root: Path, count: int, size: int) -> float:
    """Write the same number of files and bytes, each via temp + rename: the I/O floor."""
    target = root / "floor"
    target.mkdir(exist_ok=True)
    chunk = b"x" * max(1, size // max(count, 1))
    start = time.perf_counter()
    for i in range(count):
        tmp = target / f".f{i}.tmp"
        tmp.write_bytes(chunk)
        os.replace(tmp, target / f"f{i}")
    return time.perf_counter() - start


def set_aside(root: Path) -> Path | None:
    """Move an earlier run's tree out of the way, to delete once the figures are taken. Deleting
    it just before the build would time the file system, not rockscc: on this machine's ext4 (no
    journal) a file created within a minute or so of mass deletions pays for skipping every
    recently freed inode of its block group (`recently_deleted` in the kernel: 1 ms a file after
    20 000 deletions, 50 µs otherwise; docs/performance.md)."""
    if not root.exists():
        return None
    aside = root.with_name(f"{root.name}.old{os.getpid()}")
    root.rename(aside)
    return aside


def spread_trees(parent: Path) -> None:
    """Mark the directory holding the generated trees as a top of directory hierarchies for ext4's
    Orlov allocator (`chattr +T`, its documented use: unrelated trees side by side), so that each
    new tree is placed in a block group of its own rather than in the one where the bench (or
    peer-bench's script, between the sizes it runs) deleted the previous tree. Set aside and
    deleted after the figures (set_aside) was not enough: a file created in a group where many
    inodes were freed pays a scan over them for up to six minutes, while their inode block is dirty
    (`recently_deleted` in the kernel, ext4 without a journal, as on this machine: a 3 000-host build
    1.8 s system time in a fresh group, 4.7 s a minute after deleting the previous tree in the same
    group). Nothing is done where the flag does not exist."""
    get_flags, set_flags, topdir = 0x80086601, 0x40086602, 0x00020000  # linux/fs.h FS_IOC_*, FS_TOPDIR_FL
    parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        flags = bytearray(4)  # the kernel reads and writes an int
        fcntl.ioctl(fd, get_flags, flags, True)
        value = int.from_bytes(flags, sys.byteorder)
        if not value & topdir:
            fcntl.ioctl(fd, set_flags, (value | topdir).to_bytes(4, sys.byteorder))
    except OSError:  # not ext2/3/4, or not allowed: the figures then say what the file system does
        pass
    finally:
        os.close(fd)


def bench(size: int, program: str) -> None:
    parent = Path(os.environ.get("BENCH_DIR", HERE / "out"))
    spread_trees(parent)
    root = parent / f"c{size}-{program}"
    aside = set_aside(root)
    try:
        _bench(root, size, program)
    finally:
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)


def _bench(root: Path, size: int, program: str) -> None:
    generate(root, size, program=program)
    seconds, rss, out, used = rockscc(root, "build", "--eval=no")
    files, nbytes = artifact_count(root)
    total_hosts = len(_hosts(root))
    print(
        f"\n== {size} physical hosts, program {program} ({total_hosts} hosts incl. VMs and frontend), {files} artifacts, {nbytes / 1e6:.1f} MB"
    )
    print(
        f"full build          {seconds:7.2f} s   {seconds / total_hosts * 1e6:8.0f} µs/host   peak RSS {rss / 1024:.0f} MiB"
        f"   cpu {used:.2f} s"
    )
    runs = [rockscc(root, "build", "--eval=no") for _ in range(REPEAT)]
    print(
        f"no-op rebuild       {_median(runs):7.2f} s   rebuilt {rebuilt(runs[-1][2])}   (median of {REPEAT}, min "
        f"{min(r[0] for r in runs):.2f} s)   cpu {_median(runs, 3):.2f} s"
    )
    runs = []
    for zone in ZONES[:REPEAT]:  # a new value each time: a new kickstart, validated afresh
        rockscc(root, "set", "host", "attr", "compute-0-0", "Kickstart_Timezone", zone)
        runs.append(rockscc(root, "build", "--eval=no"))
    print(
        f"one host attribute  {_median(runs):7.2f} s   rebuilt {rebuilt(runs[-1][2])} jobs   (median of {REPEAT}, min "
        f"{min(r[0] for r in runs):.2f} s)   cpu {_median(runs, 3):.2f} s"
    )
    node = root / "nodes" / "nas.xml"
    node.write_text(node.read_text().replace("</kickstart>", "<!-- bench edit -->\n</kickstart>"))
    seconds, _, out, used = rockscc(root, "build", "--eval=no")
    print(
        f"one node file       {seconds:7.2f} s   rebuilt {rebuilt(out)} jobs (nas.xml: NAS hosts only)   cpu {used:.2f} s"
    )
    print(f"floor               {floor(root, files, nbytes):7.2f} s   ({files} files, same bytes, temp+rename)")


REPEAT = 5  # the machine is shared and noisy: small timings are taken several times
ZONES = ["Europe/Paris", "Europe/Oslo", "Asia/Tokyo", "America/Chicago", "Africa/Nairobi"]


def _median(runs: list[tuple], field: int = 0) -> float:
    return sorted(r[field] for r in runs)[len(runs) // 2]


def _hosts(root: Path) -> list[str]:
    return [p.stem for p in (root / "hosts").glob("*.toml")]  # one file per host (model/store.py)


if __name__ == "__main__":
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    chosen = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--program=")), "seed")
    if chosen not in PROGRAMS:
        sys.exit(f"--program must be one of {', '.join(PROGRAMS)}")
    for arg in [a for a in sys.argv[1:] if not a.startswith("--")] or ["100", "1000"]:
        bench(int(arg), chosen)
