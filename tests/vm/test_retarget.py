"""A running domain's XML rewritten for another container (rockscc/runtime/retarget.py), on XML
libvirt itself produced: what belongs to the container changes, what the saved state or the
migration stream depends on (UUID, machine, device addresses, models) does not, and the result is
valid for libvirt's schema."""

from __future__ import annotations

import copy
import shutil
import subprocess

import pytest
from lxml import etree

from rockscc.backends.libvirt_xml import domain_xml
from rockscc.errors import RocksccError
from rockscc.runtime.retarget import disk_sources, macs, retarget
from tests.vm.test_domain_xml import BASE

SPEC = BASE | {
    "hypervisor": "kvm",
    "virt_type": "hvm",
    "bridge": "br{index}",
    "serial_log": "/var/log/c0/{name}.log",
    "disks": [
        {
            "type": "file",
            "path": "/state/partition1/xen/disks/compute-0-0-0.hda",
            "device": "hda",
            "mode": "w",
            "size": 36,
        },
        {"type": "phy", "path": "/dev/vg0/data", "device": "hdb", "mode": "r", "size": 10},
    ],
}


def target_spec() -> dict:
    spec = copy.deepcopy(SPEC)
    spec["disks"][0]["path"] = "/export/vm/compute-0-0-0.hda"
    return spec | {"bridge": "virbr{index}", "serial_log": "/var/log/c1/{name}.log", "network": "bridge"}


@pytest.fixture
def running():
    """The domain as libvirt reports it once defined (the test driver: UUID, addresses, defaults)."""
    import libvirt

    conn = libvirt.open("test:///default")
    xml = domain_xml(SPEC, "boot").replace('<domain type="kvm">', '<domain type="test">')
    dom = conn.defineXML(xml)
    yield dom.XMLDesc(0)
    dom.undefine()


def test_container_parts_change_and_abi_parts_do_not(running, tmp_path):
    out = retarget(running, domain_xml(target_spec(), "boot"), "compute-0-0-0")
    assert disk_sources(out) == {"hda": "/export/vm/compute-0-0-0.hda", "hdb": "/dev/vg0/data"}
    assert macs(out) == macs(running)
    new, old = etree.fromstring(out.encode()), etree.fromstring(running.encode())
    assert [s.get("bridge") for s in new.iterfind("devices/interface/source")] == ["virbr0", "virbr1"]
    assert {s.get("path") for s in new.iterfind("devices/*/source[@path]")} == {"/var/log/c1/compute-0-0-0.log"}
    assert new.findtext("uuid") == old.findtext("uuid") and new.findtext("uuid")
    for path in ("os/type", "devices/disk/target", "devices/interface/mac", "devices/disk/driver"):
        assert [etree.tostring(e) for e in new.iterfind(path)] == [etree.tostring(e) for e in old.iterfind(path)]
    validator = shutil.which("virt-xml-validate")
    assert validator, "virt-xml-validate (libvirt-clients) is missing: run scripts/setup"
    (tmp_path / "out.xml").write_text(out.replace("type='test'", "type='kvm'"))
    done = subprocess.run([validator, str(tmp_path / "out.xml"), "domain"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_user_networking_on_the_target_drops_the_bridge(running):
    out = retarget(running, domain_xml(target_spec() | {"network": "user"}, "boot"), "compute-0-0-0")
    interfaces = etree.fromstring(out.encode()).findall("devices/interface")
    assert [i.get("type") for i in interfaces] == ["user", "user"] and not [
        i.find("source") for i in interfaces if i.find("source") is not None
    ]


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda s: s["disks"].pop(), "runs with disk hdb, which the description does not list"),
        (
            lambda s: s["disks"].append(
                {"type": "file", "path": "/x/extra.img", "device": "hdc", "mode": "w", "size": 1}
            ),
            "the description lists disk hdc",
        ),
        (lambda s: s["macs"].pop(), "runs with interface 00:16:3e:00:00:02"),
    ],
)
def test_a_domain_that_differs_from_the_description_is_refused(running, change, message):
    spec = target_spec()
    change(spec)
    with pytest.raises(RocksccError, match=message):
        retarget(running, domain_xml(spec, "boot"), "compute-0-0-0")
