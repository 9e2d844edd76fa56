"""The CLI reference (docs/cli.md), generated from the command declarations so it cannot drift:
`python -m rockscc.cli.reference > docs/cli.md` (a test fails when the file is out of date)."""

from __future__ import annotations

import sys

from rockscc.cli import registry


def reference() -> str:
    registry.unregister_all_extra()
    lines = [
        "# rockscc command reference",
        "",
        "Generated from the command declarations by `python -m rockscc.cli.reference > docs/cli.md`;",
        "`rockscc <command> help` prints the same text. Commands follow Rocks' grammar:",
        "`rockscc <verb> <object> [<subobject>…] [args…] [key=value…]`; every list command also takes",
        "`output-header=no`, `output-col=a,b` and `output-format=json`.",
        "",
    ]
    names = registry.names()
    lines += [f"- [`{name}`](#{name.replace(' ', '-')})" for name in names]
    for name in names:
        cls = registry.load(name)
        lines += ["", f"## {name}", "", "```", cls.help_text().rstrip(), "```"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(reference())
