"""Attacks on the short cuts of an incremental build's fixed cost (issue 17/18): hosts whose stamp
is the recorded one are not planned at all (engine/make.py: settled hosts), the cluster-wide specs
read each host's facts from a cache kept by record digest (pipeline/hostfacts.py), and the host
index trusts a host file whose signature it recorded (model/store.py; its racily recent rule is
attacked in tests/model/test_store_lazy.py). Each test changes
something the short cuts could miss and checks the incremental build against a build from
scratch (tests/engine/differential.py)."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

from rockscc.engine.manifest import NAME as MANIFEST
from rockscc.memo import DIRNAME, FILENAME
from rockscc.model import load
from tests.engine.differential import Description


@pytest.fixture
def desc(tmp_path):
    d = Description(tmp_path)
    for name in ("compute-0-0", "compute-0-1", "vm-container-0-0"):
        d.must("add", "host", name)
    d.must("add", "host", "vm", "vm-container-0-0", "membership=Compute", "disksize=1")
    d.check("--eval=no")
    return d


def vm_name(desc) -> str:
    return next(name for name, host in load(desc.root).hosts.items() if host.vm is not None)


def settled_build(desc):
    """A build that finds every host settled (nothing changed since the last one)."""
    build = desc.check("--eval=no")
    assert build.rebuilt == {}, build.rebuilt
    return build


def rewrite_in_place(path, old: str, new: str) -> None:
    """Replace `old` by `new` (same length) in the file itself (same inode), then put its mtime back."""
    assert len(old) == len(new)
    st = path.stat()
    text = path.read_text()
    assert old in text
    with open(path, "r+") as f:  # not a new file: the inode stays
        f.write(text.replace(old, new))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)


def test_a_host_file_edited_by_hand_with_its_size_and_mtime_put_back(desc):
    desc.must("set", "host", "attr", "compute-0-0", "Kickstart_Timezone", "Europe/Oslo")
    desc.check("--eval=no")
    time.sleep(2.1)  # no longer racily recent: only the ctime tells
    settled_build(desc)
    rewrite_in_place(desc.root / "hosts/compute-0-0.toml", "Europe/Oslo", "Europe/Rome")
    build = desc.check("--eval=no")
    assert "profile:compute-0-0" in build.rebuilt
    assert "Europe/Rome" in (desc.root / "build/kickstart/compute-0-0.ks").read_text()


def test_a_host_file_replaced_by_hand_with_its_size_and_mtime_put_back(desc):
    """A new file (another inode) of the same size and mtime renamed over a host file: the
    build's narrow check of every host file (store.HostFiles.verify_all) sees it."""
    desc.must("set", "host", "attr", "compute-0-0", "Kickstart_Timezone", "Europe/Oslo")
    desc.check("--eval=no")
    time.sleep(0.1)  # no longer racily recent
    settled_build(desc)
    path = desc.root / "hosts/compute-0-0.toml"
    st = path.stat()
    other = path.with_name(".compute-0-0.new")
    other.write_text(path.read_text().replace("Europe/Oslo", "Europe/Rome"))
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.rename(other, path)
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    build = desc.check("--eval=no")
    assert "profile:compute-0-0" in build.rebuilt
    assert "Europe/Rome" in (desc.root / "build/kickstart/compute-0-0.ks").read_text()
    settled_build(desc)


def test_a_vm_container_changed_while_the_vm_record_did_not(desc):
    vm = vm_name(desc)
    settled_build(desc)
    desc.must("set", "host", "attr", "vm-container-0-0", "vm_bridge", "br7")
    build = desc.check("--eval=no")
    assert f"vm:{vm}" in build.rebuilt
    assert "br7" in (desc.root / f"build/libvirt/{vm}.xml").read_text()
    settled_build(desc)


def test_a_host_removed_and_added_again_with_the_same_record(desc):
    text = (desc.root / "hosts/compute-0-1.toml").read_text()
    desc.must("remove", "host", "compute-0-1")
    desc.check("--eval=no")
    assert not (desc.root / "build/kickstart/compute-0-1.ks").exists()
    desc.write("hosts/compute-0-1.toml", text)  # back by hand: the same record, the same host stamp
    build = desc.check("--eval=no")
    assert "profile:compute-0-1" in build.rebuilt
    # removed and back between two builds: its files were never removed
    desc.must("remove", "host", "compute-0-1")
    desc.write("hosts/compute-0-1.toml", text)
    settled_build(desc)


def test_a_host_removed_then_another_built_alone_then_added_again(desc):
    """A build of a few hosts leaves the others' records and stamps: the host back with the same
    record finds them, and its files, as they were."""
    text = (desc.root / "hosts/compute-0-1.toml").read_text()
    desc.must("remove", "host", "compute-0-1")
    desc.must("build", "--eval=no", "compute-0-0")
    desc.write("hosts/compute-0-1.toml", text)
    settled_build(desc)
    desc.must("remove", "host", "compute-0-1")
    desc.must("build", "--eval=no", "compute-0-0")
    desc.check("--eval=no")  # the full build tidies it now
    assert not (desc.root / "build/kickstart/compute-0-1.ks").exists()


@pytest.mark.parametrize("how", ["deleted", "edited"])
def test_an_output_of_a_settled_host_changed(desc, how):
    settled_build(desc)
    path = desc.root / "build/kickstart/compute-0-0.ks"
    if how == "deleted":
        path.unlink()
    else:
        path.write_text(path.read_text().replace("%post", "%POST", 1))
    build = desc.build("--eval=no")
    assert build.rebuilt == {"profile:compute-0-0": "an output is missing or was changed outside rockscc"}
    settled_build(desc)  # and it is what a build from scratch writes


@pytest.mark.parametrize("damage", ["deleted", "garbage", "no hosts table", "stamps planted"])
def test_the_build_log_damaged(desc, damage):
    settled_build(desc)
    log = desc.root / "build" / MANIFEST
    if damage == "deleted":
        log.unlink()
    elif damage == "garbage":
        log.write_bytes(b"not a database" * 100)
    else:
        with sqlite3.connect(log) as db:
            if damage == "no hosts table":  # a log written before host stamps existed
                db.execute("DROP TABLE hosts")
            else:  # a host stamp that matches while the host changed: only stamps computed now count
                db.execute("UPDATE hosts SET stamp = 'x'")
        db.close()
    desc.must("set", "host", "attr", "compute-0-0", "Kickstart_Timezone", "Asia/Tokyo")
    desc.check("--eval=no")
    assert "Asia/Tokyo" in (desc.root / "build/kickstart/compute-0-0.ks").read_text()
    settled_build(desc)


def test_the_memo_damaged(desc):
    """The host facts the network files are made from are kept in the memo: garbage is recomputed."""
    memo = desc.root / "build" / DIRNAME / FILENAME
    with sqlite3.connect(memo) as db:
        db.execute("UPDATE memo SET value = x'00ff' WHERE ns LIKE 'host-%'")
    db.close()
    desc.must("set", "host", "interface", "compute-0-0", "eth0", "mac=52:54:00:aa:bb:cc")
    desc.check("--eval=no")
    assert "52:54:00:aa:bb:cc" in (desc.root / "build/net/dhcpd.conf").read_text()


def test_facts_follow_every_level_of_an_attribute(desc):
    """The network files read pxe_ipxe per host: set at the host's own level (its record), then
    globally (the description minus its hosts: every cached fact is made again)."""
    desc.must("set", "host", "attr", "compute-0-0", "pxe_ipxe", "no")
    desc.check("--eval=no")
    desc.must("set", "attr", "pxe_ipxe", "no")
    desc.check("--eval=no")
    desc.must("remove", "host", "attr", "compute-0-0", "pxe_ipxe")
    desc.must("set", "attr", "pxe_ipxe", "yes")
    desc.check("--eval=no")


def test_a_host_pxe_action_names_a_new_boot_file(desc):
    """The TFTP tree's spec reads the files every host's own actions boot, from the facts cache."""
    desc.must(
        "add",
        "host",
        "pxeaction",
        "compute-0-1",
        "action=install",
        "command=kernel vmlinuz-x",
        "args=append ks initrd=x.img",
    )
    build = desc.check("--eval=no")
    assert "tftp:loaders" in build.rebuilt
    desc.must("remove", "host", "pxeaction", "compute-0-1", "action=install")
    desc.check("--eval=no")


def test_a_kickstart_that_reads_the_whole_description_is_never_settled(desc):
    """An <eval> that calls rocks reads every host: its host is checked exactly on every build."""
    desc.write(
        "nodes/extend-compute.xml",
        '<kickstart><post><eval shell="sh">rocks list host | wc -l</eval></post></kickstart>\n',
    )
    desc.check()
    desc.must("add", "host", "compute-0-2")
    build = desc.check()
    assert "profile:compute-0-0" in build.rebuilt


def test_a_build_gives_its_frozen_heap_back(desc):
    """A build exempts what it made from the cyclic collector while it runs (engine/make.py:
    _settle_heap) and gives it back when it ends: a finished build's session, a cycle (its stamps
    hold it), is collected, so a --watch process does not keep every round's description."""
    import gc
    import weakref

    from rockscc.engine.make import BuildOptions
    from rockscc.pipeline import CompileOptions, Session

    desc.must("set", "host", "attr", "compute-0-0", "Kickstart_Timezone", "Asia/Tokyo")
    session = Session(load(desc.root), CompileOptions(evals=False))
    report = session.build(BuildOptions())
    assert not report.errors and ("profile:compute-0-0", "") in report.rebuilt
    assert gc.get_freeze_count() == 0
    gone = weakref.ref(session)
    del session, report
    gc.collect()
    assert gone() is None


def facts_entry(desc) -> bytes:
    with sqlite3.connect(desc.root / "build" / DIRNAME / FILENAME) as db:
        (value,) = db.execute("SELECT value FROM memo WHERE ns = 'host-facts-2'").fetchone()
    db.close()
    return value


@pytest.mark.parametrize("kept", [32, 0])
def test_facts_of_a_few_edited_hosts_are_made_again_not_rewritten(desc, monkeypatch, kept):
    """After an edit of a host or two the facts entry is not rewritten (pipeline/hostfacts.py:
    RECOMPUTED_KEPT): the edited hosts' facts are made from their records on every build (their
    lines' digests are not their records'), and the network files stay exact. With kept=0, the
    entry is rewritten each time, as before."""
    from rockscc.pipeline import hostfacts

    monkeypatch.setattr(hostfacts, "RECOMPUTED_KEPT", kept)
    entry = facts_entry(desc)
    for mac in ("52:54:00:aa:bb:01", "52:54:00:aa:bb:02"):
        desc.must("set", "host", "interface", "compute-0-0", "eth0", f"mac={mac}")
        desc.check("--eval=no")
        assert mac in (desc.root / "build/net/dhcpd.conf").read_text()
        assert (facts_entry(desc) == entry) == (kept > 0)
    desc.must("set", "host", "interface", "compute-0-1", "eth0", "mac=52:54:00:aa:bb:03")
    desc.must("remove", "host", "compute-0-0")
    desc.must("add", "host", "compute-0-0")
    desc.check("--eval=no")
    assert "52:54:00:aa:bb:03" in (desc.root / "build/net/dhcpd.conf").read_text()
