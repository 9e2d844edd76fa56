"""Xen domain configs in xl/xm syntax, as pure data (Rocks 5.0 wrote Python with side effects:
disk creation, loop mounts). Install variant: the installer's kernel and ramdisk, the install
action's arguments, destroyed on reboot. Boot variant: pygrub (para) or disk boot (hvm)."""

from __future__ import annotations

from typing import Any


def xl_config(spec: dict[str, Any], mode: str) -> str:
    settings: list[tuple[str, Any]] = [("name", spec["name"]), ("memory", spec["mem"]), ("vcpus", spec["cpus"])]
    hvm = spec["virt_type"] == "hvm"
    if hvm:
        settings += [("builder", "hvm"), ("boot", "nc" if mode == "install" else "c"), ("serial", "pty")]
    elif mode == "install":
        install = spec["install"]
        settings += [("kernel", install["kernel"]), ("ramdisk", install["ramdisk"]), ("extra", install["args"])]
    else:
        settings += [("bootloader", spec["bootloader"])]
    settings += [
        ("vif", [f"mac={mac},bridge={bridge_of(spec, i)}" for i, mac in enumerate(spec["macs"])]),
        ("disk", [f"{d['type']}:{d['path']},{d['device']},{d['mode']}" for d in spec["disks"]]),
        ("on_poweroff", "destroy"),
        ("on_reboot", "destroy" if mode == "install" else "restart"),
        ("on_crash", "preserve"),
    ]
    lines = [f"# Xen domain config for {spec['name']} on {spec['container']} ({mode}), written by rockscc build"]
    lines += [f"{key} = {_value(value)}" for key, value in settings]
    return "\n".join(lines) + "\n"


def bridge_of(spec: dict[str, Any], index: int) -> str:
    return spec["bridge"].replace("{index}", str(index))


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[ " + ", ".join(_value(v) for v in value) + " ]" if value else "[]"
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"  # xl's escapes: \\ and \'
