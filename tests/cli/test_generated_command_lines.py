"""Command lines generated from the command registry — every command's own arguments and
parameters, given plausible-but-wrong values (huge and negative numbers, backwards or unclosed host
ranges, globs, unicode, control characters, empty and very long values, duplicated keys) — are
carried out or refused with one `error - …` line: never an internal error, never a change on
refusal, and a description a command changed still reads."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rockscc.cli import registry
from rockscc.model.selection import pattern
from tests.cli.test_damaged_description import snapshot
from tests.conftest import run_cli

# commands that serve, watch, take the terminal, reach a VM container's libvirt, build (slow) or
# write outside the description (init, add roll of any directory)
_AWAY = ("serve", "insert-ethers", "build", "init", "add roll", "console host vm")
_OFFLINE_VM = ("add host vm", "set host vm", "dump host vm", "report host vm", "report host vm config")
COMMANDS = sorted(
    n for n in registry.names() if n not in _AWAY and (" host vm" not in f" {n}" or n in _OFFLINE_VM)
)  # fmt: skip
HOSTS = ["compute-0-0", "compute-0-1", "vm-container-0-0", "frontend", "compute", "rack0", "compute-0-[0-1]", "c*"]
WRONG = [
    "", " ", "-1", "0", "99999999999999999999999", "9" * 5000, "1e9", "nan", "0x10", "1_000", "٣",
    "compute-0-[5-2]", "compute-0-[0-99999999]", "compute-0-[a-", "compute-0-[", "[]", "[!]", "c-[a--b]",
    "c-[[:alpha:]]", "*", "?", "rack-1", "rack99999999999999999999", "../x", "/etc/passwd", "a b", "a=b=c",
    "a\nb", "a\x00b", "\x01=b", "é", "\u202e", "x" * 3000, "256.1.1.1", "10.1.255.254", "zz:zz",
    "00:16:3e:00:00:01", "yes", "maybe", "{}", "%s", "'", '"', "\\", "-", "--", "=", "eth0", "private",
]  # fmt: skip
_value = st.one_of(
    st.sampled_from(WRONG),
    st.text(st.characters(categories=("L", "N", "P", "S", "Zs")), max_size=12),
    st.text("abc019-_.:/[],*?!= ", max_size=12),
)


@st.composite
def command_lines(draw) -> list[str]:
    name = draw(st.sampled_from(COMMANDS))
    cls = registry.load(name)
    words = []
    for arg in cls.args:
        if not arg.optional or draw(st.booleans()):
            host = arg.kind == "host" and draw(st.booleans())
            words.append(draw(st.sampled_from(HOSTS) if host else _value))
    for param in cls.params:
        if draw(st.integers(0, 3)) == 0:
            words.append(f"{param.name}={draw(_value)}")
    if cls.params and draw(st.integers(0, 4)) == 0:  # a key given twice
        words.append(f"{draw(st.sampled_from(cls.params)).name}={draw(_value)}")
    if draw(st.integers(0, 5)) == 0:
        words.append(draw(_value))
    return [*name.split(), *draw(st.permutations(words))]


@pytest.fixture(scope="module")
def described(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("described") / "cluster"
    assert run_cli("init", str(root), "password=secret").rc == 0
    for line in ("add host compute-0-0", "add host compute-0-1", "add host vm-container-0-0"):
        assert run_cli("-C", str(root), *line.split()).rc == 0
    assert run_cli("-C", str(root), "add", "host", "vm", "vm-container-0-0", "membership=Compute").rc == 0
    return root


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=command_lines())
@example(argv=["set", "host", "os", "\x01=b", "compute-0-0"])  # a control character in the key
@example(argv=["add", "appliance", "attr", "compute", "é\x9a=x"])
@example(argv=["add", "host", "compute-0-9", "rack=99999999999999999999999"])
@example(argv=["set", "host", "rank", "compute-0-1", "9223372036854775808"])
@example(argv=["list", "host", "vm", "timeout=99999999999999999999"])
def test_a_generated_command_line_is_done_or_refused_cleanly(described: Path, tmp_path_factory, argv) -> None:
    root = tmp_path_factory.mktemp("line") / "cluster"
    shutil.copytree(described, root, symlinks=True)
    before = snapshot(root)
    result = run_cli("-C", str(root), *argv)
    assert result.rc in (0, 1), (argv, result.rc, result.err)
    assert "internal error" not in result.err and "Traceback" not in result.err, (argv, result.err)
    if result.rc:
        assert result.err.startswith("error - "), (argv, result.err)
        assert snapshot(root) == before, argv
    else:  # whatever it changed, the description still reads
        for check in (["list", "host"], ["dump"]):
            after = run_cli("-C", str(root), *check)
            assert after.rc == 0, (argv, check, after.err)
    shutil.rmtree(root.parent)


@pytest.mark.parametrize("token", ["c-[a--b]", "c-[a&&b]", "c-[[:alpha:]]", "c-[a~~b]", "c-[a||b]"])
def test_a_glob_class_holding_set_syntax_is_literal_and_quiet(token) -> None:
    """Such a class went to `re` as it was: a FutureWarning on stderr before the error line."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            test = pattern(token)
        except Exception as exc:  # noqa: BLE001 - refusing is fine, warning is not
            assert type(exc).__name__ == "RocksccError", exc
            return
    assert not test("c-x")
