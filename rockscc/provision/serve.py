"""`rockscc serve`: the provisioning services of a built description, in the foreground.

dnsmasq answers DHCP and serves the TFTP tree (or ISC dhcpd answers DHCP, from the build's
dhcpd.conf, and dnsmasq serves TFTP alone); the HTTP service (provision/http.py) gives each
host its own kickstart and boot files. Everything binds to the address given (default: the
kickstart host's) on the interface that holds it; nothing of the machine's network
configuration is touched.

The build directory is watched (a stat of a few files, several times a second): a new hosts
file is re-read by dnsmasq (SIGHUP), a new dnsmasq.conf or dhcpd.conf restarts its daemon, a
changed description gives the HTTP service its new hosts. So `rockscc build` or insert-ethers
can run beside it. Ctrl-C or SIGTERM stops every daemon by pid and exits."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rockscc.engine.make import BuildOptions, output_dir
from rockscc.errors import RocksccError
from rockscc.model import load, transaction
from rockscc.model.boot import action_of
from rockscc.model.services import dns_domain
from rockscc.model.store import FILENAME, description_signature, file_signature, release_descriptions
from rockscc.pipeline import CompileOptions, Session
from rockscc.provision import daemons, netif
from rockscc.provision.http import Routes, Server

POLL_S = 0.25


@dataclass
class ServeOptions:
    address: str | None = None  # default: the kickstart host's address
    interface: str | None = None  # default: the interface holding the address
    port: int = 80
    dhcp: str = "dnsmasq"  # dnsmasq | isc | none
    tftp: bool = True
    dns: bool = False
    tree: Path | None = None
    out: Path | None = None
    verbose: bool = False
    compile: CompileOptions = CompileOptions()  # the install-done rebuilds use `rockscc build`'s options


class Service:
    def __init__(self, root: Path, options: ServeOptions, log: Callable[[str], None]) -> None:
        self.root = root
        self.options = options
        self.log = log
        self.outdir = output_dir(root, options.out)
        self.stopping = threading.Event()
        self.daemons: list[daemons.Daemon] = []
        self.http: Server | None = None
        self.unreadable: str | None = None  # the error the description's files last gave, if any

    # --- start ---------------------------------------------------------------------------------
    def start(self) -> None:
        cluster = load(self.root)
        options = self.options
        address = options.address or cluster.attrs.get("Kickstart_PrivateKickstartHost")
        if not address:
            raise RocksccError("no address to serve on: give address= (or set Kickstart_PrivateKickstartHost)")
        interface = netif.interface_for(address, options.interface)
        self._check_built(options.dhcp)
        tree = options.tree or (Path(cluster.attrs["install_tree"]) if cluster.attrs.get("install_tree") else None)
        if tree is not None and not tree.is_dir():
            raise RocksccError(f"install tree {tree}: no such directory")
        self.tree = tree
        try:
            self.http = Server((address, options.port), Routes(cluster, self.outdir, tree), self.log, self.install_done)
        except OSError as exc:
            raise RocksccError(f"cannot listen on {address}:{options.port}: {exc.strerror}") from None
        threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
        self.log(
            f"http: serving {self.outdir} on http://{address}:{options.port}/"
            + (f", install tree {tree}" if tree else "")
        )
        domain = dns_domain(cluster) if options.dns else ""
        if options.dhcp == "isc":
            self.daemons.append(daemons.isc_dhcpd(self.outdir, interface, self.log))
        dnsmasq_dhcp = options.dhcp == "dnsmasq"  # else dnsmasq only serves TFTP and DNS, if asked
        if dnsmasq_dhcp or options.tftp or options.dns:
            self.daemons.append(
                daemons.dnsmasq(
                    self.outdir,
                    interface,
                    address,
                    self.log,
                    dhcp=dnsmasq_dhcp,
                    dns=options.dns,
                    domain=domain,
                    verbose=options.verbose and dnsmasq_dhcp,  # its DHCP log is what verbose adds
                )
            )
        for daemon in self.daemons:
            daemon.start()
        self.watched = self._signatures()
        self.log(f"serving on {interface} ({address}); Ctrl-C stops")

    def _check_built(self, dhcp: str) -> None:
        needed = {"dnsmasq": ["net/dnsmasq.conf", "net/dnsmasq.hosts"], "isc": ["net/dhcpd.conf"]}.get(dhcp, [])
        missing = [name for name in needed + ["tftp/pxelinux.0"] if not (self.outdir / name).is_file()]
        if missing:
            raise RocksccError(f"{self.outdir}: {', '.join(missing)} not built (run rockscc build first)")

    # --- run -----------------------------------------------------------------------------------
    def run(self) -> int:
        """Watch until stopped; returns the exit status (1 when a daemon died)."""
        while not self.stopping.wait(POLL_S):
            dead = next((d for d in self.daemons if not d.alive()), None)
            if dead is not None:
                self.log(f"{dead.name} exited (status {dead.proc.returncode}): stopping")
                return 1
            self._follow_changes()
        return 0

    def _signatures(self) -> dict[str, tuple | None]:
        files = {
            name: self.outdir / name
            for name in ("net/dnsmasq.conf", "net/dnsmasq.hosts", "net/dhcpd.conf", "net/hosts")
        }
        return {FILENAME: description_signature(self.root)} | {
            name: file_signature(path) for name, path in files.items()
        }

    def _follow_changes(self) -> None:
        try:
            now = self._signatures()
        except RocksccError as exc:
            # hosts/ unreadable (moved away and replaced by hand, mid-edit): serve keeps the hosts
            # it has, as for a description that does not load, instead of exiting with every
            # machine's services; said once, not four times a second
            if str(exc) != self.unreadable:
                self.log(f"http: the description cannot be read, keeping the previous hosts: {exc}")
            self.unreadable = str(exc)
            return
        self.unreadable = None
        changed = {name for name in now if now[name] != self.watched.get(name)}
        self.watched = now
        if not changed:
            return
        if FILENAME in changed:
            try:
                self.http.routes = Routes(load(self.root), self.outdir, self.tree)
                release_descriptions()  # the replaced routes' description
                self.log("http: description changed: hosts reloaded")
            except RocksccError as exc:
                self.log(f"http: description changed but does not load, keeping the previous hosts: {exc}")
        for daemon in self.daemons:
            if daemon.name == "dnsmasq" and self.options.dhcp == "dnsmasq" and "net/dnsmasq.conf" in changed:
                self.log("dnsmasq: its configuration changed: restarting")
                daemon.restart()
            elif daemon.name == "dnsmasq" and changed & {"net/dnsmasq.hosts", "net/hosts"}:
                daemon.signal(daemons.RELOAD)
                self.log("dnsmasq: hosts changed: re-read (SIGHUP)")
            elif daemon.name == "dhcpd" and "net/dhcpd.conf" in changed:
                self.log("dhcpd: its configuration changed: restarting")
                daemon.restart()

    # --- install done --------------------------------------------------------------------------
    def install_done(self, host: str, action: str) -> tuple[int, str]:
        """Rocks' setPxeboot.cgi: the host's next boot becomes `action` (os unless it asked for
        another), then an incremental build of that host writes its new boot files."""
        try:
            with transaction(self.root) as cluster:
                record = cluster.hosts.get(host)
                if record is None:
                    return 404, f"{host} is not in the description"
                action_of(cluster, record, action)
                record.pxeboot = action
            session = Session(load(self.root), self.options.compile)
            report = session.build(BuildOptions(hosts=[host], out=self.options.out))
        except RocksccError as exc:
            return 400, f"{host}: {exc}"
        finally:
            release_descriptions()  # serve runs for days: each install's description freed now
        if report.errors:
            return 500, f"{host}: next boot {action}, but its build failed: {report.errors[0]}"
        return 200, f"{host}: next boot {action} ({len(report.rebuilt)} job(s) rebuilt)"

    # --- stop ----------------------------------------------------------------------------------
    def stop(self) -> None:
        self.stopping.set()
        for daemon in reversed(self.daemons):
            daemon.stop()
        if self.http is not None:
            self.http.shutdown()
            self.http.server_close()
            self.log("http: stopped")


def serve(root: Path, options: ServeOptions, log: Callable[[str], None] | None = None) -> int:
    """Run until Ctrl-C or SIGTERM; every daemon started is stopped before returning."""
    log = log or _stdout_log
    service = Service(root, options, log)
    # Both signals stop it through our own handler, not Python's KeyboardInterrupt: a process
    # started in the background inherits SIGINT ignored, and Python then installs no handler, so
    # "Ctrl-C stops" (or a supervisor's SIGINT) would do nothing (as insert-ethers does too).
    previous = {sig: signal.signal(sig, lambda *_: service.stopping.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        service.start()
        return service.run()
    finally:
        service.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log("stopped")


_log_lock = threading.Lock()


def _stdout_log(line: str) -> None:
    """One timestamped line; daemons' relays and HTTP threads write at the same time."""
    with _log_lock:
        sys.stdout.write(f"{time.strftime('%H:%M:%S')} {line}\n")
        sys.stdout.flush()
