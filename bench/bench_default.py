"""Benchmark builds of a cluster made the default way: `rockscc init` (the built-in nodes and
graph, the xen roll, evals on), hosts loaded through the command line (addresses allocated, MACs,
pxeboot) — beside bench_build.py's Rocks 5.0 corpus configuration. Run by hand; prints figures
(wall and CPU: the machine is shared), asserts nothing.

    .venv/bin/python bench/bench_default.py 1000
    .venv/bin/python bench/bench_default.py --runs=3 1000 10000

For each size: the load, a full build with its phases (ROCKSCC_TIMING=1: snapshot of the
description, planning the jobs, the stale check, running the jobs, recording the build) and peak
RSS, a no-op build, and one host changed end to end (`set host attr` + `build`), medians of --runs.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_edits import ROCKSCC, run, script  # noqa: E402

ZONES = ["Europe/Paris", "Europe/Oslo", "Asia/Tokyo", "America/Chicago", "Africa/Nairobi", "Asia/Kolkata"]


def phases(stderr: str) -> list[str]:
    return [f"    {line}" for line in stderr.splitlines() if line.startswith("timing")]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def bench(count: int, runs: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-default-")) / "cluster"
    try:
        subprocess.run([*ROCKSCC, "init", str(root), "password=bench"], check=True, capture_output=True)
        (root.parent / "hosts.sh").write_text(script(count))
        wall, cpu, _err, _rss = run(root, "load", str(root.parent / "hosts.sh"))
        print(f"\n== {count} hosts made the default way (load {wall:.1f} s, CPU {cpu:.1f} s)")
        wall, cpu, err, rss = run(root, "build", timing=True)
        print(f"  full build          {wall:7.2f} s   CPU {cpu:6.2f} s   {wall / count * 1e3:6.2f} ms a host"
              f"   peak RSS {rss / 1024:.0f} MiB")
        print("\n".join(phases(err)))
        noop = [run(root, "build", timing=True) for _ in range(runs)]
        print(f"  no-op build         {median([r[0] for r in noop]):7.2f} s   CPU {median([r[1] for r in noop]):6.2f} s"
              f"   (median of {runs})")
        print("\n".join(phases(noop[-1][2])))
        changed = []
        for i in range(runs):
            edit = run(root, "set", "host", "attr", "compute-0-0", "Kickstart_Timezone", ZONES[i % len(ZONES)])
            build = run(root, "build", timing=True)
            changed.append((edit[0] + build[0], edit[1] + build[1], build[2]))
        print(f"  one host changed    {median([c[0] for c in changed]):7.2f} s   CPU {median([c[1] for c in changed]):6.2f} s"
              f"   (set host attr + build, median of {runs})")
        print("\n".join(phases(changed[-1][2])))
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)


def main() -> None:
    runs = 3
    sizes = []
    for arg in sys.argv[1:]:
        if arg.startswith("--runs="):
            runs = int(arg.split("=", 1)[1])
        else:
            sizes.append(int(arg))
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    for count in sizes or [1000]:
        bench(count, runs)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
