"""The compiled libvirt domain XML is valid against libvirt's own schema, in every variant."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from rockscc.backends.libvirt_xml import domain_xml

BASE = {
    "name": "compute-0-0-0",
    "container": "vm-container-0-0",
    "mem": 1024,
    "cpus": 2,
    "macs": ["00:16:3e:00:00:01", "00:16:3e:00:00:02"],
    "network": "bridge",
    "bridge": "xenbr{index}",
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
    "install": {
        "kernel": "/boot/kickstart/xen/vmlinuz",
        "ramdisk": "/boot/kickstart/xen/initrd-xen.iso.gz",
        "args": "ks ks=http://10.1.1.1/install/kickstart/compute-0-0-0.ks",
    },
    "bootloader": "pygrub",
    "serial_log": "",
}
VARIANTS = {
    "xen-para": {"hypervisor": "xen", "virt_type": "para"},
    "xen-hvm": {"hypervisor": "xen", "virt_type": "hvm"},
    "kvm": {"hypervisor": "kvm", "virt_type": "hvm", "bridge": "br{index}"},
    "qemu-user-serial-file": {
        "hypervisor": "qemu",
        "virt_type": "hvm",
        "network": "user",
        "serial_log": "/var/log/{name}.log",
    },
    "xen-tap-aio": {
        "hypervisor": "xen",
        "virt_type": "para",
        "disks": [{"type": "tap:aio", "path": "/x/vm.img", "device": "xvda", "mode": "w", "size": 4}],
    },
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("mode", ["install", "boot"])
def test_domain_xml_validates(tmp_path, variant, mode):
    validator = shutil.which("virt-xml-validate")
    assert validator, "virt-xml-validate (libvirt-clients) is missing: run scripts/setup"
    spec = BASE | VARIANTS[variant]
    path = tmp_path / "dom.xml"
    path.write_text(domain_xml(spec, mode))
    done = subprocess.run([validator, str(path), "domain"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr + path.read_text()
    text = path.read_text()
    if spec["virt_type"] == "para":
        assert ("<kernel>" in text) == (mode == "install") and ("<bootloader>" in text) == (mode == "boot")
    else:
        assert ('<boot dev="network"/>' in text) == (mode == "install")
    assert f"<on_reboot>{'destroy' if mode == 'install' else 'restart'}</on_reboot>" in text
