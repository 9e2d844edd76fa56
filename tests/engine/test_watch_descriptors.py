"""A long-running `rockscc build --watch` does not keep what each round loaded: a loaded
description is a reference cycle holding its host index's sqlite connection, and before
store.release_descriptions every round left four more descriptors open (a watch ran out of them
after a few hundred rebuilds)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROUNDS = 12


def _descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _wait_for_rounds(log: Path, rounds: int, timeout_s: float = 60) -> None:
    """Until the watcher has finished `rounds` rounds (each ends with a "watching" line)."""
    deadline = time.monotonic() + timeout_s
    while log.read_text().count("watching") < rounds:
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.05)


def test_a_watch_keeps_no_descriptors_from_round_to_round(rockscc, cluster_dir: Path, tmp_path: Path):
    assert rockscc("add host compute-0-0").rc == 0
    log = tmp_path / "watch.log"
    with open(log, "w") as out:
        watcher = subprocess.Popen(
            [sys.executable, "-m", "rockscc", "-C", str(cluster_dir), "build", "--watch"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_rounds(log, 1)
        assert rockscc("set host attr compute-0-0 Kickstart_Timezone Europe/Oslo").rc == 0
        _wait_for_rounds(log, 2)
        before = _descriptors(watcher.pid)
        for round_ in range(ROUNDS):
            assert rockscc(f"set host attr compute-0-0 Kickstart_Timezone Zone/N{round_}").rc == 0
            _wait_for_rounds(log, 3 + round_)
        after = _descriptors(watcher.pid)
        assert log.read_text().count(" rebuilt") >= ROUNDS, log.read_text()[-2000:]
        assert after <= before + 2, (before, after)  # four more a round before the fix: +48
    finally:
        watcher.send_signal(signal.SIGINT)
        try:
            watcher.wait(timeout=20)
        except subprocess.TimeoutExpired:
            watcher.kill()
            watcher.wait()
