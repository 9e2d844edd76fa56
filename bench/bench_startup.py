"""Benchmark start-up, the floor under every command: `--version`, `set host attr`, `list host
ONE` and `build help` (the build command's imports, no build) on one N-host description, for
this checkout and optionally another one (`--base=DIR`, e.g. `git worktree add --detach /tmp/base
main`), the checkouts run alternately in one loop so that a shared machine's load falls on both
alike. Run by hand; prints figures, asserts nothing.

    .venv/bin/python bench/bench_startup.py --runs=9 --base=/tmp/base 10000

Each run is a fresh `python -m rockscc` in the checkout's directory (so that checkout's code is
imported), median wall and CPU of --runs runs. The description is made once with this checkout's
`load` (bench_edits.py's script); `-X importtime` and cProfile of one command show the phases.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_edits import script

HERE = Path(__file__).resolve().parent.parent


def run(tree: Path, *argv: str) -> tuple[float, float]:
    """(wall, CPU) seconds of `rockscc argv…` run from the checkout `tree`."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rockscc", *argv], cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"rockscc {' '.join(argv)} in {tree} failed: {proc.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_utime + usage.ru_stime


def main() -> None:
    runs, trees, count = 7, {"this": HERE}, 10000
    for arg in sys.argv[1:]:
        if arg.startswith("--runs="):
            runs = int(arg.split("=", 1)[1])
        elif arg.startswith("--base="):
            trees = {"base": Path(arg.split("=", 1)[1]).resolve(), "this": HERE}
        else:
            count = int(arg)
    root = Path(tempfile.mkdtemp(prefix="bench-startup-")) / "cluster"
    try:
        subprocess.run(
            [sys.executable, "-m", "rockscc", "init", str(root), "password=bench"],
            cwd=HERE,
            check=True,
            capture_output=True,
        )
        (root.parent / "hosts.sh").write_text(script(count))
        run(HERE, "-C", str(root), "load", str(root.parent / "hosts.sh"))
        one = f"compute-{(count // 2) // 1000}-{(count // 2) % 1000}"
        cases = {
            "--version": lambda i: ["--version"],
            "set host attr": lambda i: ["-C", str(root), "set", "host", "attr", one, "bench", str(i)],
            "list host ONE": lambda i: ["-C", str(root), "list", "host", one],
            # the build command's start-up and imports (the pipeline's) without a build
            "build help": lambda i: ["-C", str(root), "build", "help"],
        }
        for tree in trees.values():  # compile each checkout's .pyc files first
            for argv in cases.values():
                run(tree, *argv(0))
        samples: dict[tuple[str, str], list[tuple[float, float]]] = {(t, c): [] for t in trees for c in cases}
        loads = [os.getloadavg()[0]]
        for i in range(runs):
            for case, argv in cases.items():
                for label, tree in trees.items():
                    samples[label, case].append(run(tree, *argv(i)))
            loads.append(os.getloadavg()[0])
        print(f"{count} hosts, {runs} runs, {os.cpu_count()} CPUs, load average {min(loads):.1f}-{max(loads):.1f}")
        for case in cases:
            for label, tree in trees.items():
                wall = statistics.median(s[0] for s in samples[label, case])
                cpu = statistics.median(s[1] for s in samples[label, case])
                print(f"  {case:<16} {label} ({tree})  wall {wall:.3f} s  CPU {cpu:.3f} s")
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
