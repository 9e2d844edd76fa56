"""Generate a cluster made the default way, for benchmarks: `rockscc init` (the built-in nodes
and graph, the xen roll, evals on), then hosts added as a user adds them.

    python bench/gen_default.py OUT N

The hosts are written as a load script (`add host compute-R-K`, the address allocated;
`set host interface compute-R-K eth0 mac=...`) and run with `rockscc load`, in one transaction.
`rockscc load` of a large script is slow on some versions (issue 17: quadratic); beyond
LOAD_LIMIT lines' worth of hosts the first LOAD_LIMIT are loaded so, and the rest are made
in this process from the first loaded host (its very Host, renamed, readdressed: what
`add host` and `set host interface` would have made), checked against the CLI-made ones.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROCKSCC = [sys.executable, "-m", "rockscc"]
LOAD_LIMIT = int(os.environ.get("BENCH_LOAD_LIMIT", "1000"))


def host_name(i: int) -> str:
    return f"compute-{i // 100}-{i % 100}"


def mac(i: int) -> str:
    return f"00:50:56:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"


def load_script(first: int, count: int) -> str:
    lines = []
    for i in range(first, first + count):
        lines.append(f"rockscc add host {host_name(i)}")
        lines.append(f"rockscc set host interface {host_name(i)} eth0 mac={mac(i)}")
    return "\n".join(lines) + "\n"


def run(root: Path, *argv: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([*ROCKSCC, *argv], cwd=root, env=env, check=True, stdout=subprocess.DEVNULL)


def generate(root: Path, count: int) -> None:
    if root.exists():
        shutil.rmtree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    run(root.parent, "init", root.name, "password=bench")
    loaded = min(count, LOAD_LIMIT)
    script = root / "hosts.load"
    script.write_text(load_script(0, loaded))
    run(root, "load", str(script))
    if count > loaded:
        _extend(root, loaded, count)


def _extend(root: Path, loaded: int, count: int) -> None:
    """Hosts loaded..count-1, made as the loaded ones were: the first loaded host with another
    name, rack, rank, the next free address and its own MAC."""
    from rockscc.model.store import transaction

    with transaction(root) as cluster:
        template = cluster.hosts[host_name(0)]
        addresses = _free_addresses(cluster, template.interfaces[0].subnet)
        for i in range(loaded, count):
            name = host_name(i)
            ip = next(addresses)
            iface = dataclasses.replace(template.interfaces[0], ip=ip, mac=mac(i), name=name)
            cluster.hosts[name] = dataclasses.replace(template, name=name, rack=i // 100, rank=i % 100,
                                                      interfaces=[iface])
        _check_like_cli(cluster, loaded)


def _free_addresses(cluster, network: str):
    """The addresses `add host` would allocate one after the other (alloc.next_free_ip: down
    from broadcast-1, skipping used and DHCP discovery addresses), in one pass instead of one
    scan of every address per host."""
    import ipaddress

    from rockscc.model.alloc import ip_int, network_of
    from rockscc.model.services import discovery_addresses

    net = network_of(cluster.networks[network])
    taken = {ip_int(ip) for ip in cluster.used_ips() | discovery_addresses(cluster)}
    for value in range(int(net.broadcast_address) - 1, int(net.network_address), -1):
        if value not in taken:
            yield str(ipaddress.IPv4Address(value))


def _check_like_cli(cluster, loaded: int) -> None:
    """The last CLI-made host, remade the way _extend makes hosts, must equal what the CLI made."""
    if loaded < 2:
        return
    made, first = cluster.hosts[host_name(loaded - 1)], cluster.hosts[host_name(0)]
    iface = dataclasses.replace(first.interfaces[0], ip=made.interfaces[0].ip, mac=mac(loaded - 1),
                                name=made.name)
    remade = dataclasses.replace(first, name=made.name, rack=made.rack, rank=made.rank, interfaces=[iface])
    if remade != made:
        sys.exit(f"gen_default: hosts made in-process would differ from the CLI's:\n{remade}\n{made}")


if __name__ == "__main__":  # gen_default.py OUT N
    generate(Path(sys.argv[1]).resolve(), int(sys.argv[2]))
    print(f"generated {sys.argv[2]} hosts in {sys.argv[1]}")
