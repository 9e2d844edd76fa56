"""What build-time code prints reaches the user's terminal as text: an `<eval>`'s stderr in its
warning, a `%pre`'s partition directives quoted in an error. Control sequences (a window title,
a cleared screen, OSC 52's clipboard write, a carriage return overwriting the line) are shown
escaped, never sent to the terminal."""

from __future__ import annotations

import os

import pytest

from tests.conftest import run_cli
from tests.sandbox.conftest import node_with_eval

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox's cgroups need root on this machine kind")

CONTROLS = ("\x1b", "\x07", "\x9b", "\r")


def no_controls(text: str) -> None:
    assert not any(c in text for c in CONTROLS), repr(text[-2000:])


def test_an_evals_stderr_is_shown_escaped(site):
    node_with_eval(
        site / "nodes" / "extend-compute.xml",
        r"printf '\033]0;OWNED\007\033[2J\302\233\033]52;c;cHduZWQ=\007fake\n' >&2; exit 3",
        shell="sh",
    )
    result = run_cli("-C", str(site), "build", "compute-0-0")
    no_controls(result.err)
    assert r"exit status 3: \x1b]0;OWNED\x07\x1b[2J\x9b\x1b]52;c;cHduZWQ=\x07fake" in result.err, result.err


def test_a_pre_programs_directives_are_quoted_escaped(site):
    (site / "nodes" / "replace-partition.xml").write_text(
        "<kickstart>\n<pre>\nprintf 'part / --size=1000 --ondisk=sda\\033]0;OWNED\\007\\n' "
        "> /tmp/user_partition_info\n</pre>\n</kickstart>\n"
    )
    result = run_cli("-C", str(site), "build", "compute-0-0")
    assert result.rc != 0
    no_controls(result.err)
    assert r'unknown disk "sda\x1b]0;OWNED\x07"' in result.err, result.err
