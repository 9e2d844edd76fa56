"""Attacks on the facts base (pipeline/hostfacts.py): a build where the changed hosts' facts are
those recorded when the network spec was last made takes the network files as up to date without
making their spec. Random edits of host records (name, address, MAC, attributes, interfaces,
PXE actions, hosts added and removed), of a node file and graph, and hand edits of host files with
their size and mtime put back, each followed by an incremental build compared with a build from
scratch (tests/engine/differential.py). Checked to fail: `_compared` without the MAC, without
the iPXE flag, without the host's boot files."""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.pipeline import hostfacts
from tests.engine.differential import Description

EXAMPLES = int(os.environ.get("ROCKSCC_PROPERTY_EXAMPLES", "6"))  # as test_incremental_property.py
HOSTS = ["compute-0-0", "compute-0-1", "nas-0-0"]
EDITS = ["attr", "ip", "mac", "rename", "add eth1", "remove eth1", "add host", "remove host"]
EDITS += ["pxeaction", "pxe_ipxe", "node file", "hand mac", "hand attr"]


@pytest.fixture
def taken(monkeypatch) -> list[bool]:
    """Whether each build's facts base held (the shortcut was open to the network job)."""
    seen: list[bool] = []
    real = hostfacts.settled_base

    def spy(*args):
        base = real(*args)
        seen.append(base is not None)
        return base

    monkeypatch.setattr(hostfacts, "settled_base", spy)
    return seen


def cluster(base) -> Description:
    desc = Description(base)
    for n, name in enumerate(HOSTS):
        desc.must("add", "host", name)
        desc.must("set", "host", "interface", name, "eth0", f"mac=52:54:00:00:00:1{n}")
    desc.check()
    return desc


def edit(desc: Description, kind: str, host: str, n: int) -> None:
    """One edit (refused ones, e.g. removing a missing interface, are edits too: nothing changes)."""
    hosts_dir = desc.root / "hosts"
    if kind == "attr":
        desc.cli("set", "host", "attr", host, "Kickstart_Timezone", ["UTC", "Europe/Oslo", "Asia/Tokyo"][n % 3])
    elif kind == "ip":
        desc.cli("set", "host", "interface", host, "eth0", f"ip=10.1.200.{100 + n}")
    elif kind == "mac":
        desc.cli("set", "host", "interface", host, "eth0", f"mac=52:54:00:00:01:0{n}")
    elif kind == "rename":
        desc.cli("set", "host", "name", host, f"{host.split('-')[0]}-9-{n}")
    elif kind == "add eth1":
        desc.cli("add", "host", "interface", host, "eth1", "subnet=public", "ip=auto")
    elif kind == "remove eth1":
        desc.cli("remove", "host", "interface", host, "eth1")
    elif kind == "add host":
        desc.cli("add", "host", f"compute-1-{n}")
    elif kind == "remove host":
        desc.cli("remove", "host", host)
    elif kind == "pxe_ipxe":  # a host with a MAC: its dnsmasq line carries the flag
        desc.cli("set", "host", "attr", host, "pxe_ipxe", ["yes", "no"][n % 2])
    elif kind == "pxeaction":
        desc.cli("add", "host", "pxeaction", host, "action=install", f"args=append ks initrd=initrd{n}.img")
    elif kind == "node file":
        desc.write("nodes/site-a.xml", f"<kickstart>\n<post>echo site {n}</post>\n</kickstart>\n")
        desc.write("graphs/default/site.xml", '<graph>\n<edge from="compute" to="site-a"/>\n</graph>\n')
    elif kind in ("hand mac", "hand attr") and (hosts_dir / f"{host}.toml").exists():
        hand_edit(hosts_dir / f"{host}.toml", kind, n)


def hand_edit(path, kind: str, n: int) -> None:
    """In place, same size, mtime put back: only the ctime tells (model/store.py)."""
    before, text = path.stat(), path.read_text()
    if kind == "hand mac":
        # the fifth octet: the last two digits are the host's own (no MAC clash)
        text = re.sub(r'mac = "52:54:00:00:0.:', f'mac = "52:54:00:00:0{n}:', text, count=1)
    elif 'Kickstart_Timezone = "' in text:
        text = re.sub(r'Kickstart_Timezone = "[^"]*"', f'Kickstart_Timezone = "Etc/GMT+{n}"', text)
    else:
        text += f'\n[attrs]\nKickstart_Timezone = "Etc/GMT+{n}"\n'
    with open(path, "r+") as f:
        f.write(text)
        f.truncate()
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_an_attribute_edit_takes_the_base_and_a_mac_edit_does_not(tmp_path, taken):
    desc = cluster(tmp_path)
    taken.clear()
    edit(desc, "attr", "compute-0-0", 1)
    build = desc.check()
    assert taken[0] is True  # the incremental build's lookup (the one from scratch has no base)
    assert "net:cluster" not in build.rebuilt
    taken.clear()
    edit(desc, "mac", "compute-0-1", 7)
    build = desc.check()
    assert taken[0] is False
    assert "net:cluster" in build.rebuilt
    taken.clear()
    hand_edit(desc.root / "hosts" / "compute-0-1.toml", "hand mac", 3)  # size and mtime as they were
    build = desc.check()
    assert taken[0] is False
    assert "net:cluster" in build.rebuilt
    taken.clear()
    edit(desc, "pxe_ipxe", "compute-0-0", 1)
    build = desc.check()
    assert "net:cluster" in build.rebuilt
    assert taken[0] is False
    taken.clear()
    edit(desc, "pxeaction", "compute-0-0", 2)  # a boot file more: the TFTP tree's spec changes
    build = desc.check()
    assert "initrd2.img" in build.result.err  # the tree lacks it: said when the tree's spec names it
    assert "tftp:loaders" in build.rebuilt
    assert taken[0] is False


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.tuples(st.sampled_from(EDITS), st.sampled_from(HOSTS), st.integers(1, 4)),
        min_size=1,
        max_size=5,
    )
)
def test_edits_of_hosts_build_as_from_scratch(tmp_path_factory, edits):
    desc = cluster(tmp_path_factory.mktemp("base"))
    for kind, host, n in edits:
        edit(desc, kind, host, n)
        desc.check()
