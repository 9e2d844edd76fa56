"""Each service config checked by its own tool before the build writes it: `dhcpd -t`,
`dnsmasq --test`, `named-checkzone`, `named-checkconf` and `nginx -t`.

The tools run at the same time (they are separate processes; a cluster of ten thousand hosts
makes each take a tenth of a second or more). A file a tool rejects fails its build job with
the tool's own words, the file keeps its previous version; a tool that is not installed is a
warning naming the Debian package, and the file is written unchecked.

A tool's verdict is a function of the text it is given and of the tool itself (none of these
checks reads another file: nginx's is given its whole configuration, named-checkconf does not
load zones, dnsmasq --test and dhcpd -t read the one file). So an acceptance is remembered in
the session's memo (memo.py: kept between builds) under a digest of the text, the check's
arguments and the tool's binary (path, size, mtime, ctime, inode: an upgrade checks again), and
the same text is not checked again; a text that differs in one byte has another digest and is
checked. Rejections are never remembered (the tool says why each time)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rockscc.backends.programs import find_program
from rockscc.errors import RocksccError

if TYPE_CHECKING:
    from rockscc.memo import Memo

TIMEOUT_S = 120
MEMO_NS = "service-check"  # the memo's namespace of accepted texts


@dataclass(frozen=True)
class Tool:
    program: str
    package: str
    argv: tuple[str, ...]  # {file}: the config, {dir}: a scratch directory, {zone}: Check.zone


TOOLS = {
    "dhcpd": Tool("dhcpd", "isc-dhcp-server", ("-t", "-cf", "{file}")),
    "dnsmasq": Tool("dnsmasq", "dnsmasq-base", ("--test", "--conf-file={file}")),
    "named-checkzone": Tool("named-checkzone", "bind9-utils", ("{zone}", "{file}")),
    "named-checkconf": Tool("named-checkconf", "bind9-utils", ("{file}",)),
    "nginx": Tool("nginx", "nginx", ("-t", "-q", "-p", "{dir}", "-e", "{dir}/error.log", "-c", "{file}")),
}

# nginx checks a whole configuration: the server snippet the build writes is included in this.
# `nginx -t` binds the sockets it would listen on: the check listens on a socket file instead.
_LISTEN = re.compile(r"^(\s*)listen\s[^;]*;", re.MULTILINE)
_NGINX_MAIN = """pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{}}
http {{
    include {dir}/snippet.conf;
}}
"""


@dataclass
class Check:
    """`text` checked by `tool`; `path` names it in messages (the artifact, e.g. net/dhcpd.conf)."""

    path: str
    text: str
    tool: str
    zone: str = ""
    parts: list[str] = field(default_factory=list)  # extra files the config needs beside it
    lines: dict[int, int] = field(default_factory=dict)  # line of `text` → line of the artifact, where they differ


def check(checks: list[Check], memo: Memo | None = None) -> list[str]:
    """Run every check (those `memo` holds as accepted: not again); returns warnings (tools not
    installed), raises RocksccError naming each rejected file with the tool's message."""
    warnings, running, accepted = [], [], []
    with tempfile.TemporaryDirectory(prefix="rockscc-check-") as scratch:
        for index, item in enumerate(checks):
            tool = TOOLS[item.tool]
            binary = find_program(tool.program)
            if binary is None:
                warnings.append(
                    f"{item.path}: not checked: {tool.program} is not installed (apt-get install {tool.package})"
                )
                continue
            key = verdict_key(item, binary) if memo is not None else None
            if key is not None and memo.known(MEMO_NS, key):
                continue  # this very text passed this very tool before
            directory = Path(scratch) / str(index)
            directory.mkdir()
            target = _stage(item, directory)
            argv = [binary, *(a.format(file=target, dir=directory, zone=item.zone) for a in tool.argv)]
            running.append(
                (
                    item,
                    directory,
                    subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT),
                    key,
                )
            )
        failures = []
        for item, directory, proc, key in running:
            message = _verdict(item, directory, proc)
            if message is not None:
                failures.append(message)
            elif key is not None:
                accepted.append(key)
    for key in accepted:  # (a rejected file fails the job; what passed is still known to pass)
        memo.remember(MEMO_NS, key)
    if failures:
        raise RocksccError("; ".join(failures))
    return warnings


def verdict_key(item: Check, binary: str) -> str | None:
    """The memo key of a check's verdict: the text, what it is checked as, and the tool's binary
    as it is on disk now (None: the binary cannot be stat'ed, nothing is remembered)."""
    try:
        st = os.stat(binary)
    except OSError:
        return None
    tool = TOOLS[item.tool]
    identity = [
        binary,
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
        st.st_ino,
        tool.argv,
        item.tool,
        item.zone,
        item.path,
    ]
    digest = hashlib.sha256(json.dumps([identity, item.parts]).encode())
    digest.update(b"\0" + item.text.encode())
    return digest.hexdigest()


def _stage(item: Check, directory: Path) -> Path:
    if item.tool == "nginx":
        (directory / "snippet.conf").write_text(_LISTEN.sub(rf"\1listen unix:{directory}/check.sock;", item.text))
        target = directory / "nginx.conf"
        target.write_text(_NGINX_MAIN.format(dir=directory))
        return target
    target = directory / Path(item.path).name
    target.write_text(item.text)
    return target


def _verdict(item: Check, directory: Path, proc: subprocess.Popen) -> str | None:
    try:
        output, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return f"{item.path}: {item.tool} did not finish within {TIMEOUT_S} s"
    if proc.returncode == 0:
        return None
    return (
        f"{item.path}: rejected by {item.tool}: "
        f"{_first_error(output.decode(errors='replace'), directory, item, proc.returncode)}"
    )


def _first_error(output: str, directory: Path, item: Check, status: int) -> str:
    """The tool's complaint, with the scratch file named as the artifact."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    noise = (
        "Internet Systems Consortium",
        "Copyright",
        "All rights reserved",
        "For info, please visit",
        "Config file:",
        "Database file:",
        "PID file:",
        "If you think you have received",
        "Please report",
        "bugs on dhcp server",
        "exiting.",
        "before submitting a bug",
        "process and the",
    )
    useful = [
        line
        for line in lines
        if not line.startswith(noise) and not line.startswith("*") and not line.startswith("zone ") or "error" in line
    ]
    text = " / ".join(useful[:3]) or f"exit status {status}, no message"
    if item.lines:  # the checked text is made from the artifact (dnsmasq's hosts file): its line
        staged = str(directory / Path(item.path).name)

        def artifact_line(found: re.Match) -> str:
            number = item.lines.get(int(found[1]))
            return f"line {number} of {staged}" if number else f"line {found[1]} of the check's configuration"

        text = re.sub(rf"line (\d+) of {re.escape(staged)}", artifact_line, text)
    for name, shown in (
        (directory / "snippet.conf", item.path),
        (directory / Path(item.path).name, item.path),
        (directory / "nginx.conf", "the check's nginx.conf"),
        (directory, "(scratch)"),
    ):
        text = text.replace(str(name), shown)
    return text
