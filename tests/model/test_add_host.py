"""store.add_host, the fast path insert-ethers adds hosts through: the file it writes is exactly
what a full save writes, the host is checked like any other, and it queues with transactions."""

from __future__ import annotations

import multiprocessing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.errors import RocksccError
from rockscc.model import Host, Interface, load
from rockscc.model.store import FILENAME, add_host, render, transaction


def new_host(name: str, ip: str, mac: str | None, **kw) -> Host:
    return Host(name=name, membership="Compute", interfaces=[Interface(device="eth0", ip=ip, mac=mac,
                                                                       subnet="private", name=name)], **kw)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,15}", fullmatch=True).filter(lambda n: ".." not in n),
       attrs=st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), st.text(max_size=12), max_size=3),
       comment=st.one_of(st.none(), st.text(max_size=20)), mac=st.booleans())
def test_the_appended_file_is_what_a_full_save_writes(cluster_dir, rockscc, name, attrs, comment, mac):
    if name in load(cluster_dir).hosts:
        return
    before = (cluster_dir / FILENAME).read_bytes()
    try:
        cluster = add_host(cluster_dir, lambda c: new_host(name, c.next_ip("private"), "52:54:00:12:34:56" if mac else None,
                                                           attrs=attrs, comment=comment))
    except RocksccError as exc:  # a value that is not one line of printable text: refused, nothing written
        assert not all(v.isprintable() for v in [*attrs.values(), comment or ""]), exc
        assert (cluster_dir / FILENAME).read_bytes() == before
        return
    text = (cluster_dir / FILENAME).read_text()
    fresh = load(cluster_dir)
    assert text == render(fresh)  # byte for byte a full save
    assert fresh.hosts[name] == cluster.hosts[name] and fresh.host_digests() == cluster.host_digests()
    with transaction(cluster_dir) as editing:  # leave the fixture as it was for the next example
        del editing.hosts[name]


def test_a_host_is_checked_like_any_other(cluster_dir, rockscc):
    assert rockscc("add host compute-0-0 mac=52:54:00:00:00:01").rc == 0
    before = (cluster_dir / FILENAME).read_bytes()
    for host, message in ((new_host("compute-0-1", "10.1.255.254", None), "IP 10.1.255.254 is already used by host compute-0-0"),
                          (new_host("compute-0-1", "10.1.255.200", "52:54:00:00:00:01"), "MAC 52:54:00:00:00:01 is already used"),
                          (new_host("compute-0-0", "10.1.255.200", None), 'host "compute-0-0" already exists'),
                          (new_host("bad/name", "10.1.255.200", None), "must not contain"),
                          (Host(name="x", membership="Nobody"), 'membership "Nobody" is not defined')):
        with pytest.raises(RocksccError, match=message):
            add_host(cluster_dir, lambda c, host=host: host)
        assert (cluster_dir / FILENAME).read_bytes() == before  # nothing written


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


def test_the_previous_description_is_used_again_only_while_nobody_else_wrote(cluster_dir, rockscc):
    first = add_host(cluster_dir, lambda c: new_host("compute-3-0", c.next_ip("private"), None))
    second = add_host(cluster_dir, lambda c: new_host("compute-3-1", c.next_ip("private"), None), first)
    assert second is first and "compute-3-0" in second.hosts  # nothing else wrote: no load
    assert rockscc("set attr Kickstart_Timezone UTC").rc == 0  # somebody else writes
    third = add_host(cluster_dir, lambda c: new_host("compute-3-2", c.next_ip("private"), None), second)
    assert third is not second and third.attrs["Kickstart_Timezone"] == "UTC"
    assert (cluster_dir / FILENAME).read_text() == render(load(cluster_dir))
    assert "Kickstart_Timezone" in load(cluster_dir).attrs and "compute-3-2" in load(cluster_dir).hosts
