"""Each service config checked by its own tool before the build writes it: `dhcpd -t`,
`dnsmasq --test`, `named-checkzone`, `named-checkconf` and `nginx -t`.

The tools run at the same time (they are separate processes; a cluster of ten thousand hosts
makes each take a tenth of a second or more). A file a tool rejects fails its build job with
the tool's own words, the file keeps its previous version; a tool that is not installed is a
warning naming the Debian package, and the file is written unchecked."""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from rockscc.backends.programs import find_program
from rockscc.errors import RocksccError

TIMEOUT_S = 120


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


def check(checks: list[Check]) -> list[str]:
    """Run every check; returns warnings (tools not installed), raises RocksccError naming each
    rejected file with the tool's message."""
    warnings, running = [], []
    with tempfile.TemporaryDirectory(prefix="rockscc-check-") as scratch:
        for index, item in enumerate(checks):
            tool = TOOLS[item.tool]
            binary = find_program(tool.program)
            if binary is None:
                warnings.append(
                    f"{item.path}: not checked: {tool.program} is not installed (apt-get install {tool.package})"
                )
                continue
            directory = Path(scratch) / str(index)
            directory.mkdir()
            target = _stage(item, directory)
            argv = [binary, *(a.format(file=target, dir=directory, zone=item.zone) for a in tool.argv)]
            running.append(
                (
                    item,
                    directory,
                    subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT),
                )
            )
        failures = [
            message for item, directory, proc in running if (message := _verdict(item, directory, proc)) is not None
        ]
    if failures:
        raise RocksccError("; ".join(failures))
    return warnings


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
    for name, shown in (
        (directory / "snippet.conf", item.path),
        (directory / Path(item.path).name, item.path),
        (directory / "nginx.conf", "the check's nginx.conf"),
        (directory, "(scratch)"),
    ):
        text = text.replace(str(name), shown)
    return text
