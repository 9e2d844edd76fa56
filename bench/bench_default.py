"""Benchmark builds of a cluster made the default way: `rockscc init` (the built-in nodes and
graph, the xen roll, evals on), hosts loaded through the command line (`rockscc load` of
bench_edits.py's script: `add host` with its address allocated, `set host interface … mac=`,
`set host pxeboot … action=install`). Every host's kickstart head differs (the built-in
networking node writes the host name into its `network` line), the case bench_build.py's Rocks
corpus configuration does not show. Run by hand; prints figures, asserts nothing.

    .venv/bin/python bench/bench_default.py 1000
    .venv/bin/python bench/bench_default.py --runs=3 --corpus 1000 10000
    .venv/bin/python bench/bench_default.py --runs=1 --profile 300

For each size, medians of --runs runs (default 3), each a fresh process as a user runs it, with
wall and CPU seconds (rockscc and its children: the build workers; the machine is shared, CPU is
the figure that holds) and peak RSS:

- full build (from nothing: no artifacts, build log or memo);
- no-op build;
- one host, %post attribute: `set host attr` of an attribute that lands in a %post body (the
  host's kickstart skeleton and network line are known: no pykickstart), then `build`;
- one host, head attribute: one that lands in the kickstart head (a new skeleton: pykickstart
  validates it), then `build`; a new value each run, the edit and the build timed together.

Each case prints the build's phases of its last run (ROCKSCC_TIMING=1: snapshot of the
description, planning the jobs, the stale check, running the jobs, recording the build).
--profile adds where the time goes inside them: one run of each under cProfile (jobs=1) at
min(N, 1000) hosts (profiling a 10 000-host build costs minutes; per host figures scale).
--corpus also runs bench_build.py's Rocks corpus configuration at the same sizes, beside it.
The clusters are made under a fresh directory in $BENCH_DIR (default: the system's temporary
directory), removed at the end.
"""

from __future__ import annotations

import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_build import bench as bench_corpus  # noqa: E402
from bench_build import rebuilt  # noqa: E402
from bench_edits import script  # noqa: E402

ROCKSCC = [sys.executable, "-m", "rockscc"]
EDITS = [  # (label, attribute, values: a new one each run)
    ("one host, %post attr", "Kickstart_PrivateNTPHost", ["10.1.1.11", "10.1.1.12", "10.1.1.13", "10.1.1.14"]),
    ("one host, head attr", "Kickstart_Timezone", ["Europe/Paris", "Europe/Oslo", "Asia/Tokyo", "Africa/Nairobi"]),
]
HOST = "compute-0-0"  # the first host bench_edits.script makes


def run(root: Path, *argv: str) -> tuple[float, float, int, str, str]:
    """Run `rockscc -C root argv…` with ROCKSCC_TIMING=1; (wall seconds, CPU seconds of it and its
    children, peak RSS in KiB, stdout, stderr)."""
    # as installed rockscc runs: with its compiled bytecode cached (some shells here disable that)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["ROCKSCC_TIMING"] = "1"
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen([*ROCKSCC, "-C", str(root), *argv], stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)  # the child's usage, its waited-for children's included
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode:
        sys.exit(f"rockscc {' '.join(argv)} failed:\n{stderr[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, stdout, stderr


def make_cluster(root: Path, count: int) -> None:
    """`rockscc init`, then `count` hosts through one `rockscc load`; prints the load's figures."""
    if root.exists():
        shutil.rmtree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([*ROCKSCC, "init", str(root), "password=bench"], check=True, capture_output=True)
    hosts = root.parent / f"{root.name}.load"
    hosts.write_text(script(count))
    wall, cpu, _, _, _ = run(root, "load", str(hosts))
    print(f"  load of {count} hosts  {wall:7.2f} s   CPU {cpu:6.2f} s")


def report(label: str, runs: list[tuple[float, float, int, str, str]], extra: str = "") -> None:
    wall, cpu = [r[0] for r in runs], [r[1] for r in runs]
    print(
        f"  {label:22s}{statistics.median(wall):7.2f} s   CPU {statistics.median(cpu):6.2f} s   peak RSS "
        f"{max(r[2] for r in runs) / 1024:4.0f} MiB   rebuilt {rebuilt(runs[-1][3])} jobs   (median of "
        f"{len(runs)}, min {min(wall):.2f} s){extra}"
    )
    for line in runs[-1][4].splitlines():
        if line.startswith("timing"):
            print(f"      {line}")


def bench(root: Path, count: int, runs: int) -> None:
    print(f"\n== default configuration: {count} hosts (+ frontend), rockscc init + load, evals on")
    make_cluster(root, count)
    full, asides = [], []
    for i in range(runs):
        if (root / "build").exists():  # deleted after the runs: see bench_build.set_aside
            asides.append(root / f"build.old{i}")
            (root / "build").rename(asides[-1])
        full.append(run(root, "build"))
    for aside in asides:
        shutil.rmtree(aside)
    report("full build", full, f"   {statistics.median(r[0] for r in full) / (count + 1) * 1e3:.2f} ms a host")
    report("no-op build", [run(root, "build") for _ in range(runs)])
    for label, attr, values in EDITS:
        changed = []
        for i in range(runs):
            edit = run(root, "set", "host", "attr", HOST, attr, values[i % len(values)])
            build = run(root, "build")
            changed.append((edit[0] + build[0], edit[1] + build[1], max(edit[2], build[2]), build[3], build[4]))
        report(label, changed, f"; set host attr {attr} + build")


# (label, function as pstats names it: file suffix, function name). Cumulative times overlap
# where one phase calls another (validation is part of compile); each line says what it holds.
PROFILED = [
    ("whole build (engine)", "rockscc/engine/make.py", "build"),
    ("  which jobs are stale", "rockscc/engine/make.py", "_stale_jobs"),
    ("  host kickstart jobs", "rockscc/pipeline/producers.py", "_profile"),
    ("    graph walk + node expansion", "rockscc/xmlgraph/compiler.py", "compile_host"),
    ("    partition planning", "rockscc/pipeline/session.py", "_partitions"),
    ("    kickstart rendering", "rockscc/backends/kickstart/__init__.py", "render"),
    ("    kickstart validation", "rockscc/backends/kickstart/__init__.py", "validate"),
    ("      pykickstart parses", "pykickstart/parser.py", "readKickstartFromString"),
    ("  boot files (pxelinux, uefi, ipxe)", "rockscc/pipeline/producers.py", "render_boot"),
    ("  writing artifacts", "rockscc/engine/output.py", "write_output"),
    ("  manifest saved", "rockscc/engine/make.py", "_save_manifest"),
    ("memo stored", "rockscc/memo.py", "store"),
]


def profiled(root: Path, *argv: str) -> None:
    """Run `rockscc -C root argv…` once under cProfile (jobs=1: one process holds every phase)
    and print the cumulative seconds of each of PROFILED."""
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "build.prof"
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run(
            [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "rockscc", "-C", str(root), *argv, "jobs=1"],
            check=True,
            capture_output=True,
            env=env,
        )
        stats = pstats.Stats(str(profile)).stats  # {(file, line, function): (cc, nc, tottime, cumtime, callers)}
    print(f"      {'(process, under cProfile)':38s} {max(v[3] for v in stats.values()):7.2f} s")
    for label, suffix, function in PROFILED:
        found = [v for (file, _, name), v in stats.items() if file.endswith(suffix) and name == function]
        if found:
            print(f"      {label:38s} {sum(v[3] for v in found):7.2f} s   {sum(v[1] for v in found):6d} calls")


def profile(root: Path, count: int) -> None:
    print(f"  where the time goes at {count} hosts (one cProfile run each, jobs=1):")
    make_cluster(root, count)
    print("    full build")
    profiled(root, "build")
    print("    no-op build")
    profiled(root, "build")
    for label, attr, values in EDITS:
        print(f"    {label}")
        run(root, "set", "host", "attr", HOST, attr, values[-1])
        profiled(root, "build")


def main() -> None:
    runs = next((int(a.split("=", 1)[1]) for a in sys.argv[1:] if a.startswith("--runs=")), 3)
    sizes = [int(a) for a in sys.argv[1:] if not a.startswith("--")] or [1000]
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    base = Path(tempfile.mkdtemp(prefix="bench-default-", dir=os.environ.get("BENCH_DIR")))
    try:
        for count in sizes:
            bench(base / f"default-{count}", count, runs)
            if "--profile" in sys.argv:
                profile(base / f"profile-{min(count, 1000)}", min(count, 1000))
            if "--corpus" in sys.argv:
                print(f"\n== Rocks corpus configuration (bench_build.py, --eval=no), {count} physical hosts")
                bench_corpus(count, "seed")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"\nload average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
