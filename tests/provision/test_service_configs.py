"""The service configs and the TFTP tree as build artifacts: every build checks them with their
own tools (dhcpd, dnsmasq, named-checkzone, named-checkconf, nginx); what a tool rejects fails
the build and keeps the previous files; hostile or malformed values are refused with the
attribute's name, never written into a config."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.backends import dns_zones, dnsmasq_conf, netfiles, tftp
from rockscc.backends import service_check as validate
from rockscc.errors import RocksccError
from rockscc.pipeline import producers
from rockscc.pipeline.specs import network_spec

TOOLS = ("dhcpd", "dnsmasq", "named-checkzone", "named-checkconf", "nginx")


def _have(tool: str) -> bool:
    return shutil.which(tool) is not None or Path("/usr/sbin", tool).exists()


@pytest.fixture(autouse=True)
def tools_installed():
    missing = [t for t in TOOLS if not _have(t)]
    if missing:
        pytest.fail(f"the service configs' checkers are missing ({', '.join(missing)}): run scripts/setup")


@pytest.fixture
def built(cluster_dir, rockscc):
    for command in (
        "add host compute-0-0 mac=52:54:00:00:00:01",
        "add host compute-0-1 mac=52:54:00:00:00:02",
        "add host nas-0-0",
        "set host attr compute-0-1 pxe_ipxe no",
        "set attr dhcp_discovery_range 10.1.200.1-10.1.200.50",
    ):
        assert rockscc(command).rc == 0, command
    result = rockscc("build --eval=no")
    assert result.rc == 0, result.err
    return cluster_dir / "build", result


SERVICE_FILES = [
    "net/dhcpd.conf",
    "net/hosts",
    "net/dnsmasq.conf",
    "net/dnsmasq.hosts",
    "net/nginx-rockscc.conf",
    "net/zones/local",
    "net/zones/1.10.in-addr.arpa",
    "net/zones/named.conf",
]


def test_every_build_checks_its_service_configs_with_their_own_tools(built):
    out, result = built
    assert "not checked" not in result.err  # each tool ran (a missing one would say so)
    for name in SERVICE_FILES:
        assert (out / name).is_file(), name
    # and the files as written pass the same tools again, run here directly
    assert subprocess.run(["dhcpd", "-t", "-cf", out / "net/dhcpd.conf"], capture_output=True).returncode == 0
    assert (
        subprocess.run(["dnsmasq", "--test", f"--conf-file={out / 'net/dnsmasq.conf'}"], capture_output=True).returncode
        == 0
    )
    for zone in ("local", "1.10.in-addr.arpa"):
        check = subprocess.run(["named-checkzone", zone, out / "net/zones" / zone], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout
    assert subprocess.run(["named-checkconf", out / "net/zones/named.conf"]).returncode == 0


def test_dhcp_configs_pick_the_loader_by_client_architecture(built):
    out, _ = built
    dhcpd = (out / "net/dhcpd.conf").read_text()
    assert 'option user-class = "iPXE" { filename "http://10.1.1.1/ipxe/${hostname}.ipxe"; }' in dhcpd
    assert 'option arch = 00:07 or option arch = 00:09 { filename "bootx64.efi"; }' in dhcpd
    assert 'else { filename "pxelinux.0"; }' in dhcpd
    assert "range 10.1.200.1 10.1.200.50;" in dhcpd and "allow unknown-clients;" in dhcpd
    compute_0_1 = dhcpd.split("host compute-0-1 {")[1].split("}\n")[0]  # pxe_ipxe=no: by architecture only
    assert "iPXE" not in compute_0_1 and "bootx64.efi" in compute_0_1
    dnsmasq = (out / "net/dnsmasq.conf").read_text()
    assert "dhcp-boot=tag:known,tag:ipxe,tag:!noipxe,http://10.1.1.1/ipxe/${hostname}.ipxe,,10.1.1.1" in dnsmasq
    assert "dhcp-range=10.1.200.1,10.1.200.50,255.255.0.0,10m" in dnsmasq
    assert f"tftp-root={out}/tftp" in dnsmasq
    hosts = (out / "net/dnsmasq.hosts").read_text().splitlines()[1:]
    assert hosts == [
        "52:54:00:00:00:01,10.1.255.254,compute-0-0",
        "52:54:00:00:00:02,10.1.255.253,compute-0-1,set:noipxe",
    ]


def test_dns_zones_hold_every_private_host_forward_and_reverse(built):
    out, _ = built
    forward = (out / "net/zones/local").read_text()
    reverse = (out / "net/zones/1.10.in-addr.arpa").read_text()
    for name, ip in (("frontend", "10.1.1.1"), ("compute-0-0", "10.1.255.254"), ("nas-0-0", "10.1.255.252")):
        assert f"{name}\tIN\tA\t{ip}" in forward
        octets = ip.split(".")
        assert f"{octets[3]}.{octets[2]}\tIN\tPTR\t{name}.local." in reverse
    assert "@\tIN\tNS\tfrontend.local." in forward


def test_a_rebuild_from_scratch_writes_the_same_configs(built, rockscc):
    out, _ = built
    before = {name: (out / name).read_bytes() for name in SERVICE_FILES}
    assert rockscc("build --clean").rc == 0
    assert rockscc("build --eval=no").rc == 0
    assert {name: (out / name).read_bytes() for name in SERVICE_FILES} == before  # zone serials included


def test_a_new_host_changes_the_zone_serial(built, rockscc):
    out, _ = built
    serial = re.search(r"\( (\d+) ", (out / "net/zones/local").read_text())[1]
    assert rockscc("add host compute-0-2").rc == 0
    assert rockscc("build --eval=no").rc == 0
    assert re.search(r"\( (\d+) ", (out / "net/zones/local").read_text())[1] != serial


def test_a_config_its_tool_rejects_fails_the_build_and_keeps_the_previous_files(built, rockscc, monkeypatch):
    out, _ = built
    good = (out / "net/dnsmasq.conf").read_bytes()
    assert rockscc("add host compute-0-2 mac=52:54:00:00:00:03").rc == 0
    monkeypatch.setattr(dnsmasq_conf, "render_conf", lambda spec: "dhcp-range=nonsense\n")
    result = rockscc("build --eval=no")
    assert result.rc == 1
    assert "error - net:cluster: net/dnsmasq.conf: rejected by dnsmasq:" in result.err
    assert (out / "net/dnsmasq.conf").read_bytes() == good
    assert "compute-0-2" not in (out / "net/dnsmasq.hosts").read_text()  # the job's files stay together
    monkeypatch.undo()
    assert rockscc("build --eval=no").rc == 0
    assert "compute-0-2" in (out / "net/dnsmasq.hosts").read_text()


def test_dhcpd_rejection_names_the_file_and_line(built, rockscc, monkeypatch):
    monkeypatch.setattr(netfiles, "render_dhcpd", lambda spec: "subnet 10.1.0.0 netmask {\n")
    assert rockscc("add host compute-0-2").rc == 0
    result = rockscc("build --eval=no")
    assert result.rc == 1 and "net:cluster: net/dhcpd.conf: rejected by dhcpd:" in result.err
    assert "net/dhcpd.conf line 1" in result.err, result.err


def test_a_missing_checker_is_a_warning_naming_its_package(built, rockscc, monkeypatch):
    monkeypatch.setitem(validate.TOOLS, "nginx", validate.Tool("nginx-not-installed-here", "nginx", ("-t",)))
    assert rockscc("add host compute-0-2").rc == 0
    result = rockscc("build --eval=no")
    assert result.rc == 0
    assert (
        "net/nginx-rockscc.conf: not checked: nginx-not-installed-here is not installed (apt-get install nginx)"
        in result.err
    )


@pytest.mark.parametrize(
    "attr, value, message",
    [
        ("dhcp_discovery_range", "10.1.200.1", "is not FIRST-LAST"),
        ("dhcp_discovery_range", "10.1.200.9-10.1.200.1", "10.1.200.9 comes after 10.1.200.1"),
        ("dhcp_discovery_range", "10.2.0.1-10.2.0.9", "10.2.0.1 is not a host address of the private network"),
        ("dhcp_discovery_range", "10.1.0.0-10.1.0.9", "10.1.0.0 is not a host address"),
        ("dhcp_discovery_range", "a-b", '"a" is not an IPv4 address'),
        ("Kickstart_PrivateDNSDomain", 'local"; evil', "is not a domain name"),
        ("Kickstart_PrivateDNSDomain", "lo cal", "is not a domain name"),
        ("Kickstart_PrivateKickstartHost", "10.1.1.1; evil", "is not an IPv4 address"),
        ("Kickstart_PrivateKickstartBasedir", "install/../kickstart", "is not a URL path"),
        ("Kickstart_PrivateKickstartBasedir", "in stall", "is not a URL path"),
    ],
)
def test_bad_attribute_values_fail_the_build_naming_the_attribute(built, rockscc, attr, value, message):
    out, _ = built
    before = {name: (out / name).read_bytes() for name in SERVICE_FILES}
    assert rockscc(f"set attr {attr} '{value}'").rc == 0
    result = rockscc("build --eval=no")
    assert result.rc == 1
    assert f"attribute {attr}: " in result.err and message in result.err, result.err
    assert "Traceback" not in result.err
    assert {name: (out / name).read_bytes() for name in SERVICE_FILES} == before
    if attr.startswith("Kickstart_PrivateKickstart"):  # it reaches the boot files' command lines too
        assert "evil" not in (out / "tftp/pxelinux.cfg/0A01FFFE").read_text()
        assert " stall" not in (out / "tftp/pxelinux.cfg/0A01FFFE").read_text()


def test_a_build_directory_the_configs_cannot_name_is_refused(cluster_dir, rockscc, tmp_path):
    odd = tmp_path / 'build"dir'
    result = rockscc("build", "--eval=no", f"--out={odd}")
    assert result.rc == 1
    assert "the build directory's path holds '\"'" in result.err and "build elsewhere" in result.err
    assert not (odd / "net" / "dnsmasq.conf").exists()


def test_add_host_skips_the_discovery_range(cluster_dir, rockscc):
    assert rockscc("set attr dhcp_discovery_range 10.1.255.250-10.1.255.254").rc == 0
    assert rockscc("add host compute-0-0").rc == 0
    assert "10.1.255.249" in rockscc("list host interface compute-0-0").out


# --- hostile and random descriptions: never an invalid config written --------------------------
NAME = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,12}(\.[a-z0-9][a-z0-9-]{0,5})?", fullmatch=True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=st.lists(NAME, min_size=1, max_size=6, unique=True),
    domain=st.one_of(
        st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5}){0,2}", fullmatch=True), st.text(min_size=1, max_size=12)
    ),
    discovery=st.booleans(),
)
def test_any_description_gives_configs_their_tools_accept_or_a_clear_error(names, domain, discovery, tmp_path_factory):
    """Host names of every shape the description allows, any domain text: the build's service
    configs either pass every checker or the build stops with one line naming the value."""
    from rockscc.model import Host, Interface
    from rockscc.model.defaults import new_cluster

    root = tmp_path_factory.mktemp("c")
    cluster, _ = new_cluster(root, password="x", xen=False)
    cluster.attrs["Kickstart_PrivateDNSDomain"] = domain
    if discovery:
        cluster.attrs["dhcp_discovery_range"] = "10.1.100.1-10.1.100.9"
    for i, name in enumerate(names):
        cluster.hosts[name] = Host(
            name=name,
            membership="Compute",
            attrs={"pxe_ipxe": "no"} if i % 2 else {},
            interfaces=[
                Interface(
                    device="eth0", ip=f"10.1.255.{250 - i}", mac=f"52:54:00:00:01:{i:02x}", subnet="private", name=name
                )
            ],
        )
    cluster.validate()
    try:
        outputs, warnings = producers.render_network(network_spec(cluster, root / "build"))
    except RocksccError as exc:
        message = str(exc)
        assert "\n" not in message and ("Kickstart_PrivateDNSDomain" in message or "DNS name" in message), message
        return
    assert not warnings
    written = {o.path for o in outputs}
    assert {
        "net/dnsmasq.conf",
        "net/dnsmasq.hosts",
        f"{dns_zones.ZONE_DIR}/{domain.rstrip('.')}",
        "net/dhcpd.conf",
    } <= written


# --- the TFTP tree -----------------------------------------------------------------------------------
def test_the_tftp_tree_holds_every_loader_the_actions_need(built):
    out, result = built
    tree = out / "tftp"
    for name in ("pxelinux.0", "ldlinux.c32", "memdisk", "memtest", "memtest.efi", "bootx64.efi", "pxeflash.img"):
        assert (tree / name).is_file(), name
    assert (tree / "pxelinux.0").read_bytes() == Path("/usr/lib/PXELINUX/pxelinux.0").read_bytes()
    assert (tree / "bootx64.efi").read_bytes()[:2] == b"MZ"  # a PE image: grub-mkimage's x86_64-efi
    floppy = (tree / "pxeflash.img").read_bytes()
    assert len(floppy) == 1474560 and floppy[510:512] == b"\x55\xaa" and b"no flash image installed" in floppy[:512]
    # the installer's kernel and initrd are the site's to give: the build says so
    assert "the PXE actions boot initrd.img, vmlinuz, which the tree lacks" in result.err


def test_site_files_complete_and_override_the_tree(built, rockscc, cluster_dir):
    out, _ = built
    site = cluster_dir / tftp.SITE_DIR
    site.mkdir()
    (site / "vmlinuz").write_bytes(b"kernel")
    (site / "initrd.img").write_bytes(b"initrd")
    (site / "pxeflash.img").write_bytes(b"the site's flash floppy")
    result = rockscc("build --eval=no")
    assert result.rc == 0 and "lacks" not in result.err
    assert (out / "tftp/vmlinuz").read_bytes() == b"kernel"
    assert (out / "tftp/pxeflash.img").read_bytes() == b"the site's flash floppy"
    (site / "pxeflash.img").unlink()
    assert rockscc("build --eval=no").rc == 0
    assert b"no flash image installed" in (out / "tftp/pxeflash.img").read_bytes()[:512]
    again = rockscc("build --eval=no --explain")
    assert "tftp:loaders" not in again.out  # nothing changed: not copied again


def test_boot_files_name_the_kickstart_url_and_loaders_from_the_tree_root(built):
    out, _ = built
    bios = (out / "tftp/pxelinux.cfg/0A01FFFE").read_text()
    assert "append ks=http://10.1.1.1/install/sbin/kickstart.cgi initrd=initrd.img" in bios
    grub = (out / "tftp/uefi/grub.cfg-0A01FFFE").read_text()
    assert "\tlinux /vmlinuz ks=http://10.1.1.1/install/sbin/kickstart.cgi " in grub and "\tinitrd /initrd.img" in grub
    ipxe = (out / "tftp/ipxe/compute-0-0.ipxe").read_text()
    assert "kernel /vmlinuz ks=http://10.1.1.1/install/sbin/kickstart.cgi " in ipxe and "initrd /initrd.img" in ipxe


@pytest.mark.parametrize(
    "network, zone, inside",
    [
        ("10.1.0.0/16", "1.10.in-addr.arpa", {"a": "254.255", "b": "1.16"}),
        ("10.1.0.0/20", "1.10.in-addr.arpa", {"a": None, "b": None, "c": "3.2"}),  # its /16 zone, its own hosts only
        ("10.1.2.0/24", "2.1.10.in-addr.arpa", {"c": "3", "a": None}),
    ],
)
def test_reverse_zones_on_and_off_octet_boundaries(network, zone, inside):
    hosts = [
        {"name": "a", "ip": "10.1.255.254"},
        {"name": "b", "ip": "10.1.16.1"},
        {"name": "c", "ip": "10.1.2.3"},
        {"name": "x", "ip": "10.2.0.1"},
    ]
    spec = {
        "domain": "local",
        "network": network,
        "hosts": hosts,
        "frontend": None,
        "next_server": "10.1.1.1",
        "outdir": "/srv/build",
    }
    files = dns_zones.render_zones(spec, serial=1)
    reverse = files[f"net/zones/{zone}"]
    for name, owner in inside.items():
        assert (f"{owner}\tIN\tPTR\t{name}.local." in reverse) if owner else (f"\t{name}.local." not in reverse)
    assert "x.local" not in reverse and "10.2.0.1" not in files["net/zones/local"]
    check = validate.check(
        [
            validate.Check(f"net/zones/{zone}", reverse, "named-checkzone", zone=zone),
            validate.Check("net/zones/local", files["net/zones/local"], "named-checkzone", zone="local"),
        ]
    )
    assert check == []
