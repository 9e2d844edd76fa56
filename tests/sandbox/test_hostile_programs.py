"""Hostile programs, run the three ways user code runs at build time: an <eval>, a %pre chain in
a build, and `test partition` on a roll developer's file. Every one is contained, and what a user
sees is one line naming the place.

Most probes live in probe.py (one program tries them all and reports a verdict); the attacks
that end a task (memory, processes, output, time) have a test each, with the error shown."""

from __future__ import annotations

import json
import os
import re
import shlex
import time

import pytest

from rockscc.sandbox.pool import SANDBOX_ID
from tests.conftest import run_cli
from tests.sandbox.conftest import node_with_eval, node_with_pre
from tests.sandbox.probe import PROBE_COUNT, program

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox's cgroups need root on this machine kind")


def verdict(text: str) -> str:
    found = re.findall(r"VERDICT breached=(\S+) probes=(\d+)", text)
    assert found, text[-3000:]
    breached, count = found[-1]
    assert int(count) == PROBE_COUNT, text[-3000:]
    return breached


def probe_lines(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if "PROBE " in line)


def test_through_an_eval(site, host_sockets):
    node_with_eval(site / "nodes" / "extend-compute.xml", program(site, host_sockets))
    result = run_cli("-C", str(site), "list", "host", "profile", "compute-0-0")
    assert result.rc == 0, result.err
    assert verdict(result.out) == "none", probe_lines(result.out)
    assert host_sockets.connections == []


def test_through_a_pre_chain_in_a_build(site, host_sockets):
    """Both hosts run the program (it reads nothing of the host: one run is memoized for both,
    so the second host's run is forced by a different text)."""
    node = site / "nodes" / "replace-partition.xml"
    node.write_text(
        '<kickstart>\n<pre arg="--interpreter /opt/rocks/bin/python">HOST = "<var name="Node_Hostname"/>"'
        f"<![CDATA[\nprint(HOST)\n{program(site, host_sockets, exit_status=3)}\n]]></pre>\n</kickstart>\n"
    )
    result = run_cli("-C", str(site), "build", "--eval=no")
    assert result.rc == 0, result.err
    for host in ("compute-0-0", "compute-0-1"):  # the program fails (exit 3): a warning with its last line
        warning = next(line for line in result.err.splitlines() if host in line and "replace-partition.xml" in line)
        assert verdict(warning) == "none", result.err
    assert host_sockets.connections == []


def test_through_a_debian_hosts_pre_chain(site, host_sockets):
    """A debian12 host's plan (its partman recipe) comes from the same %pre chain, in the same
    sandbox: the build and `list host profile` (the preseed) alike."""
    for line in (
        "set host attr compute-0-1 kickstart_dialect debian12",
        "add host pxeaction action='install debian12' 'command=kernel debian12-linux' "
        "'args=append initrd=debian12-initrd.gz auto=true priority=critical preseed'",
    ):
        assert run_cli("-C", str(site), *shlex.split(line)).rc == 0
    node = site / "nodes" / "replace-partition.xml"
    node.write_text(
        '<kickstart>\n<pre arg="--interpreter /opt/rocks/bin/python">HOST = "<var name="Node_Hostname"/>"'
        f"<![CDATA[\nprint(HOST)\n{program(site, host_sockets, exit_status=3)}\n]]></pre>\n</kickstart>\n"
    )
    result = run_cli("-C", str(site), "build", "--eval=no", "compute-0-1")
    assert result.rc == 0, result.err
    warning = next(
        line for line in result.err.splitlines() if "compute-0-1" in line and "replace-partition.xml" in line
    )
    assert verdict(warning) == "none", result.err
    assert (site / "build" / "kickstart" / "compute-0-1.ks").read_text().startswith("# debian-installer preseed")
    result = run_cli("-C", str(site), "list", "host", "profile", "compute-0-1")
    assert result.rc == 0 and result.out.startswith("# debian-installer preseed"), result.err
    assert host_sockets.connections == []


def test_through_test_partition(tmp_path, host_sockets):
    node = node_with_pre(tmp_path / "roll" / "nodes" / "hostile.xml", program(tmp_path, host_sockets, exit_status=3))
    result = run_cli("test", "partition", str(node), "disks=sda:80G")
    assert result.rc == 0, result.err
    assert verdict(result.err) == "none", result.err
    assert host_sockets.connections == []


def test_a_shell_program_gets_the_same_sandbox(tmp_path):
    body = (
        "echo $(grep -E '^(Cap(Eff|Prm|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status)\n"
        "echo $(id -u) $(ls /) $(cat /etc/shadow 2>&1) $(touch /etc/x 2>&1); exit 3"
    )
    node = node_with_pre(tmp_path / "nodes" / "sh.xml", body, python=False)
    result = run_cli("test", "partition", str(node), "disks=sda:80G")
    warning = result.err
    assert "CapEff: 0000000000000000" in warning and "CapBnd: 0000000000000000" in warning, warning
    assert "CapAmb: 0000000000000000" in warning and "NoNewPrivs: 1" in warning and "Seccomp: 2" in warning
    assert f"{SANDBOX_ID}" in warning
    assert "bin dev etc lib lib64 opt proc sbin tmp usr" in warning, warning  # nothing else at the top
    assert "/etc/shadow: No such file" in warning and "Read-only file system" in warning


def test_a_program_that_exits_early_cannot_leave_processes_behind(tmp_path):
    """A double-forked daemon outlives its step in the installer; here it dies with the task."""
    node = node_with_pre(
        tmp_path / "nodes" / "daemon.xml",
        "(setsid sh -c 'exec sleep 7777' &) ; echo rocks force-default > /tmp/user_partition_info",
        python=False,
    )
    result = run_cli("test", "partition", str(node), "disks=sda:80G")
    assert result.rc == 0, result.err
    time.sleep(0.2)
    left = [pid for pid in os.listdir("/proc") if pid.isdigit() and _cmdline(pid) == b"sleep\x007777\x00"]
    assert left == []


def _cmdline(pid: str) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


# --- attacks that end the task: the error a user sees -------------------------------------------
def test_memory_across_children_is_one_limit(tmp_path):
    """Three children of 400 MiB each: within the per-process limit, over the task's (1 GiB)."""
    body = (
        "import os, time\nfor i in range(3):\n    if os.fork() == 0:\n        b = bytearray(400 << 20)\n"
        "        for j in range(0, len(b), 4096): b[j] = 1\n        time.sleep(30)\n        os._exit(0)\n"
        "time.sleep(30)\n"
    )
    node = node_with_pre(tmp_path / "nodes" / "mem.xml", body)
    result = run_cli("test", "partition", str(node), "disks=sda:80G")
    assert result.rc == 1
    assert result.err.startswith("error - ") and len(result.err.strip().splitlines()) == 1, result.err
    assert "memory limit (1024 MiB)" in result.err and "mem.xml" in result.err


@pytest.mark.parametrize(
    "python, body",
    [
        (True, "import os\nwhile True:\n    os.fork()"),
        (False, "bomb() { bomb | bomb & }; bomb\nsleep 1\necho rocks manual > /tmp/user_partition_info"),
    ],
)
def test_a_fork_bomb_meets_the_process_limit(tmp_path, python, body):
    """Whatever the bomb leaves is killed when its step ends; the chain goes on."""
    node = node_with_pre(tmp_path / "nodes" / "bomb.xml", body, python=python)
    result = run_cli("test", "partition", str(node), "disks=sda:80G", "base=no")
    assert result.rc == 0, result.err
    if python:
        assert "bomb.xml:2: warning: %pre exited with status 1 (it hit the sandbox's process limit of 64" in result.err
    else:
        assert "(manual)" in result.out  # the step's own last line ran


def test_flooding_the_output_stops_the_step(tmp_path):
    node = node_with_pre(tmp_path / "nodes" / "flood.xml", "import sys\nwhile True: sys.stdout.write('x' * 65536)")
    result = run_cli("test", "partition", str(node), "disks=sda:80G")
    assert result.rc == 0
    assert "was stopped after writing more than 1 MiB of output" in result.err and "flood.xml:2" in result.err


def test_an_eval_over_its_output_or_time_limit_is_one_error(site, monkeypatch):
    from dataclasses import replace

    from rockscc.xmlgraph import evals

    node_with_eval(site / "nodes" / "extend-compute.xml", "yes", shell="sh")
    result = run_cli("-C", str(site), "list", "host", "profile", "compute-0-0")
    assert (
        result.rc == 1
        and "extend-compute.xml:4: <eval> failed (killed: more than 4194304 bytes of output)" in result.err
    ), result.err
    monkeypatch.setattr(evals, "LIMITS", replace(evals.LIMITS, wall_s=2))
    node_with_eval(site / "nodes" / "extend-compute.xml", "sleep 60", shell="sh")
    result = run_cli("-C", str(site), "list", "host", "profile", "compute-0-0")
    assert result.rc == 1 and "<eval> failed (killed after 2 s of wall-clock time)" in result.err, result.err
    assert len(result.err.strip().splitlines()) == 1


def test_links_out_of_the_sandbox_are_not_results(tmp_path):
    """A result file that is a link (to a file of the sandbox's view, the only files it could
    name) is not read: the default scheme applies."""
    node = node_with_pre(
        tmp_path / "nodes" / "link.xml", "ln -s /etc/passwd /tmp/user_partition_info; mkfifo /tmp/fifo", python=False
    )
    result = run_cli("test", "partition", str(node), "disks=sda:80G")
    assert result.rc == 0, result.err
    assert "root:x" not in result.out and "part / --size=8000" in result.out  # Rocks' default scheme


def test_a_forged_plan_never_reaches_another_host_or_the_memo(site):
    """The attack that worked before: write a reply for the worker to read, claiming a plan.
    The forgery reaches nothing; once the program is gone the plan is the default again."""
    program = (
        "import os\nfor fd in range(64):\n    try:\n"
        "        os.write(os.open('/proc/1/fd/%d' % fd, os.O_WRONLY), b'{\"forged\": 1}\\n')\n"
        "    except OSError:\n        pass\n"
        "open('/tmp/user_partition_info', 'w').write('part / --size=1 --grow\\n')\n"
    )
    node = node_with_pre(site / "nodes" / "replace-partition.xml", program)
    assert run_cli("-C", str(site), "build", "--eval=no").rc == 0
    forged = json.loads((site / "build" / "partitions" / "compute-0-0.json").read_text())
    assert [p["mountpoint"] for p in forged["partitions"]] == ["/"]  # what the program itself wrote, no more
    node.unlink()
    assert run_cli("-C", str(site), "build", "--eval=no").rc == 0
    plan = json.loads((site / "build" / "partitions" / "compute-0-1.json").read_text())
    assert [p["mountpoint"] for p in plan["partitions"]] == ["/", "/var", "swap", "/state/partition1"]
