"""Benchmark the sandbox per task. Run by hand; prints figures, asserts nothing.

    .venv/bin/python bench/bench_sandbox.py            # this tree
    PYTHONPATH=../other bench/bench_sandbox.py          # another checkout (rockscc 0.1's partition pool too)

Tasks as `%pre` chains run them (one task, /tmp collected after each step): a Python step
(`print(1)`, in the warm interpreter), a shell step (`echo 1`), and a five-step shell chain; plus
the start of the worker (the first task of a process). Each figure is the median of 7 rounds of
40 tasks, in milliseconds per task: wall clock, and CPU time of this process and of the worker's
whole process tree (bwrap, the supervisor and every task it ran), the figure that holds on a
busy machine.
"""

from __future__ import annotations

import os
import statistics
import time

ROUNDS, TASKS = 7, 40


def runner():
    """(label, run(kind, steps)) for the rockscc importable here: this sandbox, or the partition
    pool of rockscc before it."""
    try:
        from rockscc.sandbox import STEP_FILE, Step, run

        def task(kind: str, steps: int) -> None:
            body = b"print(1)\n" if kind == "python" else b"echo 1\n"
            argv = () if kind == "python" else ("/bin/sh", STEP_FILE)
            result = run([Step(argv=argv, body=body, merge_output=True)] * steps, collect=True)
            assert result.ok and all(s.status == 0 for s in result.steps), result

        return "rockscc.sandbox", task
    except ImportError:
        from rockscc import sandbox
        from rockscc.partitions import pool, programs

        worker = pool.pool(programs.LIMITS.nproc)
        env = {**sandbox.BASE_ENV, **programs.PROGRAM_ENV}

        def task(kind: str, steps: int) -> None:
            files = {f"/tmp/.rockscc/pre-{i}": b"print(1)\n" if kind == "python" else b"echo 1\n" for i in range(steps)}
            kinds = [(kind if kind == "python" else "/bin/sh", f"/tmp/.rockscc/pre-{i}") for i in range(steps)]
            reply = worker.run(kinds, files, env, programs.LIMITS)
            assert not reply.get("error"), reply

        return "rockscc.partitions.pool", task


def cpu() -> float:
    """CPU seconds of this process and of every process below it (the worker runs as another
    uid, under bwrap: its tree is found through /proc), reaped descendants included."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [os.getpid()]
    while pending:
        pid = pending.pop()
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += sum(int(fields[i]) for i in (11, 12, 13, 14)) / ticks  # utime stime cutime cstime
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    pending += [int(c) for c in fh.read().split()]
        except OSError:
            continue
    return total


def median_ms(task, kind: str, steps: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(ROUNDS):
        wall, used = time.perf_counter(), cpu()
        for _ in range(TASKS):
            task(kind, steps)
        walls.append((time.perf_counter() - wall) / TASKS * 1000)
        cpus.append((cpu() - used) / TASKS * 1000)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    started = time.perf_counter()
    label, task = runner()
    task("python", 1)
    print(f"{label}: worker start and first task {(time.perf_counter() - started) * 1000:.0f} ms")
    print(f"{'task':<28}{'wall ms':>10}{'cpu ms':>10}")
    for kind, steps in (("python", 1), ("shell", 1), ("shell", 5)):
        wall, used = median_ms(task, kind, steps)
        print(f"{f'{steps} {kind} step(s)':<28}{wall:>10.1f}{used:>10.1f}")


if __name__ == "__main__":
    main()
