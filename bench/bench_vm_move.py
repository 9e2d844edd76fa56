"""Benchmark moving VMs. Run by hand (as root for --hypervisors); prints figures, asserts nothing.

    .venv/bin/python bench/bench_vm_move.py                 # sparse verified copies, local files
    .venv/bin/python bench/bench_vm_move.py --hypervisors   # plus moves between two real libvirtd + QEMU

Copies: a 36 GB sparse image holding N MiB of data, copied and verified by rockscc
(runtime/storage.py: files here, or libvirt streams between the test hypervisors) against
`cp --sparse=always` + `sync` (no verification); seconds (median of 5) and allocated MiB of the copy.
Moves: the test guest (tests/vm/guest.py) moved offline between the two hypervisors of the tests
(tests/vm/hypervisors.py), each step's seconds (median of 3), and live migrations.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rockscc.runtime.storage import LibvirtStore, LocalStore, copy_verified  # noqa: E402

GB = 10**9
RUNS = 5


def sparse_image(path: Path, data_mib: int) -> None:
    """36 GB apparent, data_mib of random data in 1 MiB pieces spread over it."""
    with open(path, "wb") as fh:
        fh.truncate(36 * GB)
        for i in range(data_mib):
            fh.seek(i * (36 * GB // max(data_mib, 1)))
            fh.write(os.urandom(1 << 20))


def median_time(fn, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_local(work: Path) -> None:
    print("copy of a 36 GB sparse image, local files (seconds, median of 5; MiB allocated)")
    print(f"{'data MiB':>9} {'rockscc s':>10} {'cp+sync s':>10} {'src MiB':>8} {'copy MiB':>9}")
    store = LocalStore("here")
    for data_mib in (16, 256, 1024):
        src, dst = work / "src.img", work / "dst.img"
        sparse_image(src, data_mib)
        ours = median_time(lambda src=src, dst=dst: copy_verified(store, str(src), store, str(dst)))
        allocated = dst.stat().st_blocks * 512 >> 20
        plain = median_time(
            lambda src=src, dst=dst: subprocess.run(
                f"cp --sparse=always {src} {dst} && sync {dst}", shell=True, check=True
            )
        )
        print(f"{data_mib:>9} {ours:>10.2f} {plain:>10.2f} {src.stat().st_blocks * 512 >> 20:>8} {allocated:>9}")
        src.unlink()
        dst.unlink()


def bench_hypervisors(work: Path) -> None:
    from rockscc.runtime import move
    from rockscc.runtime.connection import connect_uri
    from tests.conftest import run_cli
    from tests.vm import guest
    from tests.vm.hypervisors import HypervisorPair
    from tests.vm.site import Site, beats

    pair = HypervisorPair(work / "hv")
    try:
        pair.start()
        root = work / "cluster"
        run_cli("init", str(root), "password=x")
        site = Site(root, pair)
        site.setup()
        image = work / "guest.img"
        guest.build_disk(image, work / "guest")

        print("\nstream copy between the two hypervisors (libvirt sparse streams, verified), 36 GB sparse image")
        print(f"{'data MiB':>9} {'seconds':>8} {'copy MiB':>9}")
        a = LibvirtStore(lambda: connect_uri(pair.a.uri, "a"), "a")
        b = LibvirtStore(lambda: connect_uri(pair.b.uri, "b"), "b")
        for data_mib in (16, 256):
            src = pair.a.host_path("/var/lib/libvirt/images/c00/bench.img")
            sparse_image(src, data_mib)

            def once():
                b.remove("/var/lib/libvirt/images/c10/bench.img")
                copy_verified(a, "/var/lib/libvirt/images/c00/bench.img", b, "/var/lib/libvirt/images/c10/bench.img")

            seconds = median_time(once, 3)
            copy = pair.b.host_path("/var/lib/libvirt/images/c10/bench.img")
            print(f"{data_mib:>9} {seconds:>8.2f} {copy.stat().st_blocks * 512 >> 20:>9}")
            src.unlink()

        vm = site.new_vm(image)
        site.ok("start", "host", "vm", vm)
        start = time.perf_counter()
        site.wait_console(vm, "vm-container-0-0", lambda lines: beats(lines))
        print(f"\ntest guest: boot to its first heartbeat {time.perf_counter() - start:.1f} s")

        marks: list[tuple[str, float]] = []
        move.observers.append(
            lambda step, info: marks.append((step, time.perf_counter())) if step != "copying" else None
        )
        phases: dict[str, list[float]] = {}
        totals, lives = [], []
        here, there = "vm-container-0-0", "vm-container-1-0"
        for _ in range(3):
            marks.clear()
            start = time.perf_counter()
            site.ok("move", "host", "vm", vm, there)
            end = time.perf_counter()
            totals.append(end - start)
            stamps = [("plan", start), *marks, ("end", end)]
            for (step, at), (_, after) in zip(stamps, stamps[1:]):
                phases.setdefault(step, []).append(after - at)
            here, there = there, here
            start = time.perf_counter()
            site.ok("move", "host", "vm", vm, there, "live=yes")
            lives.append(time.perf_counter() - start)
            here, there = there, here
        print("offline move of the test guest (96 MiB RAM, 36 GB disk with 16 MiB of data), seconds, median of 3")
        for step, values in phases.items():
            print(f"  {step:<11} {statistics.median(values):6.2f}")
        print(f"  {'total':<11} {statistics.median(totals):6.2f}")
        print(f"live migration (memory and disk over the veth), median of 3: {statistics.median(lives):.2f} s")
    finally:
        pair.stop()


def main() -> None:
    print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        bench_local(Path(tmp))
        if "--hypervisors" in sys.argv:
            bench_hypervisors(Path(tmp))


if __name__ == "__main__":
    main()
