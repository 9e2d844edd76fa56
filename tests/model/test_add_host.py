"""store.add_host, the path insert-ethers adds hosts through: one transaction writing one host
file, the host checked like any other (against every other host through the index), queued
with other writers."""

from __future__ import annotations

import multiprocessing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.errors import RocksccError
from rockscc.model import Host, Interface, load
from rockscc.model.store import FILENAME, HOSTS_DIR, add_host, transaction


def new_host(name: str, ip: str, mac: str | None, **kw) -> Host:
    return Host(
        name=name,
        membership="Compute",
        interfaces=[Interface(device="eth0", ip=ip, mac=mac, subnet="private", name=name)],
        **kw,
    )


def snapshot(root) -> dict[str, bytes]:
    files = {FILENAME: (root / FILENAME).read_bytes()}
    files |= {f"{HOSTS_DIR}/{p.name}": p.read_bytes() for p in (root / HOSTS_DIR).iterdir()}
    return files


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,15}", fullmatch=True).filter(lambda n: ".." not in n),
    attrs=st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), st.text(max_size=12), max_size=3),
    comment=st.one_of(st.none(), st.text(max_size=20)),
    mac=st.booleans(),
)
def test_an_added_host_is_its_own_file_and_reloads_equal(cluster_dir, rockscc, name, attrs, comment, mac):
    if name in load(cluster_dir).hosts:
        return
    top = (cluster_dir / FILENAME).read_bytes()
    try:
        cluster = add_host(
            cluster_dir,
            lambda c: new_host(
                name, c.next_ip("private"), "52:54:00:12:34:56" if mac else None, attrs=attrs, comment=comment
            ),
        )
    except RocksccError as exc:  # a value that is not one line of printable text: refused, nothing written
        assert not all(v.isprintable() for v in [*attrs.values(), comment or ""]), exc
        assert not (cluster_dir / HOSTS_DIR / f"{name}.toml").exists()
        return
    assert (cluster_dir / FILENAME).read_bytes() == top  # nothing cluster-wide was rewritten
    assert (cluster_dir / HOSTS_DIR / f"{name}.toml").is_file()
    fresh = load(cluster_dir)
    assert fresh.hosts[name] == cluster.hosts[name] and fresh.host_digests() == cluster.host_digests()
    with transaction(cluster_dir) as editing:  # leave the fixture as it was for the next example
        del editing.hosts[name]
    assert not (cluster_dir / HOSTS_DIR / f"{name}.toml").exists()


def test_a_host_is_checked_like_any_other(cluster_dir, rockscc):
    assert rockscc("add host compute-0-0 mac=52:54:00:00:00:01").rc == 0
    before = snapshot(cluster_dir)
    for host, message in (
        (new_host("compute-0-1", "10.1.255.254", None), "IP 10.1.255.254 is already used by host compute-0-0"),
        (new_host("compute-0-1", "10.1.255.200", "52:54:00:00:00:01"), "MAC 52:54:00:00:00:01 is already used"),
        (new_host("compute-0-0", "10.1.255.200", None), 'host "compute-0-0" already exists'),
        (new_host("bad/name", "10.1.255.200", None), "must not contain"),
        (Host(name="x", membership="Nobody"), 'membership "Nobody" is not defined'),
    ):
        with pytest.raises(RocksccError, match=message):
            add_host(cluster_dir, lambda c, host=host: host)
        assert snapshot(cluster_dir) == before  # nothing written


def _add(root, index):
    add_host(root, lambda c: new_host(f"compute-1-{index}", c.next_ip("private"), None))


def test_concurrent_adders_and_editors_all_land(cluster_dir, rockscc):
    context = multiprocessing.get_context("fork")
    procs = [context.Process(target=_add, args=(cluster_dir, i)) for i in range(8)]
    for proc in procs:
        proc.start()
    for i in range(4):
        assert rockscc(f"add host compute-2-{i}").rc == 0
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    cluster = load(cluster_dir)
    cluster.validate()  # every address distinct
    assert {f"compute-1-{i}" for i in range(8)} | {f"compute-2-{i}" for i in range(4)} <= set(cluster.hosts)
