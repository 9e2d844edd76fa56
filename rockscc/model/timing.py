"""Phases of an edit, timed on request: ROCKSCC_TIMING=1 prints `timing <phase> <seconds>` on
stderr (bench/bench_edits.py shows where the time of a load goes)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def phase(name: str) -> Iterator[None]:
    if not os.environ.get("ROCKSCC_TIMING"):
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        sys.stderr.write(f"timing {name:<12} {time.perf_counter() - start:8.3f} s\n")


def started() -> None:
    """Report the CPU time the process spent before its command (interpreter, imports)."""
    if os.environ.get("ROCKSCC_TIMING"):
        sys.stderr.write(f"timing {'start (CPU)':<12} {time.process_time():8.3f} s\n")


def marks():
    """`mark = marks()`, then `mark("phase")` after each phase: one line each in the code timed,
    printing the time since the previous mark (nothing unless ROCKSCC_TIMING is set)."""
    if not os.environ.get("ROCKSCC_TIMING"):
        return lambda name: None
    last = [time.perf_counter()]

    def mark(name: str) -> None:
        now = time.perf_counter()
        sys.stderr.write(f"timing {name:<12} {now - last[0]:8.3f} s\n")
        last[0] = now

    return mark
