"""Benchmark editing a large description: `load` of N hosts as a user writes them, then single
edits and listings. Run by hand; prints figures, asserts nothing.

    .venv/bin/python bench/bench_edits.py 10000
    .venv/bin/python bench/bench_edits.py --runs=9 1000 10000

For each size: `rockscc init`, then one `load` of a script with three lines per host (above
60 000 hosts, first a line widening the private network to a /15)
(`add host compute-R-K` with its address allocated, `set host interface … eth0 mac=…`,
`set host pxeboot … action=install`), timed once, with the store's phases (ROCKSCC_TIMING=1:
snapshot, commands, validation, writing, index). Then each single command, median (and min,
max) of --runs runs, each a fresh process as a user runs it:

    set host attr, add host (a new host each run), set host interface, remove host (the host
    added), list host ONE, list host (every host), and the first command after the index is
    deleted (every host file read again).
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROCKSCC = [sys.executable, "-m", "rockscc"]


def run(root: Path, *argv: str, timing: bool = False) -> tuple[float, float, str, int]:
    """(wall seconds, CPU seconds of the process, its stderr, its peak RSS in KiB): the machine
    is shared, CPU time is the figure that holds when others load it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if timing:
        env["ROCKSCC_TIMING"] = "1"
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([*ROCKSCC, "-C", str(root), *argv], stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        err.seek(0)
        stderr = err.read().decode()
    if proc.returncode:
        sys.exit(f"rockscc {' '.join(argv)} failed: {stderr[-2000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, stderr, usage.ru_maxrss


def script(count: int) -> str:
    lines = []
    if count > 60000:  # more hosts than the default private network (10.1.0.0/16) has addresses
        lines.append("rockscc set network private subnet=10.0.0.0 netmask=255.254.0.0")  # a /15 starts at an even octet
    for i in range(count):
        name = f"compute-{i // 1000}-{i % 1000}"
        mac = f"52:54:{(i >> 24) & 255:02x}:{(i >> 16) & 255:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}"
        lines += [
            f"rockscc add host {name}",
            f"rockscc set host interface {name} eth0 mac={mac}",
            f"rockscc set host pxeboot {name} action=install",
        ]
    return "\n".join(lines) + "\n"


def figures(samples: list[tuple[float, float]]) -> str:
    wall, cpu = [s[0] for s in samples], [s[1] for s in samples]
    return (
        f"median {statistics.median(wall):6.3f} s   min {min(wall):6.3f}   max {max(wall):6.3f}"
        f"   CPU median {statistics.median(cpu):6.3f} s   ({len(samples)} runs)"
    )


def bench(count: int, runs: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-edits-")) / "cluster"
    try:
        subprocess.run([*ROCKSCC, "init", str(root), "password=bench"], check=True, capture_output=True)
        path = root.parent / "hosts.sh"
        path.write_text(script(count))
        seconds, cpu, phases, rss = run(root, "load", str(path), timing=True)
        print(
            f"\n{count} hosts: load of {3 * count} lines  {seconds:7.2f} s  CPU {cpu:.2f} s"
            f"  ({seconds / count * 1e3:.2f} ms a host)  peak RSS {rss / 1024:.0f} MiB"
            f"  (load average {os.getloadavg()[0]:.2f})"
        )
        for line in phases.splitlines():
            if line.startswith("timing"):
                print(f"    {line}")
        one = f"compute-{(count // 2) // 1000}-{(count // 2) % 1000}"
        singles = [
            ("set host attr", lambda i: ("set", "host", "attr", one, "bench", str(i))),
            ("add host", lambda i: ("add", "host", f"compute-999-{i}")),
            ("set host interface", lambda i: ("set", "host", "interface", one, "eth0", f"mac=52:54:ff:00:00:{i:02x}")),
            ("remove host", lambda i: ("remove", "host", f"compute-999-{i}")),
            ("list host ONE", lambda i: ("list", "host", one)),
            ("list host", lambda i: ("list", "host")),
        ]
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in singles}
        for i in range(runs):  # interleaved: a burst of load on the machine spreads over all commands
            for name, argv in singles:
                samples[name].append(run(root, *argv(i))[:2])
        for name, _ in singles:
            print(f"  {name:<22} {figures(samples[name])}")
        print(f"  where the time of one edit goes (set host attr, ROCKSCC_TIMING=1, median of {runs}):")
        timed: dict[str, list[float]] = {}
        for i in range(runs):
            for line in run(root, "set", "host", "attr", one, "bench", f"t{i}", timing=True)[2].splitlines():
                if line.startswith("timing"):
                    label, value = line[len("timing ") :].rsplit(None, 2)[0].strip(), float(line.split()[-2])
                    timed.setdefault(label, []).append(value)
        print("    " + "   ".join(f"{label} {statistics.median(v):.3f} s" for label, v in timed.items()))
        print(f"  load average now {os.getloadavg()[0]:.2f}")
        cold = []
        for _ in range(max(1, runs // 3)):
            shutil.rmtree(root / ".rockscc-cache", ignore_errors=True)
            cold.append(run(root, "list", "host", one)[:2])
        print(f"  {'index rebuilt':<22} {figures(cold)}")
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)


def main() -> None:
    runs = 7
    sizes = []
    for arg in sys.argv[1:]:
        if arg.startswith("--runs="):
            runs = int(arg.split("=", 1)[1])
        else:
            sizes.append(int(arg))
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    floor = [run(Path("/"), "--version")[:2] for _ in range(runs)]
    print(f"  {'rockscc --version':<22} {figures(floor)}   (the interpreter's start: the floor of every command)")
    for count in sizes or [1000, 10000]:
        bench(count, runs)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
