"""Benchmark `rockscc build` on a cluster made the default way. Run by hand; prints figures,
asserts nothing.

    .venv/bin/python bench/bench_default_config.py 1000 10000
    .venv/bin/python bench/bench_default_config.py --repeat=5 --corpus 10000

The cluster (bench/gen_default.py): `rockscc init` (the built-in nodes and graph, the xen roll,
evals on), then N hosts `add host compute-R-K` + `set host interface ... mac=` through
`rockscc load`. Every host's kickstart head differs (the built-in networking node writes the
host name into its `network` line), the case bench_build.py's corpus configuration does not
show. For each size: full build (from clean), no-op rebuild, one host changed (a per-host
attribute that lands in a %post body, then one that lands in the kickstart head: a new value
each run), each the median of
--repeat runs (default 3) with the CPU seconds of rockscc and its children, and where the time
goes: the phases of one profiled run of each (cProfile, jobs=1, at --phase-hosts hosts,
default min(N, 1000): profiling a 10 000-host build costs minutes; per host figures scale).
--corpus also runs bench_build.py's Rocks corpus configuration at the same sizes, beside it.
"""

from __future__ import annotations

import os
import platform
import pstats
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_build import ZONES, _median, bench, rebuilt, rockscc  # noqa: E402
from gen_default import generate  # noqa: E402

# (label, function as pstats names it: file suffix, function name). Cumulative times overlap
# where one phase calls another (validation is part of compile); each line says what it holds.
PHASES = [
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


def phases(root: Path, *argv: str) -> None:
    """Run `rockscc -C root argv…` once under cProfile (jobs=1: one process holds every phase)
    and print the cumulative seconds of each phase."""
    with tempfile.NamedTemporaryFile(suffix=".prof", delete=False) as handle:
        profile = Path(handle.name)
    pid = os.fork()
    if pid == 0:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
        os.execv(sys.executable, [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "rockscc",
                                  "-C", str(root), *argv, "jobs=1"])
    _, status = os.waitpid(pid, 0)
    if status:
        sys.exit(f"profiled rockscc {' '.join(argv)} failed")
    stats = pstats.Stats(str(profile)).stats  # {(file, line, function): (cc, nc, tottime, cumtime, callers)}
    total = max(value[3] for value in stats.values())
    print(f"      {'(process, under cProfile)':38s} {total:7.2f} s")
    for label, suffix, function in PHASES:
        found = [value for (file, _, name), value in stats.items() if file.endswith(suffix) and name == function]
        if found:
            calls, seconds = sum(v[1] for v in found), sum(v[3] for v in found)
            print(f"      {label:38s} {seconds:7.2f} s   {calls:6d} calls")
    profile.unlink()


def bench_default(size: int, repeat: int, phase_hosts: int) -> None:
    base = Path(os.environ.get("BENCH_DIR", HERE / "out"))
    root = base / f"default-{size}"
    generate(root, size)
    hosts = size + 1  # and the frontend
    print(f"\n== default configuration, {size} hosts loaded (+ frontend), rockscc init + load, evals on")
    runs = []
    for _ in range(repeat):
        shutil.rmtree(root / "build", ignore_errors=True)  # from nothing: no artifacts, build log or memo
        runs.append(rockscc(root, "build"))
    print(f"full build          {_median(runs):7.2f} s   {_median(runs) / hosts * 1e6:8.0f} µs/host   peak RSS "
          f"{max(r[1] for r in runs) / 1024:.0f} MiB   cpu {_median(runs, 3):.2f} s   (median of {repeat}, min "
          f"{min(r[0] for r in runs):.2f} s)")
    runs = [rockscc(root, "build") for _ in range(repeat)]
    print(f"no-op rebuild       {_median(runs):7.2f} s   rebuilt {rebuilt(runs[-1][2])}   cpu {_median(runs, 3):.2f} s   "
          f"(median of {repeat}, min {min(r[0] for r in runs):.2f} s)")
    # one host changed: an attribute that lands in a %post body (its kickstart skeleton and
    # network line are known: no pykickstart), then one that lands in the head (validated afresh)
    for label, attr, values in (("one host, %post attr", "Kickstart_PrivateNTPHost", NTP_HOSTS),
                                ("one host, head attr", "Kickstart_Timezone", ZONES)):
        runs = []
        for value in (values * repeat)[:repeat]:  # a new value each run
            rockscc(root, "set", "host", "attr", "compute-0-0", attr, value)
            runs.append(rockscc(root, "build"))
        print(f"{label:20s}{_median(runs):7.2f} s   rebuilt {rebuilt(runs[-1][2])} jobs   cpu {_median(runs, 3):.2f} s   "
              f"(median of {repeat}, min {min(r[0] for r in runs):.2f} s; {attr})")
    small = root if phase_hosts >= size else base / f"default-{phase_hosts}"
    if small != root:
        generate(small, phase_hosts)
    print(f"phases at {phase_hosts} hosts (one profiled run each):")
    print("   full build")
    shutil.rmtree(small / "build", ignore_errors=True)
    phases(small, "build")
    print("   no-op rebuild")
    phases(small, "build")
    for label, attr, value in (("one host, %post attr", "Kickstart_PrivateNTPHost", "10.1.1.99"),
                               ("one host, head attr", "Kickstart_Timezone", "Pacific/Fiji")):
        print(f"   {label}")
        rockscc(small, "set", "host", "attr", "compute-0-0", attr, value)
        phases(small, "build")


NTP_HOSTS = ["10.1.1.11", "10.1.1.12", "10.1.1.13", "10.1.1.14", "10.1.1.15"]


def _option(name: str, default: str) -> str:
    return next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith(f"--{name}=")), default)


if __name__ == "__main__":
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    repeat = int(_option("repeat", "3"))
    sizes = [int(a) for a in sys.argv[1:] if not a.startswith("--")] or [1000]
    for size in sizes:
        bench_default(size, repeat, int(_option("phase-hosts", str(min(size, 1000)))))
        if "--corpus" in sys.argv:
            print(f"\n== Rocks corpus configuration (bench_build.py, --eval=no), {size} physical hosts")
            bench(size, "seed")
    print(f"\nload average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
