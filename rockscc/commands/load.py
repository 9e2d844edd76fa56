"""`rockscc load FILE`: run a file of rockscc command lines in one transaction."""

from __future__ import annotations

import re
import shlex
import sys
import time
from pathlib import Path

from rockscc.cli.command import Arg, Command
from rockscc.errors import RocksccError
from rockscc.model.timing import phase


class Load(Command):
    """Run the rockscc command lines in FILE (- for standard input) in one process and one
    transaction: all lines apply or none do. Lines are `rockscc <command> …` as dump prints
    them, with shell quoting; blank lines and # comments are skipped. An error names the line."""

    name = "load"
    args = [Arg("file", help="a file of rockscc command lines, or - for stdin")]
    examples = ["rockscc load cluster-backup.sh", "rockscc load - < new-hosts.sh"]
    mutates = True

    def run(self, ctx, opts) -> None:
        name, text = read_script(opts.file)
        lines = list(_command_lines(name, text))
        run_lines(ctx, name, lines)
        # said once the transaction is written: a check at the commit (names alike but for case) may still refuse it
        ctx.after_commit.append(lambda: ctx.out(f"loaded {len(lines)} command line(s) from {name}"))


def run_lines(ctx, name: str, lines: list[tuple[int, list[str]]]) -> None:
    """Run (line number, command words) in the transaction of the command running them; an
    error names the line; a long run shows progress on a terminal."""
    from rockscc.cli.dispatch import execute

    progress = Progress(len(lines), ctx.stderr)
    ctx.loading = True
    try:
        with phase("commands"):
            for count, (number, words) in enumerate(lines, 1):
                try:
                    execute(words, ctx)
                except RocksccError as exc:
                    raise RocksccError(f"{name}:{number}: {exc} (nothing was loaded)") from None
                progress.show(count)
    finally:
        ctx.loading = False
        progress.done()


class Progress:
    """`loading: 1200/30000 lines` on a terminal, redrawn a few times a second, for long scripts."""

    def __init__(self, total: int, stream) -> None:
        self.total, self.stream = total, stream
        self.on = total >= 500 and getattr(stream, "isatty", lambda: False)()
        self.last = 0.0

    def show(self, count: int) -> None:
        if self.on and (now := time.monotonic()) - self.last >= 0.2:
            self.last = now
            self.stream.write(f"\rloading: {count}/{self.total} lines")
            self.stream.flush()

    def done(self) -> None:
        if self.on and self.last:
            self.stream.write(f"\rloading: {self.total} lines read, checking and writing\n")
            self.stream.flush()


def read_script(file: str, errors: str = "strict") -> tuple[str, str]:
    """(name for messages, text) of a file of command lines, or of stdin for `-`."""
    # a leading byte order mark is no text: Notepad and Excel's "CSV UTF-8" write one
    if file == "-":
        return "<stdin>", sys.stdin.read().removeprefix("\ufeff")
    try:
        return file, Path(file).read_text(encoding="utf-8-sig", errors=errors)
    except (OSError, UnicodeDecodeError) as exc:
        raise RocksccError(f"{file}: cannot read: {exc}") from None


_PLAIN = re.compile(r"^[ \t!$%&()*+,\-./0-9:;<=>?@A-Z\[\]^_`a-z{|}~]*$")  # ASCII, no quotes, escapes, comments


def shell_lines(name: str, text: str):
    """(line number, raw line, words) of each non-blank line, split with shell quoting and
    `#` comments; a quoting error names the line."""
    # the shell's lines and an editor's: splitlines() also breaks at a form feed or U+2028 a
    # comment may hold, which shifted every later line number and made the rest a command
    for number, raw in enumerate(text.split("\n"), 1):
        raw = raw.removesuffix("\r")
        if _PLAIN.match(raw):  # nothing for shlex to do (and it costs ~0.4 ms a line)
            words = raw.split()
            if words:
                yield number, raw, words
            continue
        try:
            words = shlex.split(raw, comments=True)
        except ValueError as exc:
            raise RocksccError(f"{name}:{number}: {exc} (nothing was loaded)") from None
        if words:
            yield number, raw, words


def _command_lines(name: str, text: str):
    for number, _raw, words in shell_lines(name, text):
        if words[0] != "rockscc":
            raise RocksccError(
                f'{name}:{number}: a line must start with "rockscc", not "{words[0]}" (nothing was loaded)'
            )
        if len(words) > 1 and words[1].startswith("-"):
            raise RocksccError(f"{name}:{number}: global options ({words[1]}) are not allowed inside load")
        if words[1:2] in (["load"], ["build"]):
            raise RocksccError(f'{name}:{number}: "{words[1]}" cannot run inside load')
        yield number, words[1:]
