"""`rockscc build --watch`: a saved node file is rebuilt and re-validated, with diagnostics at file:line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli


def wait_for(proc_output, text: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = proc_output.read_text() if proc_output.exists() else ""
        if text in current:
            return current
        time.sleep(0.2)
    raise AssertionError(f"{text!r} did not appear within {timeout} s:\n{proc_output.read_text()}")


def start_watch(cluster_dir: Path, log: Path, *options: str, sigint_ignored: bool = False) -> subprocess.Popen:
    """`rockscc build --watch` on the description, its output (stdout and stderr) into `log`.
    `sigint_ignored`: started as a shell starts a background job, SIGINT ignored."""
    with open(log, "w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "rockscc", "-C", str(cluster_dir), "build", "--watch", *options],
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None,
        )


def test_watch_rebuilds_on_save_and_reports_errors_at_file_line(cluster_dir, tmp_path):
    assert run_cli("-C", str(cluster_dir), "add", "host", "compute-0-0").rc == 0
    log = tmp_path / "watch.log"
    proc = start_watch(cluster_dir, log, "--eval=no")
    try:
        wait_for(log, "watching")
        node = cluster_dir / "nodes" / "extend-compute.xml"
        node.write_text("<kickstart><post>echo watched</post></kickstart>\n")
        wait_for(log, "changed: nodes/extend-compute.xml")
        deadline = time.monotonic() + 30
        kickstart = cluster_dir / "build" / "kickstart" / "compute-0-0.ks"
        while "echo watched" not in kickstart.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "echo watched" in kickstart.read_text()
        node.write_text("<kickstart>\n<post>&no_such_attr;</post></kickstart>\n")
        text = wait_for(log, "nodes/extend-compute.xml:2: undefined entity &no_such_attr;")
        assert "Traceback" not in text
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_save_during_the_first_build_is_not_lost(cluster_dir, tmp_path):
    """The watcher used to start only after the first build: a save meanwhile was never seen."""
    assert run_cli("-C", str(cluster_dir), "add", "host", "compute-0-0").rc == 0
    started = cluster_dir / "build"  # made when the first build begins, which then takes 2 s
    node = cluster_dir / "nodes" / "extend-compute.xml"
    node.write_text('<kickstart><post><eval shell="sh">sleep 2; echo slow</eval></post></kickstart>\n')
    log = tmp_path / "watch.log"
    proc = start_watch(cluster_dir, log)
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
            time.sleep(0.05)
        node.write_text("<kickstart><post>echo saved-meanwhile</post></kickstart>\n")  # the first build still runs
        wait_for(log, "changed: nodes/extend-compute.xml")
        wait_for(log, "watching for changes")
        assert "saved-meanwhile" in (cluster_dir / "build" / "kickstart" / "compute-0-0.ks").read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize(
    ("sigint_ignored", "stop"),
    [(True, signal.SIGINT), (False, signal.SIGINT), (False, signal.SIGTERM)],
    ids=["background-SIGINT", "SIGINT", "SIGTERM"],
)
def test_a_signal_stops_an_idle_watch_cleanly(cluster_dir, tmp_path, sigint_ignored, stop):
    """A watch started in the background inherits SIGINT ignored; before the watch installed its
    own handler, Ctrl-C or `kill -INT` left it running (only SIGTERM, uncleanly, stopped it)."""
    assert run_cli("-C", str(cluster_dir), "add", "host", "compute-0-0").rc == 0
    log = tmp_path / "watch.log"
    proc = start_watch(cluster_dir, log, "--eval=no", sigint_ignored=sigint_ignored)
    try:
        wait_for(log, "watching")
        proc.send_signal(stop)
        assert proc.wait(timeout=20) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in log.read_text()


def test_a_watch_keeps_no_descriptors_from_round_to_round(cluster_dir, tmp_path):
    """A loaded description is a reference cycle holding its host index's sqlite connection: before
    store.release_descriptions every round left four more descriptors open (a watch ran out of them
    after a few hundred rebuilds)."""

    def edit(zone: str) -> None:
        assert run_cli("-C", str(cluster_dir), "set", "host", "attr", "compute-0-0", "Kickstart_Timezone", zone).rc == 0

    def rounds_done(count: int, timeout_s: float = 60) -> None:
        """Until the watcher has finished `count` rounds (each ends with a "watching" line)."""
        deadline = time.monotonic() + timeout_s
        while log.read_text().count("watching") < count:
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.05)

    assert run_cli("-C", str(cluster_dir), "add", "host", "compute-0-0").rc == 0
    log = tmp_path / "watch.log"
    proc = start_watch(cluster_dir, log)
    try:
        rounds_done(1)
        edit("Europe/Oslo")
        rounds_done(2)
        before = len(os.listdir(f"/proc/{proc.pid}/fd"))
        for round_ in range(ROUNDS):
            edit(f"Zone/N{round_}")
            rounds_done(3 + round_)
        after = len(os.listdir(f"/proc/{proc.pid}/fd"))
        assert log.read_text().count(" rebuilt") >= ROUNDS, log.read_text()[-2000:]
        assert after <= before + 2, (before, after)  # four more a round before the fix: +48
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


ROUNDS = 12  # watch rounds compared for descriptors
