"""`rockscc insert-ethers`: new machines become hosts in the order they are powered on.

Rocks' first step of every install: run insert-ethers, power the nodes on one after another;
each DHCP request from an unknown MAC becomes the next <appliance>-<rack>-<rank> with the next
free address (counting down from the broadcast address, skipping the discovery range), its
next boot `install`. The new host is built at once (its kickstart and boot files, and the
network files: the DHCP server's hosts), so the node's next DHCP retry boots its install.

Each host is added in its own transaction (lock, check against the host index, its own file
hosts/<name>.toml written: model/store.py `add_host`, so ten thousand hosts cost no more than
ten) and built:
Ctrl-C is taken between two hosts, never inside one, so the description is always whole and the
hosts named so far are built (a second Ctrl-C interrupts a build; the next build finishes it).
`record=FILE` only records the new MACs, in order, adding nothing."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rockscc.engine.make import BuildOptions
from rockscc.errors import RocksccError
from rockscc.model import Host, Interface, load
from rockscc.model.cluster import Cluster
from rockscc.model.services import discovery_addresses
from rockscc.model.store import add_host, description_signature, loaded_signature, release_descriptions
from rockscc.pipeline import CompileOptions, Session
from rockscc.provision import netif
from rockscc.provision.dhcpsniff import DhcpRequest, Sniffer

WAIT_S = 0.2  # how often the watch loop looks at Ctrl-C between packets


@dataclass
class DiscoverOptions:
    appliance: str = "Compute"
    rack: int = 0
    rank: int | None = None  # the first new host's rank (default: after the highest in the rack)
    interface: str | None = None
    record: Path | None = None  # only record MACs to this file
    pxe_only: bool = True  # only PXE firmware's requests (vendor class PXEClient...)
    count: int | None = None  # stop after this many
    out: Path | None = None
    compile: CompileOptions = CompileOptions()  # the new hosts are built with `rockscc build`'s options


@dataclass
class Added:
    name: str
    mac: str
    ip: str
    seconds: float  # from the request to its artifacts on disk
    errors: list[str] = field(default_factory=list)


class Inserter:
    """Turns requests into hosts (or recorded MACs). Usable without a socket: `handle()`."""

    def __init__(self, root: Path, options: DiscoverOptions, log: Callable[[str], None]) -> None:
        self.root = root
        self.options = options
        self.log = log
        cluster = load(root)
        self.appliance, app = cluster.appliance_by_membership(options.appliance)
        if app.node == "server":
            raise RocksccError(f'appliance "{self.appliance}" is the frontend\'s: insert-ethers adds other hosts')
        cluster.check_appliance_enabled(app)
        self.membership = app.membership
        self.seen: set[str] = set()  # MACs handled in this run
        # (signature of the files read, their MACs): a request from one of these is checked
        # against the files as they are now; from another, it goes to a transaction
        self._known: tuple = (loaded_signature(cluster), cluster.used_macs())
        self.next_rank = options.rank
        self.done = 0
        if options.record is not None:
            self.seen |= _recorded(options.record)

    def handle(self, request: DhcpRequest) -> Added | str | None:
        """The host added (or the MAC recorded) for a request from a new MAC; None otherwise."""
        if request.mac in self.seen or (self.options.pxe_only and not request.pxe):
            return None
        self.seen.add(request.mac)
        if self.options.record is not None:
            if request.mac in self._known_macs():
                return None  # a host of the description (renewing its lease, rebooting)
            return self._record(request)
        # a MAC the last reading did not know goes straight to the transaction, which decides
        # under the lock (a host added meanwhile by anyone is found there): no stat of every
        # host file first; one it knew is checked to be still a host's
        if request.mac in self._known[1] and request.mac in self._known_macs():
            return None
        return self._add(request)

    def _known_macs(self) -> set[str]:
        """The description's MACs, loaded again only when the description changed."""
        signature = description_signature(self.root)
        if signature != self._known[0]:
            self._known = (signature, load(self.root).used_macs())
        return self._known[1]

    def _record(self, request: DhcpRequest) -> str | None:
        # the vendor class is the client's text: a tab or a newline in it would forge fields or
        # lines (a line of another MAC: recorded as seen, that machine would never be recorded)
        vendor = "".join(c if c.isprintable() else "?" for c in request.vendor_class) or "-"
        line = f"{request.mac}\t{time.strftime('%Y-%m-%dT%H:%M:%S')}\t{vendor}\n"
        with open(self.options.record, "a") as out:
            out.write(line)
        self.done += 1
        return request.mac

    def _add(self, request: DhcpRequest) -> Added | None:
        started = time.perf_counter()
        made: list[str] = []

        def make(cluster: Cluster) -> Host:
            if cluster.host_table().holders("mac", request.mac):  # an indexed lookup, each holder checked
                raise _Known  # added meanwhile by another command: leave the file as it is
            host = self._new_host(cluster, request.mac)
            made.append(host.name)
            return host

        try:
            cluster = add_host(self.root, make)
        except _Known:
            return None
        host = cluster.hosts[made[-1]]
        # the files as this transaction checked and wrote them (None: stat'ed again)
        signature = loaded_signature(cluster) or description_signature(self.root)
        self._known = (signature, cluster.used_macs())
        report = Session(cluster, self.options.compile).build(
            BuildOptions(hosts=[host.name], with_cluster=True, out=self.options.out)
        )
        self.done += 1
        added = Added(host.name, request.mac, host.interfaces[0].ip, time.perf_counter() - started, report.errors)
        release_descriptions()  # a discovery round's description, freed before the next host asks
        return added

    def _new_host(self, cluster: Cluster, mac: str) -> Host:
        rack = self.options.rack
        rank = self._rank(cluster, rack)
        name = f"{self.appliance}-{rack}-{rank}"
        ip = cluster.next_ip("private", discovery_addresses(cluster))
        self.next_rank = rank + 1
        host = Host(
            name=name,
            membership=self.membership,
            rack=rack,
            rank=rank,
            interfaces=[Interface(device="eth0", ip=ip, mac=mac, subnet="private", name=name)],
        )
        if "install" in cluster.pxeactions:
            host.pxeboot = "install"  # its first network boot installs it
        return host

    def _rank(self, cluster: Cluster, rack: int) -> int:
        """The given rank, else one past the highest of this appliance in this rack; names in
        use are skipped."""
        # from the host table's rows: decoding every record would cost the whole cluster twice
        # more (the decode, then the transaction's check of what each taken-out record changed)
        taken = cluster.host_table().ranks(self.membership, rack)
        rank = self.next_rank if self.next_rank is not None else max(taken, default=-1) + 1
        while rank in taken or f"{self.appliance}-{rack}-{rank}" in cluster.hosts:
            rank += 1
        return rank


def watch(root: Path, options: DiscoverOptions, log: Callable[[str], None]) -> int:
    """Watch the interface until Ctrl-C (or `count` hosts); returns how many were handled."""
    inserter = Inserter(root, options, log)
    cluster = load(root)
    interface = options.interface or _private_interface(cluster)
    stop = _StopFlag()
    try:
        sniffer = Sniffer(interface)
    except PermissionError as exc:
        raise RocksccError(str(exc)) from None
    except OSError as exc:
        raise RocksccError(f"cannot watch DHCP requests on {interface}: {exc.strerror}") from None
    what = (
        f"recording new MACs to {options.record}"
        if options.record
        else f"adding new {inserter.membership} hosts as {inserter.appliance}-{options.rack}-N"
    )
    log(f"insert-ethers: watching DHCP requests on {interface}, {what}; Ctrl-C stops")
    with sniffer, stop:
        while not stop.requested and (options.count is None or inserter.done < options.count):
            request = sniffer.receive(WAIT_S)
            if request is None:
                continue
            result = inserter.handle(request)
            if isinstance(result, Added):
                state = "built" if not result.errors else f"build failed: {result.errors[0]}"
                log(f"{result.name}\t{result.mac}\t{result.ip}\tadded, {state} in {result.seconds:.2f} s")
            elif result:
                log(f"recorded {result}")
    log(f"insert-ethers: {inserter.done} {'recorded' if options.record else 'added'}")
    return inserter.done


def _private_interface(cluster: Cluster) -> str:
    address = cluster.attrs.get("Kickstart_PrivateAddress") or cluster.attrs.get("Kickstart_PrivateKickstartHost")
    if not address:
        raise RocksccError("no interface given and no Kickstart_PrivateAddress: give interface=")
    return netif.interface_for(address, None)


class _Known(Exception):
    """The MAC is a host's already: the transaction ends without writing."""


def _recorded(path: Path) -> set[str]:
    try:
        return {line.split("\t", 1)[0] for line in path.read_text().splitlines() if line.strip()}
    except FileNotFoundError:
        return set()


class _StopFlag:
    """Ctrl-C (or SIGTERM) asks to stop after the host being added; a second Ctrl-C interrupts."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict = {}

    def _handler(self, signum, frame) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> _StopFlag:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
