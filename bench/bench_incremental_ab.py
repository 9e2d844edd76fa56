"""A/B of the incremental builds users wait for, two checkouts alternating on one machine:
the no-op build and the one-host builds (an attribute in a %post body, an attribute in the
kickstart head) of an N-host default-configuration cluster. Run by hand; prints figures,
asserts nothing.

    .venv/bin/python bench/bench_incremental_ab.py --runs=5 --base=/tmp/base 10000

`--base=DIR`: another checkout (e.g. `git worktree add --detach /tmp/base 777843e`). This
shared VM's speed moves by up to 2x from hour to hour, so two codes are compared in one sitting,
not against figures of another: each run of a case runs the base, then this checkout (the order
swapped every other run). Each checkout builds its own copy of one description (bench_edits.py's
`load` script, made once with this checkout), so the build log each reads is its own. The edit
(`set host attr`, a new value each run) is not timed; the build is, with ROCKSCC_TIMING=1: its
wall, its CPU with its children (the output-check helper, workers), and the medians of its phases.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_edits import script

HERE = Path(__file__).resolve().parent.parent
CASES = {  # case: the attribute changed before the build (None: nothing, a no-op build)
    "noop": None,
    "onehost-post": "Kickstart_PrivateNTPHost",
    "onehost-head": "Kickstart_Timezone",
}
HOST = "compute-0-0"


def rockscc(tree: Path, root: Path, *argv: str) -> tuple[float, float, str]:
    """(wall, CPU with children, stderr) of `rockscc -C root argv…` run with `tree`'s code."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["ROCKSCC_TIMING"] = "1"
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "rockscc", "-C", str(root), *argv],
            cwd=tree,  # `-m` imports the package of the working directory: this tree's code
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err.seek(0)
        stderr = err.read().decode()
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"rockscc {' '.join(argv)} with {tree} failed:\n{stderr[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, stderr


def value(attr: str, n: int) -> str:
    return f"Zone/ab{n}" if attr == "Kickstart_Timezone" else f"10.1.{n // 250 % 250}.{n % 250 + 1}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("hosts", type=int)
    parser.add_argument("--base", type=Path, required=True, help="the other checkout")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--dir", type=Path, help="where the two copies go (default: a temporary directory)")
    parser.add_argument(
        "--reuse", action="store_true", help="the copies in --dir exist (an earlier run's): only settle them"
    )
    args = parser.parse_args()
    trees = {"base": args.base.resolve(), "new": HERE}
    work = Path(args.dir or tempfile.mkdtemp(prefix="bench-ab-"))
    roots = {name: work / f"cluster-{name}" for name in trees}
    print(f"machine: {os.uname().machine}, {os.cpu_count()} CPUs, load average {os.getloadavg()}")
    print(f"base {trees['base']}, new {trees['new']}, {args.hosts} hosts in {work}")
    if args.reuse and args.dir is None:
        sys.exit("--reuse needs --dir")
    if not args.reuse:
        subprocess.run(
            [sys.executable, "-m", "rockscc", "init", str(roots["new"]), "password=bench"], check=True, cwd=HERE
        )
        (work / "hosts.load").write_text(script(args.hosts))
        rockscc(HERE, roots["new"], "load", str(work / "hosts.load"))
        shutil.copytree(roots["new"], roots["base"], symlinks=True)
    for name, tree in trees.items():
        for _ in range(1 if args.reuse else 2):  # the full build, then one that settles every host's stamp
            rockscc(tree, roots[name], "build")
    n = 0
    for case in args.cases.split(","):
        attr = CASES[case]
        results: dict[str, list] = {name: [] for name in trees}
        for i in range(args.runs):
            for name in ("base", "new") if i % 2 == 0 else ("new", "base"):
                n += 1
                if attr is not None:
                    rockscc(trees[name], roots[name], "set", "host", "attr", HOST, attr, value(attr, n))
                results[name].append(rockscc(trees[name], roots[name], "build"))
        print(f"== {case}: medians of {args.runs}")
        for name, runs in results.items():
            phases: dict[str, list[float]] = {}
            for _, _, stderr in runs:
                for m in re.finditer(r"^timing (.+?)\s+([0-9.]+) s$", stderr, re.M):
                    phases.setdefault(m.group(1).strip(), []).append(float(m.group(2)))
            shown = "  ".join(f"{k} {statistics.median(v):.3f}" for k, v in phases.items())
            wall = [r[0] for r in runs]
            print(
                f"  {name:4s} wall {statistics.median(wall):.3f} s (min {min(wall):.3f})  "
                f"CPU {statistics.median(r[1] for r in runs):.3f} s   {shown}"
            )
    if args.dir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
