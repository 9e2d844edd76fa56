"""`load` shows progress on a terminal for long scripts, and nothing otherwise."""

from __future__ import annotations

import io

from rockscc.commands.load import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_for_a_long_script() -> None:
    out = Terminal()
    progress = Progress(600, out)
    progress.show(1)
    progress.show(2)  # within the same fraction of a second: not redrawn
    progress.done()
    assert out.getvalue() == "\rloading: 1/600 lines\rloading: 600 lines read, checking and writing\n"


def test_no_progress_when_not_a_terminal_or_short() -> None:
    for stream, total in ((io.StringIO(), 600), (Terminal(), 499)):
        progress = Progress(total, stream)
        progress.show(1)
        progress.done()
        assert stream.getvalue() == ""


def test_a_long_load_through_a_pipe_prints_only_its_summary(tmp_path, cluster_dir, rockscc) -> None:
    script = "".join(f"rockscc add host compute-0-{i}\n" for i in range(600))
    (tmp_path / "s.sh").write_text(script)
    result = rockscc(f"load {tmp_path / 's.sh'}")
    assert (
        result.rc == 0 and result.out == f"loaded 600 command line(s) from {tmp_path / 's.sh'}\n" and result.err == ""
    )
