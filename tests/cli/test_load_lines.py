"""`rockscc load` and `load hostfile` are one transaction whose errors name the line: a file with a
bad line anywhere loads nothing and names that line as an editor numbers it (lines end at "\\n"),
whatever the other lines hold — comments with form feeds or U+2028, CRLF endings, a byte order
mark as Notepad and Excel's "CSV UTF-8" write."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.cli.test_damaged_description import snapshot
from tests.conftest import run_cli

# what a comment may hold that str.splitlines() takes for a line break
_BREAKERS = ["\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
_comment = st.builds(lambda a, b: f"# {a} {b}", st.sampled_from(_BREAKERS), st.sampled_from(["rack 2", "add host x"]))
_filler = st.lists(st.one_of(_comment, st.just(""), st.just("   ")), max_size=3)
_BAD_LINES = [
    "rockscc add host compute-9-0 rack=x",
    "rockscc add host compute-9-0 rack=99999999999999999999",
    "frobnicate",
]


def _script(good: int, bad_at: int, fillers: list[list[str]], bad: str) -> tuple[list[str], int]:
    """Lines of `good` `add host` commands with `bad` as the bad_at-th command and filler lines
    before each; the bad line's number."""
    lines, number = [], 0
    for i in range(good + 1):
        lines += fillers[i % len(fillers)] if fillers else []
        if i == bad_at:
            lines.append(bad)
            number = len(lines)
        else:
            lines.append(f"rockscc add host compute-1-{i}")
    return lines, number


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    good=st.integers(0, 6),
    bad_at=st.integers(0, 6),
    fillers=st.lists(_filler, max_size=3),
    bad=st.sampled_from(_BAD_LINES),
    ending=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
)
@example(good=2, bad_at=2, fillers=[["# page two\x0c"]], bad=_BAD_LINES[0], ending="\n", bom=False)
@example(good=1, bad_at=1, fillers=[["# a \u2028 rack 2"]], bad=_BAD_LINES[0], ending="\n", bom=False)
def test_a_bad_command_line_is_named_and_nothing_loads(
    cluster_dir: Path, tmp_path: Path, good, bad_at, fillers, bad, ending, bom
) -> None:
    bad_at = min(bad_at, good)
    lines, number = _script(good, bad_at, fillers, bad)
    script = tmp_path / "script.sh"
    script.write_text(("\ufeff" if bom else "") + ending.join(lines) + ending, encoding="utf-8", newline="")
    before = snapshot(cluster_dir)
    result = run_cli("-C", str(cluster_dir), "load", str(script))
    assert result.rc == 1, (lines, result.out)
    assert result.err.startswith(f"error - {script}:{number}: "), (lines, number, result.err)
    assert snapshot(cluster_dir) == before


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fillers=st.lists(_filler, max_size=3), ending=st.sampled_from(["\n", "\r\n"]), bom=st.booleans())
@example(fillers=[], ending="\n", bom=True)
def test_a_good_script_loads_whatever_its_comments_and_endings(cluster_dir: Path, tmp_path: Path, fillers, ending, bom):
    lines, _ = _script(3, -1, fillers, "")
    script = tmp_path / "script.sh"
    script.write_text(("\ufeff" if bom else "") + ending.join(lines) + ending, encoding="utf-8", newline="")
    result = run_cli("-C", str(cluster_dir), "load", str(script))
    assert result.rc == 0 and "loaded 4 command line(s)" in result.out, (lines, result.err)
    assert run_cli("-C", str(cluster_dir), "remove", "host", "compute-1-*", "force=yes").rc == 0


def test_a_spreadsheet_saved_as_csv_utf8_loads(cluster_dir: Path, tmp_path: Path) -> None:
    """Excel's "CSV UTF-8" starts with a byte order mark: its first column was "\\ufeffname"."""
    sheet = tmp_path / "hosts.csv"
    sheet.write_bytes("\ufeffName,Rack,Rank\r\ncompute-2-0,2,0\r\ncompute-2-1,2,1\r\n".encode())
    result = run_cli("-C", str(cluster_dir), "load", "hostfile", str(sheet))
    assert result.rc == 0 and "loaded 2 host(s)" in result.out, result.err
    sheet.write_bytes("\ufeffName,Rack\r\ncompute-3-0,3\r\ncompute-3-1,x\r\n".encode())
    before = snapshot(cluster_dir)
    result = run_cli("-C", str(cluster_dir), "load", "hostfile", str(sheet))
    assert result.rc == 1 and result.err.startswith(f"error - {sheet}:3: "), result.err
    assert snapshot(cluster_dir) == before
