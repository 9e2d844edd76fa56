"""The daemons `rockscc serve` runs: dnsmasq (DHCP and TFTP, or TFTP only) and ISC dhcpd.
Each runs in the foreground as serve's child, its output relayed to serve's log line by line,
and is stopped by its own pid (SIGTERM, then SIGKILL). Their state (leases, pid files) lives in
the build directory's .rockscc-serve/, never in the system's /var."""

from __future__ import annotations

import getpass
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from rockscc.backends.programs import find_program
from rockscc.errors import RocksccError

STATE_DIR = ".rockscc-serve"


class Daemon:
    """A child process, its output relayed to `log` with its name in front."""

    def __init__(self, name: str, argv: list[str], log: Callable[[str], None]) -> None:
        self.name = name
        self.argv = argv
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.last_lines: list[str] = []

    def start(self) -> None:
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                start_new_session=True,
            )  # Ctrl-C reaches serve, which stops it
        except OSError as exc:
            raise RocksccError(f"cannot start {self.name} ({self.argv[0]}): {exc.strerror}") from None
        self.log(f"{self.name}: started, pid {self.proc.pid}: {' '.join(self.argv)}")
        threading.Thread(target=self._relay, args=(self.proc,), daemon=True).start()

    def _relay(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            line = line.rstrip()
            if line:
                self.last_lines = (self.last_lines + [line])[-5:]
                self.log(f"{self.name}: {line}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            self.proc.send_signal(sig)

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.log(f"{self.name}: stopped (pid {self.proc.pid})")
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


def program(name: str, package: str) -> str:
    path = find_program(name)
    if path is None:
        raise RocksccError(f"{name} is not installed (apt-get install {package})")
    return path


def dnsmasq(
    outdir: Path, interface: str, address: str, log, *, dhcp: bool, dns: bool, domain: str, verbose: bool
) -> Daemon:
    """DHCP and TFTP from the build's dnsmasq.conf, or (dhcp=False) TFTP alone."""
    state = state_dir(outdir)
    # dnsmasq replaces and, when it exits, deletes its pid and lease files: both in serve's state
    argv = [
        program("dnsmasq", "dnsmasq-base"),
        "--keep-in-foreground",
        "--log-facility=-",
        f"--interface={interface}",
        f"--listen-address={address}",
        "--bind-interfaces",
        f"--pid-file={state}/dnsmasq.pid",
        f"--dhcp-leasefile={state}/dnsmasq.leases",
        f"--user={getpass.getuser()}",
    ]
    if dhcp:
        argv.append(f"--conf-file={outdir}/net/dnsmasq.conf")
    else:
        empty = state / "tftp-only.conf"
        empty.write_text("# rockscc serve: dnsmasq serves TFTP only; its options are on the command line\n")
        argv += [f"--conf-file={empty}", "--enable-tftp", f"--tftp-root={outdir}/tftp"]
    if dns:  # the private domain from the build's hosts file, nothing forwarded
        argv += [
            "--port=53",
            "--no-resolv",
            "--no-hosts",
            f"--addn-hosts={outdir}/net/hosts",
            f"--domain={domain}",
            f"--local=/{domain}/",
        ]
    else:
        argv.append("--port=0")
    if verbose:
        argv.append("--log-dhcp")
    return Daemon("dnsmasq", argv, log)


def isc_dhcpd(outdir: Path, interface: str, log) -> Daemon:
    state = state_dir(outdir)
    leases = state / "dhcpd.leases"
    leases.touch()
    argv = [
        program("dhcpd", "isc-dhcp-server"),
        "-4",
        "-d",
        "-cf",
        str(outdir / "net" / "dhcpd.conf"),
        "-lf",
        str(leases),
        "-pf",
        str(state / "dhcpd.pid"),
        interface,
    ]
    return Daemon("dhcpd", argv, log)


def state_dir(outdir: Path) -> Path:
    path = outdir / STATE_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


RELOAD = signal.SIGHUP  # dnsmasq re-reads its hosts files on SIGHUP
