"""A host's boot files from the texts its action shares with other hosts (backends/boot.py:
_loader_texts and _ipxe_text remembered by action, kickstart URL and label): each file must be
what the loaders' own functions make for that host, and a refused action refused for each host."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rockscc.backends import boot, pxe
from rockscc.errors import RocksccError

ACTIONS = [
    ("kernel vmlinuz", "append ks initrd=initrd.img ramdisk_size=150000 lang= pxe"),
    ("kernel vmlinuz", "append preseed initrd=initrd.gz"),
    ("kernel vmlinuz", None),
    ("localboot 0", None),
    ("kernel memdisk", "append initrd=pxeflash.img keeppxe"),
    ("kernel memtest", None),
    ("kernel vmlinuz", "append ks #comment"),  # iPXE refuses it, pxelinux and grub do not
    ("kernel vmlinuz", "append ks ${x}"),
]


def expected(spec: dict) -> list[tuple[str, str]]:
    """The files as made afresh for this host (the plain composition of pxe.py's functions)."""
    args = boot.with_kickstart_url(spec["args"], spec["ks_url"])
    parsed = pxe.parse_action(spec["command"], args)
    bios, uefi = pxe.pxelinux(spec["command"], args), pxe.grub(spec["label"], parsed, efi=spec["efi_linux"])
    names = ["default"] if spec["frontend"] else [spec["hexip"]]
    if spec["mac"]:
        names.append("01-" + spec["mac"].replace(":", "-"))
    files = [(f"tftp/pxelinux.cfg/{n}", bios) for n in names]
    if spec["frontend"]:
        return [*files, ("tftp/uefi/grub.cfg", uefi)]
    files += [(f"tftp/uefi/grub.cfg-{n}", uefi) for n in names]
    return [*files, (f"tftp/ipxe/{spec['host']}.ipxe", pxe.ipxe(spec["label"], parsed))]


def outcome(render, spec):
    try:
        return render(spec)
    except RocksccError as exc:
        return ("refused", str(exc))


SPECS = st.fixed_dictionaries(
    {
        "action": st.sampled_from(ACTIONS),
        "ks_url": st.sampled_from([None, "http://10.1.1.1/install/sbin/kickstart.cgi", "http://h/a b"]),
        "frontend": st.booleans(),
        "host": st.sampled_from(["compute-0-0", "compute-0-1"]),
        "hexip": st.sampled_from(["0A0101FE", "0A0101FD"]),
        "mac": st.sampled_from([None, "00:11:22:33:44:55"]),
        "label": st.sampled_from(["install", "os", 'we"ird $label']),
        "efi_linux": st.booleans(),
    }
)


@settings(max_examples=200, deadline=None)
@given(specs=st.lists(SPECS, min_size=1, max_size=10))
def test_boot_files_are_those_made_afresh_whatever_hosts_came_before(specs):
    for spec in specs + specs:
        spec = {**spec, "command": spec["action"][0], "args": spec["action"][1]}
        assert outcome(boot.render_boot, spec) == outcome(expected, spec)


@pytest.mark.parametrize("frontend", [False, True])
def test_an_action_ipxe_refuses_is_refused_for_each_host_but_the_frontend(frontend):
    spec = {
        "command": "kernel vmlinuz",
        "args": "append ks #comment",
        "ks_url": None,
        "frontend": frontend,
        "host": "compute-0-0",
        "hexip": "0A0101FE",
        "mac": None,
        "label": "install",
        "efi_linux": False,
    }
    for _ in range(2):
        if frontend:
            assert [path for path, _ in boot.render_boot(spec)][-1] == "tftp/uefi/grub.cfg"
        else:
            with pytest.raises(RocksccError, match="iPXE cannot pass"):
                boot.render_boot(spec)
