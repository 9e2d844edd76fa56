"""The Rocks 7 tree as a Rocks 7 user has it: the base and core rolls (alone, and with each of the
kvm, hpc and sge rolls) added to a bare description as rolls, the answers a Rocks 7 frontend
installer asks for, and nothing else set by hand. Every appliance the rolls declare builds, and
its kickstart passes pykickstart's RHEL 7 handler. The files are copies of the corpus (tests/corpus)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from lxml import etree
from pykickstart.parser import KickstartParser
from pykickstart.version import makeVersion

from rockscc.model import load
from tests.conftest import CORPUS, run_cli
from tests.xmlgraph.conftest import make_bare

R7 = CORPUS / "rocks-7"
# what this site types where the installer offers a default or asks (site name, networks,
# certificate fields, time zone); every other question is answered with the screen's default
SITE_ANSWERS = {
    "Info_ClusterName": "Example Cluster",
    "Kickstart_PublicHostname": "frontend.example.org",
    "Info_CertificateOrganization": "Example U",
    "Info_CertificateLocality": "Springfield",
    "Info_CertificateState": "Oregon",
    "Info_CertificateCountry": "US",
    "Info_ClusterContact": "admin@example.org",
    "Info_ClusterURL": "http://frontend.example.org/",
    "Kickstart_Timezone": "America/Los_Angeles",
    "Kickstart_PrivateHostname": "frontend",
    "Kickstart_PublicDNSDomain": "example.org",
    "Kickstart_PrivateInterface": "eth0",
    "Kickstart_PublicInterface": "eth1",
    "Kickstart_PublicAddress": "198.51.100.10",
    "Kickstart_PublicNetmask": "255.255.255.0",
    "Kickstart_PublicNetwork": "198.51.100.0",
    "Kickstart_PublicBroadcast": "198.51.100.255",
    "Kickstart_PublicNetmaskCIDR": "24",
    "Kickstart_PublicGateway": "198.51.100.1",
    "Kickstart_PublicDNSServers": "198.51.100.1",
    "Kickstart_PublicNTPHost": "pool.ntp.org",
    "Kickstart_PublicMTU": "1500",
    "Kickstart_PrivateNetwork": "10.1.0.0",
    "Kickstart_PrivateBroadcast": "10.1.255.255",
    "Kickstart_PrivateNetmaskCIDR": "16",
    "Kickstart_Multicast": "224.0.0.0",
    "Private_PureRootPassword": "",
    "Confirm_Private_PureRootPassword": "",  # never stored (crypted instead)
}


def installer_questions() -> dict[str, str]:
    """Every variable the Rocks 7 installer screens ask (base nodes/screen-*.xml), with its default."""
    questions: dict[str, str] = {}
    for path in sorted((R7 / "base" / "nodes").glob("screen-*.xml")):
        text = re.sub(r"&[A-Za-z_]+;", "", path.read_text())
        root = etree.fromstring(text.encode(), etree.XMLParser(recover=True))
        for variable in root.iter("variable"):
            name = variable.findtext("name", "").strip()
            if name:
                questions.setdefault(name, (variable.findtext("default") or "").strip())
    return questions


def rocks7_cluster(root: Path, rolls: list[str]) -> Path:
    make_bare(root)
    for roll in ["base", "core", *rolls]:
        target = root.parent / f"roll-{roll}"
        shutil.copytree(R7 / roll, target)
        result = run_cli("-C", str(root), "add", "roll", str(target), f"name={roll}")
        assert result.rc == 0, result.err
    answers = {**installer_questions(), **SITE_ANSWERS}
    answers = {k: v for k, v in answers.items() if not k.endswith("PureRootPassword")}
    for name, value in sorted(answers.items()):
        assert run_cli("-C", str(root), "set", "attr", name, value).rc == 0
    # the one choice that is not a question: this is a Rocks 7 (RHEL 7) cluster
    assert run_cli("-C", str(root), "set", "attr", "kickstart_dialect", "rhel7").rc == 0
    cluster = load(root)
    for appliance in sorted(cluster.appliances):
        if appliance != "frontend":
            assert run_cli("-C", str(root), "add", "host", f"{appliance}-0-0").rc == 0
    return root


def test_the_answers_are_only_the_installer_s_questions():
    assert set(SITE_ANSWERS) <= set(installer_questions())
    assert {"Info_ClusterName", "Kickstart_Timezone", "Info_CertificateState", "Kickstart_PrivateNetwork"} <= set(
        installer_questions()
    )


@pytest.mark.parametrize("extra", [[], ["kvm"], ["hpc"], ["sge"]], ids=["base+core", "+kvm", "+hpc", "+sge"])
def test_every_appliance_builds(tmp_path, extra):
    root = rocks7_cluster(tmp_path / "c", extra)
    cluster = load(root)
    expected = {"frontend", "compute", "login", "nas", "devel-server"} | ({"vm-container"} if "kvm" in extra else set())
    assert set(cluster.appliances) == expected
    set_by_hand = set(cluster.attrs) - set(installer_questions()) - {"kickstart_dialect"}
    from rockscc.model.defaults import global_attrs

    # every other global attribute came from `init` (Rocks' frontend defaults) or a roll's posts
    rolls_declared = {
        "ssh_use_dns",
        "port411",
        "Info_GoogleOTPUsers",
        "Info_GoogleOTPRoot",
        "cpu_mode",
        "vm_mac_base_addr_mask",
    }
    assert set_by_hand <= set(global_attrs()) | rolls_declared
    result = run_cli("-C", str(root), "build", "eval=no")
    if "kvm" in extra:
        # kvm-base.xml tests `if [ "&kvm_save_directory;" ]` but nothing in the roll defines it: Rocks'
        # expat-based pass 1 stops on the undefined entity exactly as rockscc does (one line per host)
        errors = [line for line in result.err.splitlines() if line.startswith("error - profile:")]
        assert result.rc == 1 and len(errors) == 2, result.err[-3000:]
        assert all("nodes/kvm-base.xml:176: undefined entity &kvm_save_directory;" in e for e in errors)
        assert {e.split(":", 2)[1] for e in errors} == {"frontend", "vm-container-0-0"}
        assert run_cli("-C", str(root), "set", "attr", "kvm_save_directory", "").rc == 0
        result = run_cli("-C", str(root), "build", "eval=no")
    assert result.rc == 0, result.err[-3000:]
    parser_version = makeVersion("RHEL7")
    for host in cluster.hosts:
        text = (root / "build/kickstart" / f"{host}.ks").read_text()
        KickstartParser(parser_version, followIncludes=False, missingIncludeIsFatal=False).readKickstartFromString(text)
        assert "canonical_maps = dbm:" not in text  # mail-client.xml's Solaris line: os= on a nested <file>
        assert "Rocks 7.0 (Manzanita)" in text  # base.xml's motd: &version; (&release;)
        assert re.search(
            r"^bootloader --location=mbr", text, re.M
        )  # cond="rocks_version_major >= 6 and Bootloader is None"
    compute = (root / "build/kickstart/compute-0-0.ks").read_text()
    if "sge" in extra:
        assert "sge" in compute.lower()
    if "kvm" in extra:
        vc = (root / "build/kickstart/vm-container-0-0.ks").read_text()
        assert "libvirt" in vc


def test_check_finds_no_errors_in_the_rocks7_tree(tmp_path):
    root = rocks7_cluster(tmp_path / "c", ["hpc", "sge"])
    result = run_cli("-C", str(root), "check")
    assert result.rc == 0, result.out[-3000:]
    assert "unexpected <service>" not in result.out  # Solaris SMF elements in os="sunos" posts


def test_check_names_the_kvm_roll_s_undefined_attribute(tmp_path):
    root = rocks7_cluster(tmp_path / "c", ["kvm"])
    result = run_cli("-C", str(root), "check")
    errors = [line for line in result.out.splitlines() if line.startswith("error")]
    assert result.rc == 1 and len(errors) == 2
    assert all("nodes/kvm-base.xml:176: undefined entity &kvm_save_directory;" in e for e in errors)
