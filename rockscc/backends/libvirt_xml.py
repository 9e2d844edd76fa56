"""libvirt domain XML for a VM: type='xen' on Xen containers (paravirtual or hvm), kvm or qemu
on KVM containers. Install variant: the installer kernel (Xen para) or network boot first (hvm);
boot variant: pygrub (Xen para) or the disk."""

from __future__ import annotations

from typing import Any

from lxml import etree

from rockscc.backends.xen import bridge_of

BUS = {"hd": "ide", "sd": "scsi", "xv": "xen", "vd": "virtio"}


def domain_xml(spec: dict[str, Any], mode: str) -> str:
    hypervisor = spec["hypervisor"]
    hvm = spec["virt_type"] == "hvm"
    dom = etree.Element("domain", type=hypervisor)
    etree.SubElement(dom, "name").text = spec["name"]
    etree.SubElement(dom, "memory", unit="KiB").text = str(spec["mem"] * 1024)
    etree.SubElement(dom, "vcpu").text = str(spec["cpus"])
    if not hvm and mode == "boot":
        etree.SubElement(dom, "bootloader").text = spec["bootloader"]
    _os(dom, spec, mode, hvm)
    if hvm:
        features = etree.SubElement(dom, "features")
        etree.SubElement(features, "acpi")
        etree.SubElement(features, "apic")
    etree.SubElement(dom, "on_poweroff").text = "destroy"
    etree.SubElement(dom, "on_reboot").text = "destroy" if mode == "install" else "restart"
    etree.SubElement(dom, "on_crash").text = "preserve"
    devices = etree.SubElement(dom, "devices")
    for disk in spec["disks"]:
        _disk(devices, disk, hypervisor, hvm)
    for index, mac in enumerate(spec["macs"]):
        _interface(devices, spec, index, mac, hvm)
    _console(devices, spec, hvm)
    etree.indent(dom, space="  ")
    return etree.tostring(dom, encoding="unicode") + "\n"


def _os(dom, spec: dict[str, Any], mode: str, hvm: bool) -> None:
    os_ = etree.SubElement(dom, "os")
    if hvm:
        etree.SubElement(os_, "type", arch="x86_64", machine="pc").text = "hvm"
        if mode == "install":
            etree.SubElement(os_, "boot", dev="network")
        etree.SubElement(os_, "boot", dev="hd")
        return
    etree.SubElement(os_, "type").text = "linux"
    if mode == "install":
        install = spec["install"]
        etree.SubElement(os_, "kernel").text = install["kernel"]
        etree.SubElement(os_, "initrd").text = install["ramdisk"]
        etree.SubElement(os_, "cmdline").text = install["args"]


def _disk(devices, disk: dict[str, Any], hypervisor: str, hvm: bool) -> None:
    block = disk["type"] == "phy"
    element = etree.SubElement(devices, "disk", type="block" if block else "file", device="disk")
    if hypervisor == "xen":
        etree.SubElement(element, "driver", name="tap" if disk["type"] == "tap:aio" else ("phy" if block else "file"))
    else:
        etree.SubElement(element, "driver", name="qemu", type="raw")
    etree.SubElement(element, "source", **({"dev": disk["path"]} if block else {"file": disk["path"]}))
    bus = "xen" if hypervisor == "xen" and not hvm else BUS.get(disk["device"][:2], "ide")
    etree.SubElement(element, "target", dev=disk["device"], bus=bus)
    if disk["mode"] == "r":
        etree.SubElement(element, "readonly")


def _interface(devices, spec: dict[str, Any], index: int, mac: str, hvm: bool) -> None:
    if spec["network"] == "user":
        element = etree.SubElement(devices, "interface", type="user")
    else:
        element = etree.SubElement(devices, "interface", type="bridge")
        etree.SubElement(element, "source", bridge=bridge_of(spec, index))
    etree.SubElement(element, "mac", address=mac)
    if hvm and spec["hypervisor"] != "xen":
        etree.SubElement(element, "model", type="e1000")


def _console(devices, spec: dict[str, Any], hvm: bool) -> None:
    if spec["serial_log"] and spec["hypervisor"] != "xen":
        serial = etree.SubElement(devices, "serial", type="file")
        etree.SubElement(serial, "source", path=spec["serial_log"].replace("{name}", spec["name"]))
    else:
        serial = etree.SubElement(devices, "serial", type="pty")
    etree.SubElement(serial, "target", port="0")
    console = etree.SubElement(devices, "console", type=serial.get("type"))
    if serial.get("type") == "file":
        etree.SubElement(console, "source", path=serial.find("source").get("path"))
    etree.SubElement(console, "target", type="xen" if spec["hypervisor"] == "xen" and not hvm else "serial", port="0")
