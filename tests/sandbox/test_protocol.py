"""The sandbox's own promises: an answer is checked and belongs to its task, a worker that breaks
is replaced, and where no full sandbox can be had nothing runs (with the reason)."""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
from pathlib import Path

import pytest

from rockscc import sandbox
from rockscc.sandbox import Step, pool, seccomp
from tests.conftest import run_cli
from tests.sandbox.conftest import node_with_eval, node_with_pre

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox's cgroups need root on this machine kind")


def answer(steps: list) -> bytes:
    return json.dumps({"steps": steps, "error": None}).encode()


def good_step(**changes) -> dict:
    step = {"status": 0, "out": base64.b64encode(b"hi").decode(), "err": "", "stopped": None, "files": None}
    step.update(changes)
    return step


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b"null",
        b'"text"',
        b"[]",
        json.dumps({"steps": [], "error": None}).encode(),  # one result short
        answer([good_step(status="0")]),
        answer([good_step(stopped="everything")]),
        answer([good_step(out="%%%")]),
        answer([good_step(files={"/etc/passwd": ""})]),
        answer([good_step(), good_step()]),
        json.dumps({"steps": [good_step()], "error": None, "extra": 1}).encode(),
    ],
)
def test_an_answer_that_does_not_read_is_that_tasks_error(raw):
    result = sandbox.TaskResult()
    sandbox._read_answer(raw, 1, False, result)
    assert result.error and "could not be read" in result.error and result.steps == []


def test_a_well_formed_answer_is_read():
    result = sandbox.TaskResult()
    sandbox._read_answer(answer([good_step()]), 1, False, result)
    assert result.error is None and result.steps[0].stdout == b"hi"


@needs_root
def test_a_worker_that_dies_in_a_task_fails_that_task_and_is_replaced():
    worker = pool.worker(None)
    threading.Timer(1.0, worker.proc.kill).start()
    result = sandbox.run([Step(argv=("/bin/sleep", "30"))])
    assert result.error and "sandbox worker" in result.error
    after = sandbox.run([Step(argv=("/bin/echo", "next"))])
    assert after.ok and after.steps[0].stdout == b"next\n"
    assert pool.worker(None) is not worker


@needs_root
def test_a_worker_answering_out_of_protocol_fails_that_task(monkeypatch):
    worker = pool.worker(None)
    monkeypatch.setattr(worker, "_receive", lambda timeout: {"id": -1, "timeout": False})
    result = sandbox.run([Step(argv=("/bin/true",))])
    assert result.error == "the sandbox worker answered out of protocol"
    monkeypatch.undo()
    assert sandbox.run([Step(argv=("/bin/true",))]).ok


@needs_root
def test_a_process_holding_descriptors_above_1023_still_runs_sandboxed_tasks():
    """A long-lived process (build --watch, serve, a forked build worker of one) may hold more than
    1 024 descriptors; the worker's channel is then numbered above what select() takes."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip("the descriptor limit is below 1 200")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    pool._close_all()  # a new worker: its descriptors numbered above 1 023
    held = [os.open("/dev/null", os.O_RDONLY)]
    try:
        while held[-1] < 1030:  # every lower number taken: the worker's descriptors come above
            held.append(os.open("/dev/null", os.O_RDONLY))
        result = sandbox.run([Step(argv=("/bin/echo", "high"))])
        assert result.ok and result.steps[0].stdout == b"high\n", result.error
        assert pool.worker(None).channel.fileno() > 1023
    finally:
        pool._close_all()
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@needs_root
def test_answers_are_attributed_to_their_own_task():
    """Tasks in a row, each answering with what it was given: no answer ever carries another's."""
    for i in range(20):
        result = sandbox.run(
            [Step(argv=("/bin/cat", "/tmp/mine"))], files={"/tmp/mine": f"task {i}".encode()}, collect=True
        )
        assert result.steps[0].stdout == f"task {i}".encode()
        assert set(result.steps[0].files) == {"/tmp/mine"}


def test_without_bubblewrap_nothing_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(pool.shutil, "which", lambda name: None)
    monkeypatch.setattr(pool, "_workers", {})
    node = node_with_pre(tmp_path / "nodes" / "p.xml", "echo rocks manual > /tmp/user_partition_info", python=False)
    result = run_cli("test", "partition", str(node), "disks=sda:80G")
    assert result.rc == 1
    assert result.err == (
        "error - bubblewrap (bwrap) is not installed, so build-time code cannot run sandboxed: "
        "install it (apt-get install bubblewrap; scripts/setup does) or build with --eval=no\n"
    )


@needs_root
def test_without_cgroups_nothing_runs(site, monkeypatch):
    from rockscc.sandbox import cgroups

    monkeypatch.setattr(cgroups, "ROOT", str(site / "no-cgroups-here"))
    monkeypatch.setattr(pool, "_workers", {})
    node_with_eval(site / "nodes" / "extend-compute.xml", "echo hi", shell="sh")
    result = run_cli("-C", str(site), "list", "host", "profile", "compute-0-0")
    assert result.rc == 1 and len(result.err.strip().splitlines()) == 1
    assert "the sandbox needs its own memory and pids cgroups" in result.err


@needs_root
def test_a_worker_that_cannot_start_says_why(monkeypatch):
    monkeypatch.setattr(pool, "bwrap_path", lambda: "/bin/false")
    monkeypatch.setattr(pool, "_workers", {})
    with pytest.raises(sandbox.SandboxUnavailable, match="the sandbox cannot run on this machine"):
        sandbox.run([Step(argv=("/bin/true",))])


def test_the_seccomp_numbers_are_x86_64s():
    header = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
    if not header.exists():
        pytest.skip("no kernel headers here")
    numbers = dict(re.findall(r"#define __NR_(\w+) (\d+)", header.read_text()))
    assert {name: int(numbers[name]) for name in seccomp.REFUSED} == seccomp.REFUSED
    assert (int(numbers["clone"]), int(numbers["clone3"])) == (seccomp.CLONE, seccomp.CLONE3)


def test_the_filter_jumps_land_on_its_returns():
    """Every comparison of a refused number jumps to the EPERM return, the last instruction."""
    program = seccomp.program()
    refused = set(seccomp.REFUSED.values())
    for pc, (code, jt, _jf, k) in enumerate(program):
        if code == seccomp.JEQ_K and k in refused:
            assert program[pc + 1 + jt] == program[-1] == (seccomp.RET_K, 0, 0, seccomp.RET_ERRNO | 1)


@needs_root
def test_the_rocks_command_in_an_eval_reads_no_secrets(site):
    node_with_eval(
        site / "nodes" / "extend-compute.xml",
        "rocks list attr | grep -c Password; grep -c Password /opt/rockscc/description/cluster.toml; "
        "rocks list host compute-0-0 output-header=no output-col=rack; "
        "rocks add host compute-0-5 2>&1 | tail -1",
        shell="sh",
    )
    result = run_cli("-C", str(site), "list", "host", "profile", "compute-0-0")
    assert result.rc == 0, result.err
    lines = result.out.split("EVAL-BEGIN\n")[1].split("\nEVAL-END")[0].splitlines()
    assert lines[:3] == ["0", "0", "0"], lines  # no password hash; the description is there
    assert "Read-only file system" in lines[3] or "cannot write" in lines[3], lines


@needs_root
def test_a_description_under_a_private_directory_is_still_seen_by_rocks(tmp_path):
    """The sandbox's uid needs no way to the description: its view is bound by the build's user."""
    root = tmp_path / "private" / "c"
    assert run_cli("init", str(root), "password=x").rc == 0
    os.chmod(tmp_path / "private", 0o700)
    assert run_cli("-C", str(root), "add", "host", "compute-0-0").rc == 0
    node_with_eval(root / "nodes" / "extend-compute.xml", "rocks list host output-header=no output-col=host", "sh")
    result = run_cli("-C", str(root), "list", "host", "profile", "compute-0-0")
    assert result.rc == 0, result.err
    assert "compute-0-0" in result.out.split("EVAL-BEGIN")[1]


@needs_root
def test_the_view_leaves_out_a_tree_linking_out_of_the_description(site, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "motd.txt").write_text("OUTSIDE-TEXT\n")
    (site / "include").symlink_to(outside)
    node_with_eval(
        site / "nodes" / "extend-compute.xml",
        "rocks list host >/dev/null; ls /opt/rockscc/description; cat /opt/rockscc/description/include/motd.txt",
        shell="sh",
    )
    result = run_cli("-C", str(site), "list", "host", "profile", "compute-0-0")
    assert "OUTSIDE-TEXT" not in result.out + result.err
    assert "No such file" in result.err, result.err  # the eval's cat failed: its stderr in the error


@needs_root
def test_time_per_task_is_bounded_by_the_wall_clock(monkeypatch):
    started = time.monotonic()
    result = sandbox.run([Step(argv=("/bin/sleep", "60"))], limits=sandbox.Limits(wall_s=1))
    assert result.error == "killed after 1 s of wall-clock time" and result.step == 0
    assert time.monotonic() - started < 40  # the sleep of 60 s was cut short (not a timing of the sandbox)
    assert sandbox.run([Step(argv=("/bin/true",))]).ok  # the worker serves the next task
