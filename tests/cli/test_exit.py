"""The command line leaves without tearing its heap down (cli/main.py: _leave): what an exit
must do still happens — every byte written reaches a pipe or a file, the exit status is the
command's, exit handlers run — and a process with another thread running exits normally."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

ENV = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}


def rockscc(*argv: str, cwd: Path, code: str = "") -> subprocess.CompletedProcess:
    """`rockscc argv…` through its entry point, after `code` (run first, in the same process)."""
    program = f"import sys\n{code}\nfrom rockscc.cli.main import entry\nsys.exit(entry())\n"
    return subprocess.run(
        [sys.executable, "-c", program, *argv], cwd=cwd, capture_output=True, text=True, timeout=120, env=ENV
    )


def test_a_long_output_reaches_the_pipe_whole(cluster_dir: Path):
    load = cluster_dir / "hosts.load"
    load.write_text("".join(f"rockscc add host compute-0-{i}\n" for i in range(300)))
    assert rockscc("-C", str(cluster_dir), "load", str(load), cwd=cluster_dir).returncode == 0
    done = rockscc("-C", str(cluster_dir), "list", "host", cwd=cluster_dir)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 302 and lines[-1].startswith("compute-0-299:")  # header, frontend, 300 hosts
    json_out = rockscc("-C", str(cluster_dir), "list", "host", "output-format=json", cwd=cluster_dir)
    assert json_out.stdout.rstrip().endswith("]")


def test_the_exit_status_and_the_error_are_the_commands(cluster_dir: Path):
    done = rockscc("-C", str(cluster_dir), "set", "host", "attr", "no-such-host", "a", "b", cwd=cluster_dir)
    assert done.returncode == 1 and done.stderr.startswith("error - ")
    assert rockscc("--version", cwd=cluster_dir).returncode == 0


def test_exit_handlers_run(cluster_dir: Path, tmp_path: Path):
    marker = tmp_path / "handled"
    code = f"import atexit, pathlib\natexit.register(lambda: pathlib.Path({str(marker)!r}).write_text('yes'))"
    done = rockscc("--version", cwd=cluster_dir, code=code)
    assert done.returncode == 0 and done.stdout.strip()
    assert marker.read_text() == "yes"


def test_with_another_thread_running_the_exit_is_the_interpreters(cluster_dir: Path, tmp_path: Path):
    """The interpreter waits for a non-daemon thread: so does rockscc's exit (what the thread
    writes after the command ended is not lost)."""
    marker = tmp_path / "late"
    code = (
        "import threading, time, pathlib\n"
        f"threading.Thread(target=lambda: (time.sleep(0.5), pathlib.Path({str(marker)!r}).write_text('late'))).start()"
    )
    done = rockscc("--version", cwd=cluster_dir, code=code)
    assert done.returncode == 0
    assert marker.read_text() == "late"


def test_a_profiled_run_still_writes_its_profile(cluster_dir: Path, tmp_path: Path):
    """`python -m cProfile -m rockscc` (bench_default.py --profile) writes its results as the
    interpreter exits: rockscc then exits the interpreter's way."""
    out = tmp_path / "run.prof"
    done = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "rockscc", "--version"],
        cwd=cluster_dir,
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
    )
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 0
