"""A running domain's XML rewritten for another container.

A saved state or a migration stream must be resumed with the domain as it ran — its UUID, machine
type, device addresses and models (libvirt refuses anything else as an ABI change) — but with what
belongs to the container it lands on: disk image paths, how interfaces attach to the network, the
console log, the kernel and bootloader paths. Those come from the domain XML compiled for the VM
on its new container; everything else comes from the running domain.
"""

from __future__ import annotations

from lxml import etree

from rockscc.errors import RocksccError


def retarget(running_xml: str, compiled_xml: str, vm: str) -> str:
    """`running_xml` with the container-specific parts of `compiled_xml` (the VM's config compiled
    for the target container). Devices are matched by disk target, MAC address and console port."""
    running = etree.fromstring(running_xml.encode())
    compiled = etree.fromstring(compiled_xml.encode())
    _disks(running, compiled, vm)
    _interfaces(running, compiled, vm)
    for tag in ("serial", "console"):
        _consoles(running, compiled, tag)
    for path in ("os/kernel", "os/initrd", "os/cmdline", "bootloader"):
        _replace_text(running, compiled, path)
    return etree.tostring(running, encoding="unicode")


def disk_sources(xml: str) -> dict[str, str]:
    """Disk target device → image path (file or block device) of a domain XML."""
    root = etree.fromstring(xml.encode())
    found = {}
    for disk in root.iterfind("devices/disk"):
        source = disk.find("source")
        target = disk.find("target")
        if target is not None and source is not None:
            found[target.get("dev")] = source.get("file") or source.get("dev") or ""
    return found


def macs(xml: str) -> list[str]:
    root = etree.fromstring(xml.encode())
    return [m.get("address").lower() for m in root.iterfind("devices/interface/mac")]


def _disks(running, compiled, vm: str) -> None:
    wanted = {d.find("target").get("dev"): d for d in compiled.iterfind("devices/disk")}
    for disk in running.iterfind("devices/disk"):
        if disk.get("device") in ("cdrom", "floppy"):
            continue
        dev = disk.find("target").get("dev")
        new = wanted.pop(dev, None)
        if new is None:
            raise RocksccError(
                f"VM {vm} runs with disk {dev}, which the description does not list "
                "(detach it, or add it with set host vm disk=)"
            )
        disk.set("type", new.get("type"))
        _swap(disk, "source", new.find("source"))
    if wanted:
        raise RocksccError(
            f"the description lists disk {', '.join(sorted(wanted))} of VM {vm}, which it does not run "
            "with (stop host vm and start host vm apply the description)"
        )


def _interfaces(running, compiled, vm: str) -> None:
    wanted = {i.find("mac").get("address").lower(): i for i in compiled.iterfind("devices/interface")}
    for interface in running.iterfind("devices/interface"):
        mac = interface.find("mac").get("address").lower()
        new = wanted.pop(mac, None)
        if new is None:
            raise RocksccError(f"VM {vm} runs with interface {mac}, which the description does not list")
        interface.set("type", new.get("type"))
        _swap(interface, "source", new.find("source"))
        for stale in interface.findall("target"):  # the host-side device name of the old container
            interface.remove(stale)


def _consoles(running, compiled, tag: str) -> None:
    wanted = {_port(c): c for c in compiled.iterfind(f"devices/{tag}")}
    for device in running.iterfind(f"devices/{tag}"):
        new = wanted.get(_port(device))
        if new is not None:
            device.set("type", new.get("type"))
            _swap(device, "source", new.find("source"))


def _port(device) -> str:
    target = device.find("target")
    return target.get("port", "0") if target is not None else "0"


def _replace_text(running, compiled, path: str) -> None:
    new, old = compiled.find(path), running.find(path)
    if new is not None and old is not None:
        old.text = new.text


def _swap(parent, tag: str, replacement) -> None:
    """Put a copy of `replacement` where parent's `tag` child is (or drop it when None)."""
    old = parent.find(tag)
    if old is not None:
        parent.remove(old)
    if replacement is not None:
        parent.append(etree.fromstring(etree.tostring(replacement)))
