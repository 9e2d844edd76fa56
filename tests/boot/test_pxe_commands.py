"""PXE actions, boot selection and boot flags: the seed deck's transcripts, and the boot files."""

from __future__ import annotations

INSTALL = "append ks initrd=initrd.img ramdisk_size=150000 lang= devfs=nomount pxe kssendmac selinux=0 noipv6"
UCSD = INSTALL + " ucsd=rocks"
KS_URL = "http://10.1.1.1/install/sbin/kickstart.cgi"  # what the boot files give the bare `ks`
INSTALL_FILE = INSTALL.replace(" ks ", f" ks={KS_URL} ")


def lines(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


def test_seed_list_host_pxeboot(rockscc):
    assert rockscc("set cluster name=olympic").rc == 0
    assert rockscc("set host name frontend olympic").rc == 0
    assert rockscc("add host compute-0-0").rc == 0
    assert rockscc("set host pxeboot compute-0-0 action=os").rc == 0
    out = rockscc("list host pxeboot").out
    assert out == "HOST         ACTION\nolympic:     ------\ncompute-0-0: os\n"
    assert rockscc('set host pxeboot compute-0-0 action="install"').rc == 0
    assert lines(rockscc("list host pxeboot").out)[2] == ["compute-0-0:", "install"]


def test_seed_default_actions_exactly(rockscc):
    assert rockscc("add host compute-0-0").rc == 0
    rows = rockscc("list host pxeaction compute-0-0").out.splitlines()
    assert rows[0].split() == ["ACTION", "COMMAND", "ARGS"]
    table = {r[:17].strip(): r[17:] for r in rows[1:]}
    assert list(table) == ["install", "install headless", "memtest", "os", "pxeflash", "rescue"]
    assert table["install"].split(None, 2)[2] == INSTALL
    assert table["install headless"].split(None, 2)[2] == INSTALL + " headless vnc"
    assert table["rescue"].split(None, 2)[2] == INSTALL + " rescue"
    assert table["pxeflash"].split() == "kernel memdisk bigraw append initrd=pxeflash.img keeppxe".split()
    assert table["os"].split()[:2] == ["localboot", "0"] and set(table["os"].split()[2]) == {"-"}


def test_seed_add_global_then_host_action(rockscc):
    assert rockscc("add host compute-0-0").rc == 0
    assert rockscc("add host compute-0-1").rc == 0
    assert rockscc(f'add host pxeaction action="install ucsd" command="kernel vmlinuz" args="{UCSD}"').rc == 0
    assert "install ucsd" in rockscc("list host pxeaction compute-0-1").out
    # host row overriding the global "install"
    assert rockscc(f'add host pxeaction compute-0-0 action="install" command="kernel vmlinuz" args="{UCSD}"').rc == 0
    own = {
        r[0]: r
        for r in (
            line.split(None, 1)
            for line in rockscc(
                "list host pxeaction compute-0-0 output-col=action,args output-header=no"
            ).out.splitlines()
        )
    }
    assert rockscc("list host pxeaction compute-0-0 output-format=json").rc == 0
    assert rockscc('set host pxeboot compute-0-0 action="install ucsd"').rc == 0
    assert lines(rockscc("list host pxeboot compute-0-0").out)[1] == ["install", "ucsd"]
    json_rows = __import__("json").loads(rockscc("list host pxeaction output-format=json").out)
    by_host = {(r["host"], r["action"]): r["args"] for r in json_rows}
    assert by_host[("compute-0-0", "install")] == UCSD  # host over global
    assert by_host[("compute-0-1", "install")] == INSTALL
    assert own


def test_unknown_action_is_refused(rockscc):
    assert rockscc("add host compute-0-0").rc == 0
    result = rockscc("set host pxeboot compute-0-0 action=flash")
    assert result.rc == 1 and result.err == "error - PXE command (flash) is not defined for host (compute-0-0)\n"


def test_seed_bootflags(rockscc):
    """The deck's transcript from a fresh `rockscc init`: the Xen roll's global flag is there
    without being set (Rocks 5.0 xen nodes/xen-server.xml sets it when the roll is installed)."""
    assert rockscc("set host name frontend rocks-168").rc == 0
    assert rockscc("add host compute-0-0").rc == 0
    assert rockscc("report host bootflags").out == "rocks-168: dom0_mem=1024M\ncompute-0-0: dom0_mem=1024M\n"
    assert rockscc('set host bootflags compute-0-0 flags="dom0_mem=1024M ucsd=rocks"').rc == 0
    assert rockscc("report host bootflags").out == "rocks-168: dom0_mem=1024M\ncompute-0-0: dom0_mem=1024M ucsd=rocks\n"
    assert rockscc("report host bootflags compute-0-0").out == "dom0_mem=1024M ucsd=rocks\n"
    assert rockscc("remove host bootflags compute-0-0").rc == 0
    assert rockscc("report host bootflags compute-0-0").out == "dom0_mem=1024M\n"


def test_no_xen_roll_no_global_flag(tmp_path):
    from tests.conftest import run_cli

    for args in (["xen=no"], ["--bare"]):
        root = tmp_path / args[0].strip("-=no")
        assert run_cli("init", str(root), "password=x", *args).rc == 0
        assert run_cli("-C", str(root), "report", "host", "bootflags").out.strip() == ""


def test_a_site_flag_set_before_the_roll_is_kept(tmp_path):
    from tests.conftest import run_cli

    root = tmp_path / "c"
    assert run_cli("init", str(root), "password=x", "xen=no").rc == 0
    assert run_cli("-C", str(root), "set", "host", "bootflags", "flags=console=ttyS0").rc == 0
    assert run_cli("-C", str(root), "add", "roll", "builtin:xen").rc == 0
    assert run_cli("-C", str(root), "report", "host", "bootflags").out == "console=ttyS0\n"


def test_bootflags_reach_the_kickstart(rockscc, cluster_dir):
    assert rockscc("add host compute-0-0").rc == 0
    assert rockscc('set host bootflags compute-0-0 flags="console=ttyS0 ucsd=rocks"').rc == 0
    ks = rockscc("list host profile compute-0-0").out
    assert 'bootloader --location=mbr --append="console=ttyS0 ucsd=rocks"' in ks
    assert 'flags="console=ttyS0 ucsd=rocks"' in ks and "grubby --update-kernel=ALL --mbargs" in ks


def test_boot_files_from_the_build(rockscc, cluster_dir):
    assert rockscc("add host compute-0-0").rc == 0  # new hosts install on first boot
    assert rockscc("add host compute-0-1").rc == 0
    assert rockscc("remove host pxeboot compute-0-1").rc == 0
    assert rockscc("build").rc == 0
    build = cluster_dir / "build" / "tftp"
    assert (build / "pxelinux.cfg" / "0A01FFFE").read_text() == (
        f"default rocks\nprompt 0\nlabel rocks\n\tkernel vmlinuz\n\t{INSTALL_FILE}\n"
    )
    assert not (build / "pxelinux.cfg" / "0A01FFFD").exists()  # no action, no file
    assert (build / "pxelinux.cfg" / "default").read_text().endswith(f"\t{INSTALL_FILE}\n")  # the frontend's file
    assert rockscc("set host pxeboot compute-0-0 action=os").rc == 0
    assert rockscc("build").rc == 0
    assert (build / "pxelinux.cfg" / "0A01FFFE").read_text() == "default rocks\nprompt 0\nlabel rocks\n\tlocalboot 0\n"
    assert (build / "uefi" / "grub.cfg-0A01FFFE").read_text().count("exit") == 1
    assert rockscc("remove host pxeboot compute-0-0").rc == 0
    assert rockscc("build").rc == 0
    assert not (build / "pxelinux.cfg" / "0A01FFFE").exists()
    assert not (build / "uefi" / "grub.cfg-0A01FFFE").exists() and not (build / "ipxe" / "compute-0-0.ipxe").exists()


def test_uefi_and_ipxe_carry_the_same_arguments_for_every_action(rockscc, cluster_dir):
    assert rockscc("add host compute-0-0 mac=52:54:00:12:34:56").rc == 0
    assert rockscc("set host attr compute-0-0 pxe_mac_files yes").rc == 0
    build = cluster_dir / "build" / "tftp"
    labels = [line[:17].strip() for line in rockscc("list host pxeaction compute-0-0").out.splitlines()[1:]]
    for label in labels:
        assert rockscc(f'set host pxeboot compute-0-0 action="{label}"').rc == 0
        assert rockscc("build").rc == 0
        bios = (build / "pxelinux.cfg" / "0A01FFFE").read_text()
        assert (build / "pxelinux.cfg" / "01-52-54-00-12-34-56").read_text() == bios
        uefi = (build / "uefi" / "grub.cfg-0A01FFFE").read_text()
        assert (build / "uefi" / "grub.cfg-01-52-54-00-12-34-56").read_text() == uefi
        ipxe = (build / "ipxe" / "compute-0-0.ipxe").read_text()
        command = bios.splitlines()[3].split()
        if command[0] == "localboot":
            assert "\texit" in uefi and "\nexit" in ipxe
            continue
        tokens = bios.splitlines()[4].split()[1:] if len(bios.splitlines()) > 4 else []
        efi_name = {"memtest": "memtest.efi"}  # memtest86+'s UEFI build is its own file in the tree
        expected = [*command[2:], *(t for t in tokens if not t.startswith("initrd="))]
        initrd = [t.split("=", 1)[1] for t in tokens if t.startswith("initrd=")]
        kernel_lines = [line.split() for line in ipxe.splitlines() if line.startswith("kernel ")]
        assert kernel_lines[0] == ["kernel", f"/{command[1]}", *expected], (label, ipxe)
        if command[1] in efi_name:  # the iPXE script picks the UEFI build by ${platform}
            assert kernel_lines[1] == ["kernel", f"/{efi_name[command[1]]}", *expected], (label, ipxe)
        if command[1] != "memdisk":  # memdisk images are BIOS-only: grub says so
            grub_line = next(line.split() for line in uefi.splitlines() if line.strip().startswith("linux"))
            assert grub_line == ["linux", f"/{efi_name.get(command[1], command[1])}", *expected], (label, uefi)
        else:
            assert "BIOS only" in uefi and "BIOS only" in ipxe
        for text in (ipxe, uefi) if command[1] != "memdisk" else (ipxe,):
            assert all(f" /{name}\n" in text for name in initrd), (label, text)
