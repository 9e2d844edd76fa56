"""The HTTP service of `rockscc serve`: each host's own kickstart and boot files, to that host's
address only (kickstarts hold the root password hash: Rocks' kickstart.cgi checked the asking
address the same way), the TFTP tree's shared files to anyone, the install tree, and the
install-done callback.

    /<basedir>/sbin/kickstart.cgi          the asking host's kickstart (Rocks' URL; the boot files name it)
    /<basedir>/kickstart/<host>.ks         that host's kickstart, to that host only (VMs' URL)
    /<basedir>/sbin/public/setPxeboot.cgi  install done: the asking host's next boot becomes os (or action=)
    /<basedir>/<path>                      the install tree (serve tree=, or attribute install_tree)
    /pxelinux.cfg/, /uefi/, /ipxe/         per-host boot files, to their host only (default, grub.cfg: anyone)
    /<path>                                the rest of the TFTP tree

`Routes` decides (pure: addresses and paths in, an answer out); `Server` is the threaded HTTP
server around it, which logs every answer, refusals included."""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from rockscc.backends.boot import TFTP
from rockscc.errors import printable
from rockscc.model import Cluster
from rockscc.model.services import basedir
from rockscc.pipeline.specs import host_entries

# per-host boot file directories: (file name prefix, names anyone may have, suffix)
PER_HOST_DIRS = {
    "pxelinux.cfg": ("", ("default",), ""),
    "uefi": ("grub.cfg-", ("grub.cfg",), ""),
    "ipxe": ("", (), ".ipxe"),
}
CALLBACK = "sbin/public/setPxeboot.cgi"
IDLE_TIMEOUT_S = 60.0  # a client silent this long (no request, or not reading its file) is cut off
MAX_BODY = 1 << 16  # the callback's body, if any, is small: a larger one is refused, never half-read


@dataclass(frozen=True)
class Answer:
    status: int
    file: Path | None = None  # the file to send (status 200)
    body: str = ""  # or this text
    host: str | None = None  # the asking host, when its address is a host's
    note: str = ""  # what the log says about it
    callback: dict | None = None  # install done: {"host": name, "action": label}


class Routes:
    """What the service answers, from the description as it was loaded (serve makes a new one
    when the description changes)."""

    def __init__(self, cluster: Cluster, outdir: Path, tree: Path | None = None) -> None:
        self.outdir = outdir
        self.tftp = outdir / TFTP
        self.tree = tree
        # the URL prefix as the boot files name it: it may have several segments (install/c1)
        self.basedir = basedir(cluster.attrs.get("Kickstart_PrivateKickstartBasedir")).split("/")
        self.host_of_ip: dict[str, str] = {}
        # who owns a per-host file: pxelinux and grub files are named by HEXIP or 01-<mac>, iPXE
        # scripts by host name (kept apart: a host may be *named* like another's HEXIP)
        self.owner: dict[str, dict[str, str]] = {"pxelinux.cfg": {}, "uefi": {}, "ipxe": {}}
        for entry in host_entries(cluster):
            name = entry["name"]
            self.host_of_ip[entry["ip"]] = name
            by_address = {entry["hexip"]: name}
            if entry["mac"]:
                by_address["01-" + entry["mac"].replace(":", "-")] = name
            self.owner["pxelinux.cfg"].update(by_address)
            self.owner["uefi"].update(by_address)
            self.owner["ipxe"][name] = name

    def answer(self, client: str, method: str, target: str) -> Answer:
        host = self.host_of_ip.get(client)
        split = urlsplit(target)
        path = unquote(split.path)
        parts = [p for p in path.split("/") if p]
        if "\0" in path or any(p in (".", "..") for p in parts):
            return Answer(400, host=host, note="refused: path with . or ..")
        if parts[: len(self.basedir)] == self.basedir:
            return self._install(host, method, parts[len(self.basedir) :], parse_qs(split.query))
        if method not in ("GET", "HEAD"):
            return Answer(405, host=host, note=f"{method} is not served here")
        if len(parts) == 2 and parts[0] in PER_HOST_DIRS:
            refused = self._refused(host, parts[0], parts[1])
            if refused:
                return refused
        return self._file(self.tftp, parts, host)

    # --- /<basedir>/ ---------------------------------------------------------------------------
    def _install(self, host: str | None, method: str, parts: list[str], query: dict) -> Answer:
        rest = "/".join(parts)
        if rest == CALLBACK:
            if host is None:
                return Answer(403, host=host, note="refused: install-done callback from an address of no host")
            action = (query.get("action") or ["os"])[0]
            return Answer(200, host=host, callback={"host": host, "action": action})
        if method not in ("GET", "HEAD"):
            return Answer(405, host=host, note=f"{method} is not served here")
        if rest == "sbin/kickstart.cgi":
            if host is None:
                return Answer(403, host=host, note="refused: kickstart.cgi asked from an address of no host")
            return self._kickstart(host, host)
        if len(parts) == 2 and parts[0] == "kickstart" and parts[1].endswith(".ks"):
            wanted = parts[1][:-3]
            if wanted != host:
                return Answer(
                    403,
                    host=host,
                    note=f"refused: the kickstart of {wanted}, asked from "
                    f"{'the address of ' + host if host else 'an address of no host'}",
                )
            return self._kickstart(host, wanted)
        if self.tree is None:
            return Answer(404, host=host, note="no install tree (serve tree=DIR or attribute install_tree)")
        return self._file(self.tree, parts, host)

    def _kickstart(self, host: str, name: str) -> Answer:
        path = self.outdir / "kickstart" / f"{name}.ks"
        if not path.is_file():
            return Answer(404, host=host, note=f"{name} has no kickstart: run rockscc build")
        if path.is_symlink():  # a build writes files: a link was planted, and may name /etc/shadow
            return Answer(403, host=host, note=f"refused: the kickstart of {name} is a link, not a file rockscc wrote")
        return Answer(200, file=path, host=host, note=f"kickstart of {name}")

    # --- the TFTP tree ---------------------------------------------------------------------------
    def _refused(self, host: str | None, directory: str, name: str) -> Answer | None:
        prefix, public, suffix = PER_HOST_DIRS[directory]
        if name in public:
            return None
        key = name[len(prefix) : len(name) - len(suffix)] if name.startswith(prefix) and name.endswith(suffix) else None
        owner = self.owner[directory].get(key) if key else None
        if owner is not None and owner == host:
            return None
        whose = f"the boot file of {owner}" if owner else "a boot file of no host"
        asker = f"the address of {host}" if host else "an address of no host"
        return Answer(403, host=host, note=f"refused: {whose}, asked from {asker}")

    def _file(self, root: Path, parts: list[str], host: str | None) -> Answer:
        path = root.joinpath(*parts)
        try:
            real = Path(os.path.realpath(path))
            inside = real == Path(os.path.realpath(root)) or Path(os.path.realpath(root)) in real.parents
        except OSError:
            inside = False
        if not inside:
            return Answer(403, host=host, note="refused: outside the served directory")
        try:
            is_file = real.is_file()
        except OSError:  # a name too long for the file system: it names no file
            is_file = False
        if not is_file:
            return Answer(404, host=host)
        return Answer(200, file=real, host=host)


class Server(ThreadingHTTPServer):
    """The threaded HTTP server: `routes` may be replaced at any time (a new description);
    `on_callback(host, action) -> (status, text)` runs the install-done step; `log(line)`."""

    daemon_threads = True
    allow_reuse_address = True
    idle_timeout = IDLE_TIMEOUT_S
    # socketserver's 5: a rack powered on at once, while a build holds the interpreter, had its
    # connections dropped by the kernel (retried after 1, 3, 7 s; firmware gives up)
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        routes: Routes,
        log: Callable[[str], None],
        on_callback: Callable[[str, str], tuple[int, str]],
    ) -> None:
        self.routes = routes
        self.log = log
        self.on_callback = on_callback
        self.callback_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request, client_address) -> None:
        """A client that went away mid-answer (a firmware giving up) is a log line, not a traceback."""
        error = sys.exc_info()[1]
        self.log(f"http {client_address[0]} connection ended early: {type(error).__name__}: {error}")


class _Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        # without a timeout, each client that connects and says nothing (or stops reading) holds
        # a thread and a descriptor forever: enough of them and no machine gets its kickstart
        self.timeout = self.server.idle_timeout
        super().setup()

    def do_GET(self) -> None:  # noqa: N802 (http.server's names)
        self._respond(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(send_body=False)

    def do_POST(self) -> None:  # noqa: N802 (the install-done callback may be a POST)
        self._respond(send_body=True)

    def _skip_body(self) -> Answer | None:
        """Reads the request's body (nothing here uses it), or refuses a body it cannot read
        whole: bytes left unread would be parsed as the connection's next request."""
        length = (self.headers.get("Content-Length") or "0").strip()
        # ASCII digits only: "²" is a digit to str.isdigit and not to int()
        if self.headers.get("Transfer-Encoding") or not (length.isascii() and length.isdigit()):
            self.close_connection = True
            return Answer(400, note="refused: a body of no valid Content-Length")
        if len(length) > 9 or int(length) > MAX_BODY:  # 5 000 digits are past int()'s own limit
            self.close_connection = True
            return Answer(413, note=f"refused: a body of {length[:20]} bytes (at most {MAX_BODY})")
        self.rfile.read(int(length))
        return None

    def _respond(self, send_body: bool) -> None:
        client = self.client_address[0]
        answer = self._skip_body() or self.server.routes.answer(client, self.command, self.path)
        if answer.callback is not None:
            with self.server.callback_lock:
                status, text = self.server.on_callback(answer.callback["host"], answer.callback["action"])
            answer = Answer(status, body=text + "\n", host=answer.host, note=f"install done: {text}")
        size = self._send(answer, send_body)
        who = f"{client} ({answer.host})" if answer.host else client
        note = f" {answer.note}" if answer.note else ""
        self.server.log(printable(f"http {who} {self.command} {self.path} {answer.status} {size}B{note}", keep=""))

    def _send(self, answer: Answer, send_body: bool) -> int:
        if answer.file is None:
            body = (answer.body or f"{answer.status} {self.responses.get(answer.status, ('',))[0]}\n").encode()
            self._headers(answer.status, len(body), "text/plain")
            if send_body:
                self.wfile.write(body)
            return len(body)
        # a kickstart never through a link, also one planted between the route's check and this
        # open (it holds the root password hash; a link may name /etc/shadow): ELOOP, a 404
        flags = os.O_RDONLY | os.O_CLOEXEC | (os.O_NOFOLLOW if answer.file.suffix == ".ks" else 0)
        try:
            handle = os.fdopen(os.open(answer.file, flags), "rb")
        except OSError:
            return self._send(Answer(404, host=answer.host), send_body)
        with handle:
            size = os.fstat(handle.fileno()).st_size
            text = answer.file.suffix in (".ks", ".ipxe") or answer.file.parent.name in PER_HOST_DIRS
            self._headers(200, size, "text/plain" if text else "application/octet-stream")
            if send_body:
                self.wfile.flush()
                # socket.sendfile waits for a slow reader up to the timeout (os.sendfile on the
                # socket, non-blocking once it has a timeout, would fail at the first full buffer)
                sent = self.connection.sendfile(handle, 0, size)
                if sent < size:  # the file shrank meanwhile: the client waits for bytes never coming
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_WR)
        return size

    def _headers(self, status: int, length: int, kind: str) -> None:
        self.send_response_only(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's own lines: ours are better
        pass

    def log_error(self, format: str, *args) -> None:  # noqa: A002
        """http.server's refusals of what it cannot parse, and its timeouts, are serve's log too."""
        self.server.log(printable(f"http {self.client_address[0]} {format % args}", keep=""))
