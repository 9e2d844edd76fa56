"""`%pre` and `%post` sections as the shell scripts d-i runs: partman/early_command runs the %pre
sections in the installer before partitioning; preseed/late_command runs the %post sections
(<post>, <file>, and the install-done callback among them) in the installed system with
`in-target`, after the packages are in.

Each command is one line of a preseed file, and d-i's preseed loader expands glob characters, so a
command carries its script base64-encoded (d-i's busybox decodes it) and runs it: the script is
ordinary, readable shell, written out in full by `rockscc list host profile`. A failing section is
logged and the install goes on, as anaconda does, unless its header says --erroronfail.
"""

from __future__ import annotations

import base64
import shlex
from dataclasses import dataclass

from rockscc.errors import RocksccError
from rockscc.xmlgraph.profile import Script

INSTALL_LOG = "/var/log/rocks-install.log"  # what Rocks' posts log to, in the installed system
ARG_LIMIT = 131072  # Linux's MAX_ARG_STRLEN: d-i runs a command as one `sh -c` argument
SHELLS = frozenset({"", "/bin/sh", "sh", "/bin/ash", "/bin/dash"})  # what d-i's busybox sh runs
PRE_DIR, POST_DIR = "/tmp/rockscc-pre", "/tmp/rockscc-post"


@dataclass(frozen=True)
class Commands:
    early: str  # partman/early_command ("" = none)
    late: str  # preseed/late_command
    early_script: str
    late_script: str
    notes: tuple[str, ...]  # sections not run by d-i, and why


def commands(
    pre: list[Script], posts: list[Script], services: list[tuple[str, str, str]], boot: list[Script]
) -> Commands:
    notes: list[str] = []
    early_script = _pre_script(pre, notes)
    late_script = _post_script(posts + boot, services)
    early = _command(early_script, PRE_DIR, "partman/early_command") if early_script else ""
    late = _command(late_script, POST_DIR, "preseed/late_command")
    return Commands(early, late, early_script, late_script, tuple(notes))


def _header(script: Script) -> dict[str, str]:
    """The section header's options: --nochroot, --interpreter X, --erroronfail, --log=F."""
    try:
        words = shlex.split(script.arg)
    except ValueError as exc:
        raise RocksccError(f"{script.origin}: %{script.kind} {script.arg}: {exc}") from None
    options: dict[str, str] = {"interpreter": script.interpreter}
    i = 0
    while i < len(words):
        name, eq, value = words[i].lstrip("-").partition("=")
        if name == "interpreter" and not eq and i + 1 < len(words):
            value, i = words[i + 1], i + 1
        if name not in ("nochroot", "interpreter", "erroronfail", "log"):
            raise RocksccError(f"{script.origin}: %{script.kind} option {words[i]} has no debian12 counterpart")
        options[name] = value
        i += 1
    return options


def _pre_script(pre: list[Script], notes: list[str]) -> str:
    lines = []
    for n, script in enumerate(pre, 1):
        options = _header(script)
        where = script.origin or script.node
        if options["interpreter"] not in SHELLS:
            notes.append(
                f"{where}: %pre with {options['interpreter']} — ran at build time for the partition plan; "
                f"d-i has no such interpreter"
            )
            continue
        lines += _run(n, script, f"{PRE_DIR}/{n}", f"sh {PRE_DIR}/{n}", options, where)
    if not lines:
        return ""
    return (
        "\n".join(
            ["#!/bin/sh", "# rockscc: the %pre sections, run by d-i before partman", f"mkdir -p {PRE_DIR}", *lines]
        )
        + "\n"
    )


def _post_script(posts: list[Script], services: list[tuple[str, str, str]]) -> str:
    lines = [
        "#!/bin/sh",
        "# rockscc: the %post sections, run by d-i in the installed system (in-target) after its packages",
        f"mkdir -p /target{POST_DIR} /target/var/log /mnt",
        "ln -sfn /target /mnt/sysimage  # what --nochroot sections of Rocks nodes call the new system",
    ]
    for n, script in enumerate(posts, 1):
        options = _header(script)
        where = script.origin or script.node or "the first-boot files"
        if "nochroot" in options:
            if options["interpreter"] not in SHELLS:
                raise RocksccError(f"{where}: %post --nochroot with {options['interpreter']}: d-i runs only sh")
            run = f"sh /target{POST_DIR}/{n}"
        else:
            run = f"in-target {options['interpreter'] or '/bin/sh'} {POST_DIR}/{n}"
        node = script.node.split(" (")[0] if script.node else ""
        if node:
            lines.append(f"printf '%s\\n' {shlex.quote(node + ': begin post section')} >> /target{INSTALL_LOG}")
        lines += _run(n, script, f"/target{POST_DIR}/{n}", run, options, where)
        if node:
            lines.append(f"printf '%s\\n' {shlex.quote(node + ': end post section')} >> /target{INSTALL_LOG}")
    for verb, unit, origin in services:
        lines.append(
            f"in-target systemctl {verb} {shlex.quote(unit)} || logger -t rockscc "
            f"{shlex.quote(f'systemctl {verb} {unit} ({origin}) failed')}"
        )
    lines.append(f"rm -rf /target{POST_DIR}")
    return "\n".join(lines) + "\n"


def _run(n: int, script: Script, written: str, run: str, options: dict[str, str], where: str) -> list[str]:
    """Write section n to a file (a quoted here-document: the body reaches the file as it is) and
    run it; a failure is logged (or, with --erroronfail, fails the command, which stops the
    install at d-i's error)."""
    body = script.body.strip("\n") + "\n"
    delimiter = f"ROCKSCC_SECTION_{n}"
    while f"\n{delimiter}\n" in f"\n{body}":
        delimiter += "_"
    lines = [f"cat > {written} <<'{delimiter}'", body.rstrip("\n"), delimiter]
    failed = shlex.quote(f"%{script.kind} section {n} ({where}) failed")
    if "erroronfail" in options:
        lines.append(f"{run} || {{ logger -t rockscc {failed}; exit 1; }}")
    else:
        lines.append(f"{run} || logger -t rockscc {failed}")
    return lines


def _command(script: str, directory: str, question: str) -> str:
    encoded = base64.b64encode(script.encode()).decode()
    command = f"mkdir -p {directory} && echo {encoded} | base64 -d > {directory}/run.sh && sh {directory}/run.sh"
    if len(command) >= ARG_LIMIT:
        raise RocksccError(
            f"{question} would be {len(command)} bytes, over the {ARG_LIMIT} bytes one command "
            f"may have: the sections are too large for a preseed (move files into packages)"
        )
    return command
