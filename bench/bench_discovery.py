"""Benchmark discovery: a new machine's DHCP request to all of its artifacts on disk, at N hosts.
Run by hand; prints figures, asserts nothing.

    .venv/bin/python bench/bench_discovery.py 10000

Generates the cluster (bench/gen_cluster.py, the Rocks 5.0 corpus graph, every host running a
partition program), builds it in full once, then hands insert-ethers' `Inserter` one DHCP
request per new MAC, in this process, as the long-running `rockscc insert-ethers` does. Each
request is timed from its arrival to the build's end: the new host's kickstart, partition plan
and boot files, the network files (hosts, dhcpd.conf), the service configs (dnsmasq, zones,
nginx) and their checks by dhcpd, dnsmasq, named-checkzone and nginx, all on disk.

Phases: the transaction (lock, load, add the host, validate, atomic save of cluster.toml), the
build (plan and up-to-date checks, the host's compile, the cluster-wide files), and within the
build the rendering of the cluster-wide files and their checks. Median of REPEAT requests after
a first one (which also imports the compiler and starts pykickstart).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from gen_cluster import generate  # noqa: E402

REPEAT = 7
phases: dict[str, float] = defaultdict(float)


def timed(module, name: str, label: str) -> None:
    """Wrap module.name so that its time adds up under `label`."""
    original = getattr(module, name)

    def wrapper(*args, **kw):
        start = time.perf_counter()
        try:
            return original(*args, **kw)
        finally:
            phases[label] += time.perf_counter() - start

    setattr(module, name, wrapper)


def instrument() -> None:
    from rockscc.backends import dns_zones, dnsmasq_conf, netfiles, nginx_conf, service_check
    from rockscc.pipeline import Session
    from rockscc.provision import discover

    timed(discover, "add_host", "add host (lock, load, check, append, cache)")
    timed(Session, "build", "build")
    timed(service_check, "check", "  config checks (dhcpd, dnsmasq, named, nginx)")
    timed(netfiles, "render_netfiles", "  render hosts, dhcpd.conf")
    timed(dnsmasq_conf, "render_hosts", "  render dnsmasq hosts")
    timed(dns_zones, "render_zones", "  render zones")
    timed(nginx_conf, "render_nginx", "  render nginx")


def _cpu() -> float:
    """CPU seconds of this process and of the children it waited for (the config checkers): on a
    shared machine the wall clock says how busy the others are, this what the request costs."""
    import resource

    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def bench(size: int) -> None:
    from rockscc.engine.make import BuildOptions
    from rockscc.model import load
    from rockscc.pipeline import CompileOptions, Session
    from rockscc.provision.dhcpsniff import DhcpRequest
    from rockscc.provision.discover import DiscoverOptions, Inserter

    root = Path(os.environ.get("BENCH_DIR", HERE / "out")) / f"discover{size}"
    if not (os.environ.get("REUSE") and (root / "build" / "net" / "dnsmasq.hosts").is_file()):
        generate(root, size)
        start = time.perf_counter()
        report = Session(load(root), CompileOptions(evals=False)).build(BuildOptions())
        if report.errors:
            sys.exit(f"full build failed: {report.errors[:3]}")
        print(f"\n== {size} hosts: full build {time.perf_counter() - start:.1f} s ({report.jobs} jobs)")
    else:
        print(f"\n== {size} hosts (REUSE: the cluster and build of an earlier run, grown by its discoveries)")
    instrument()
    inserter = Inserter(
        root,
        DiscoverOptions(appliance="Compute", rack=90 + int(time.time()) % 9, compile=CompileOptions(evals=False)),
        lambda line: None,
    )
    totals, cpus, runs = [], [], []
    for index in range(REPEAT + 1):
        phases.clear()
        mac = f"52:54:02:{os.getpid() & 255:02x}:{int(time.time()) & 255:02x}:{index:02x}"
        start, cpu = time.perf_counter(), _cpu()
        added = inserter.handle(DhcpRequest(mac=mac, kind="DISCOVER", vendor_class="PXEClient:Arch:00000"))
        seconds, cpu = time.perf_counter() - start, _cpu() - cpu
        if added is None or added.errors:
            sys.exit(f"discovery failed: {added}")
        missing = [
            p
            for p in (f"kickstart/{added.name}.ks", f"tftp/ipxe/{added.name}.ipxe", "net/dnsmasq.hosts")
            if not (root / "build" / p).is_file()
        ]
        if missing or added.name not in (root / "build" / "net" / "dnsmasq.hosts").read_text():
            sys.exit(f"{added.name}: artifacts missing after discovery: {missing}")
        if index == 0:
            print(f"first request       {seconds:6.3f} s   ({added.name}: imports, pykickstart start-up)")
            continue
        totals.append(seconds)
        cpus.append(cpu)
        runs.append(dict(phases))
    print(
        f"request to disk     {statistics.median(totals):6.3f} s   median of {REPEAT} "
        f"(min {min(totals):.3f}, max {max(totals):.3f}); CPU {statistics.median(cpus):.3f} s "
        "(rockscc and the checkers it ran)"
    )
    for label in runs[0]:
        print(f"{label:<46}{statistics.median(r[label] for r in runs):6.3f} s")


if __name__ == "__main__":
    import gc

    gc.set_threshold(100_000, 50, 50)  # as the rockscc command line runs (rockscc/cli/main.py entry)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}"
    )
    for arg in sys.argv[1:] or ["1000"]:
        bench(int(arg))
