"""Evals as real Rocks trees have them: shell="python" with the interpreter an attribute names
(Rocks ran Python 2.7 with include/applets on sys.path), a clear error for Python 2 code when none
is named, rocks_eval_errors, and the `rocks report …` commands base's evals call."""

from __future__ import annotations

import shutil

import pytest

from rockscc.model import transaction
from tests.conftest import CORPUS, run_cli
from tests.xmlgraph.conftest import write
from tests.xmlgraph.test_rocks7_trees import rocks7_cluster
from tests.xmlgraph.test_tags import ok, profile, section

PY3 = "/usr/bin/python3.11" if shutil.which("python3.11") == "/usr/bin/python3.11" else "/usr/bin/python3"


def set_attrs(root, **attrs):
    with transaction(root) as cluster:
        cluster.attrs.update(attrs)


# --- exit status ------------------------------------------------------------------------------------
FAILING = "<kickstart>\n<post>A<eval>echo partial; echo oops >&amp;2; exit 4</eval>B</post></kickstart>"


def test_a_failing_eval_is_used_and_warned_by_default(bare):
    """Rocks 7 profile.py `Pass1NodeHandler.endElement_eval` reads the output and never the status."""
    result = profile(bare, FAILING)
    assert result.rc == 0
    assert "Apartial\nB" in result.out
    assert "nodes/t.xml:2: warning: <eval> failed (exit status 4: oops); its output is used" in result.err


@pytest.mark.parametrize(
    "policy, rc, warned", [("ignore", 0, False), ("warn", 0, True), ("fail", 1, False), ("WARN", 0, True)]
)
def test_rocks_eval_errors(bare, policy, rc, warned):
    set_attrs(bare, rocks_eval_errors=policy)
    result = profile(bare, FAILING)
    assert result.rc == rc
    assert ("warning: <eval> failed" in result.err) == warned
    if rc:
        assert result.err.strip().endswith("error - nodes/t.xml:2: <eval> failed (exit status 4: oops)")


def test_a_bad_policy_is_an_error(bare):
    set_attrs(bare, rocks_eval_errors="sometimes")
    result = profile(bare, FAILING)
    assert result.rc == 1 and 'rocks_eval_errors="sometimes": not one of ignore, warn, fail' in result.err


def test_a_main_command_whose_eval_failed_is_not_emitted(bare):
    """Rocks 7 base.xml `<sshpw>--iscrypted <eval>/opt/rocks/sbin/gen_root_pw</eval></sshpw>`: with
    the eval failing the line would stop the installer; it is commented out, saying why."""
    out = ok(profile(bare, "<kickstart><main><rootpw>--iscrypted <eval>exit 3</eval></rootpw></main></kickstart>"))
    assert "# rockscc: not emitted, its <eval> failed: rootpw --iscrypted" in out
    assert "\nrootpw" not in out


# --- Python ---------------------------------------------------------------------------------------
def test_python3_clean_evals_run_with_rocks_prelude(bare):
    """Rocks' three prelude lines import sys and os for the script (Pass1NodeHandler.startElement_eval)."""
    out = ok(
        profile(
            bare,
            '<kickstart><post><eval shell="python">print(os.sep + sys.version.split()[0][:1])</eval></post></kickstart>',
        )
    )
    assert "/3" in out


def test_include_applets_are_importable_and_inputs(bare):
    write(bare, "include/applets/siteapplet.py", "GREETING = 'hello'\n")
    node = (
        '<kickstart><post><eval shell="python">import siteapplet; print(siteapplet.GREETING)</eval></post></kickstart>'
    )
    assert "hello" in ok(profile(bare, node))
    assert run_cli("-C", str(bare), "build").rc == 0
    write(bare, "include/applets/siteapplet.py", "GREETING = 'changed'\n")
    assert run_cli("-C", str(bare), "build").rc == 0
    assert "changed" in (bare / "build/kickstart/compute-0-0.ks").read_text()


def test_python2_code_without_an_interpreter_is_one_clear_error(bare):
    result = profile(bare, '<kickstart>\n<post>\n<eval shell="python">\nprint "hello"\n</eval></post></kickstart>')
    assert result.rc == 1
    errors = [line for line in result.err.splitlines() if line.startswith("error")]
    assert len(errors) == 1
    assert errors[0].startswith('error - nodes/t.xml:3: <eval shell="python"> is not Python 3 (script line 2')
    assert "rockscc set attr rocks_eval_python /usr/local/bin/python2.7" in errors[0]
    assert "hello" not in result.out


def test_the_interpreter_attribute_is_used(bare):
    set_attrs(bare, rocks_eval_python=PY3)
    out = ok(profile(bare, '<kickstart><post><eval shell="python">print(sys.executable)</eval></post></kickstart>'))
    assert PY3 in section(out, "%post")[1]


def test_the_interpreter_attribute_reaches_rebuilds(bare):
    node = '<kickstart><post><eval shell="python">print("X" + sys.executable)</eval></post></kickstart>'
    profile(bare, node)
    assert run_cli("-C", str(bare), "build").rc == 0
    set_attrs(bare, rocks_eval_python=PY3)
    assert run_cli("-C", str(bare), "build").rc == 0
    assert f"X{PY3}" in (bare / "build/kickstart/compute-0-0.ks").read_text()


@pytest.mark.parametrize(
    "value", ["/opt/python2/bin/python", "/usr/bin/no-such-python", "python2", "/usr/../etc/passwd"]
)
def test_a_bad_interpreter_attribute_is_an_error(bare, value):
    set_attrs(bare, rocks_eval_python=value)
    result = profile(bare, '<kickstart>\n<post><eval shell="python">print(1)</eval></post></kickstart>')
    assert result.rc == 1
    assert (
        f'nodes/t.xml:2: <eval shell="python">: attribute rocks_eval_python="{value}" is not an executable under /usr'
        in result.err
    )


def test_a_shell_eval_is_not_affected(bare):
    set_attrs(bare, rocks_eval_python="/nonexistent")
    assert "shell-ok" in ok(profile(bare, "<kickstart><post><eval>echo shell-ok</eval></post></kickstart>"))


# --- rocks report ---------------------------------------------------------------------------------
@pytest.fixture
def reporting(bare):
    assert run_cli("-C", str(bare), "add", "host", "compute-0-1", "mac=52:54:00:00:00:01").rc == 0
    with transaction(bare) as cluster:
        cluster.hosts["compute-0-1"].interfaces[0].module = "e1000"
    return bare


def cli(root, line):
    result = run_cli("-C", str(root), *line.split())
    assert result.rc == 0, result.err
    return result.out


def test_report_host_network(reporting):
    """core report/host/network `run_linux`; Rocks 7 adds /etc/hostname."""
    out = cli(reporting, "report host network compute-0-1")
    assert out.splitlines()[:5] == [
        '<file name="/etc/sysconfig/network">',
        "NETWORKING=yes",
        "HOSTNAME=compute-0-1.local",
        "GATEWAY=10.1.1.1",
        "GATEWAYDEV=eth0",
    ]
    assert '<file name="/etc/hostname">' not in out  # rhel5: Rocks 5
    set_attrs(reporting, kickstart_dialect="rhel7")
    assert cli(reporting, "report host network compute-0-1").endswith(
        '<file name="/etc/hostname">\ncompute-0-1.local\n</file>\n'
    )


def test_report_host_interface_plain_and_bridged(reporting):
    """core report/host/interface `writeConfig` and, for a KVM container, `writeBridgedConfig`."""
    out = cli(reporting, "report host interface compute-0-1")
    assert out.startswith('<file name="/etc/modprobe.d/eth0.conf">\nalias eth0 e1000\n</file>\n')
    assert (
        "DEVICE=eth0\nHWADDR=52:54:00:00:00:01\nIPADDR=" in out
        and "NETMASK=255.255.0.0\nBOOTPROTO=none\nONBOOT=yes\nMTU=1500" in out
    )
    with transaction(reporting) as cluster:
        cluster.hosts["compute-0-1"].attrs["kvm"] = "true"
    bridged = cli(reporting, "report host interface compute-0-1")
    assert '<file name="/etc/sysconfig/network-scripts/ifcfg-peth0">' in bridged
    assert "alias peth0 e1000" in bridged and 'BRIDGE="eth0"' in bridged and "TYPE=Bridge" in bridged
    only = cli(reporting, "report host interface compute-0-1 iface=eth0")  # Rocks: the alias file, then bare lines
    assert only.split("</file>\n", 1)[1].startswith("DEVICE=eth0\n") and '<file name="/etc/sysconfig' not in only


def test_report_host_route_firewall_config411(reporting):
    routes = cli(reporting, "report host route compute-0-1")
    assert routes == (
        '<file name="/etc/sysconfig/static-routes">\nany net 224.0.0.0 netmask 255.255.255.0 dev eth0\n'
        "any host 255.255.255.255 dev eth0\n</file>\n"
    )
    firewall = cli(reporting, "report host firewall compute-0-1")
    assert "-A INPUT -j ACCEPT -i lo" in firewall and "-A INPUT -i eth0 -j ACCEPT" in firewall
    assert "SSH-PUBLIC" not in firewall  # a compute host is not on the public network
    front = cli(reporting, "report host firewall frontend")
    assert "-A INPUT -i eth1 -p tcp --dport ssh -j ACCEPT -m state --state NEW" in front
    config = cli(reporting, "report host config411 compute-0-1")
    assert "<appliance>compute</appliance>\n<group>Compute</group>\n" in config
    assert '<master url="http://10.1.1.1/411.d/"/>' in config
    set_attrs(reporting, port411="372")
    assert '<master url="http://10.1.1.1:372/411.d/"/>' in cli(reporting, "report host config411 compute-0-1")


def test_report_host_attr_dbhost_resolv(reporting):
    attrs = cli(reporting, "report host attr compute-0-1")
    assert "hostname:compute-0-1\n" in attrs and attrs.splitlines() == sorted(
        attrs.splitlines(), key=lambda line: line.split(":")[0]
    )
    assert cli(reporting, "report host attr compute-0-1 attr=rack") == "0\n"
    pydict = cli(reporting, "report host attr compute-0-1 pydict=true")
    assert not pydict.endswith("\n") and eval(pydict)["hostname"] == "compute-0-1"  # noqa: S307 - the test reads a literal
    missing = run_cli("-C", str(reporting), "report", "host", "attr", "compute-0-1", "attr=nope")
    assert missing.rc == 1 and "attribute nope does not exist" in missing.err
    assert cli(reporting, "report dbhost") == (
        '<file name="/opt/rocks/lib/python2.7/site-packages/rocks/__init__.py" '
        'mode="append">\nDatabaseHost = "frontend"\n</file>\n'
    )
    assert cli(reporting, "report resolv private") == "search local example.org\nnameserver 10.1.1.1\n"
    assert (
        cli(reporting, "report resolv") == "search local example.org\nnameserver 127.0.0.1\nnameserver 198.51.100.1\n"
    )


def test_rocks7_networking_evals_build_files_from_the_description(bare):
    """Rocks 7 base networking-client.xml, routes-client.xml, client-firewall.xml and resolv.xml
    call `rocks report …` in their evals; with rockscc's answers their <file>s reach the kickstart."""
    for name in ("networking-client", "routes-client", "client-firewall", "resolv"):
        shutil.copyfile(CORPUS / "rocks-7/base/nodes" / f"{name}.xml", bare / "nodes" / f"{name}.xml")
    write(
        bare,
        "graphs/default/g.xml",
        "<graph>"
        + "".join(
            f'<edge from="compute" to="{n}"/>'
            for n in ("networking-client", "routes-client", "client-firewall", "resolv")
        )
        + "</graph>",
    )
    write(bare, "nodes/compute.xml", "<kickstart/>")
    set_attrs(bare, kickstart_dialect="rhel7")
    result = run_cli("-C", str(bare), "list", "host", "profile", "compute-0-0")
    out = ok(result)
    assert "warning: <eval> failed" not in result.err
    for name in (
        "/etc/sysconfig/network",
        "/etc/hostname",
        "/etc/sysconfig/network-scripts/ifcfg-eth0",
        "/etc/sysconfig/static-routes",
        "/etc/sysconfig/iptables",
    ):
        assert f"cat > {name} << 'EOF'" in out, name
    assert "nameserver 10.1.1.1" in out


# --- the Rocks 7 tree with evals on ---------------------------------------------------------------------
def test_rocks7_compute_and_frontend_with_evals_on(tmp_path):
    """Without a Python 2: one error, naming base.xml's Python 2 eval and how to configure one. With
    an interpreter named (here Python 3 standing in for 2.7, so Python 2 code fails at run time),
    both kickstarts build; the evals calling `rocks report` give their files, those that read
    frontend files or Rocks tools rockscc does not have are warned about, none silently."""
    root = rocks7_cluster(tmp_path / "c", [])
    first = run_cli("-C", str(root), "list", "host", "profile", "compute-0-0")
    errors = [line for line in first.err.splitlines() if line.startswith("error")]
    assert first.rc == 1 and len(errors) == 1
    assert errors[0].startswith('error - nodes/base.xml:539: <eval shell="python"> is not Python 3')
    assert "rocks_eval_python" in errors[0]
    set_attrs(root, rocks_eval_python=PY3)
    for host in ("compute-0-0", "frontend"):
        result = run_cli("-C", str(root), "list", "host", "profile", host)
        assert result.rc == 0, result.err[-2000:]
        failed = {
            line.split(": warning")[0].split(" - ")[-1] for line in result.err.splitlines() if "<eval> failed" in line
        }
        # each failure is one of: Python 2 code, a frontend file, a Rocks tool rockscc does not ship
        assert failed and all(f.startswith(f"{host}: nodes/") for f in failed)
        if host == "compute-0-0":  # the frontend's networking nodes call `rocks report` in its %post instead
            for name in ("/etc/sysconfig/network-scripts/ifcfg-eth0", "/etc/sysconfig/iptables"):
                assert f"cat > {name} << 'EOF'" in result.out
        assert "# rockscc: not emitted, its <eval> failed: sshpw --username root --iscrypted" in result.out


def test_report_values_cannot_inject_xml_into_an_eval(bare):
    """An attribute value with markup reaches the node as text, never as another <file>."""
    set_attrs(bare, Kickstart_PrivateGateway='1.2.3.4</file><file name="/etc/shadow">x')
    out = cli(bare, "report host network compute-0-0")
    assert "&lt;/file&gt;" in out and out.count("<file ") == 1
    write(bare, "graphs/default/g.xml", '<graph><edge from="compute" to="t"/></graph>')
    write(bare, "nodes/compute.xml", "<kickstart/>")
    write(
        bare,
        "nodes/t.xml",
        '<kickstart><post><eval mode="xml">rocks report host network compute-0-0</eval></post></kickstart>',
    )
    result = run_cli("-C", str(bare), "list", "host", "profile", "compute-0-0")
    assert result.rc == 0, result.err
    assert "/etc/shadow" not in result.out.replace('GATEWAY=1.2.3.4</file><file name="/etc/shadow">x', "")
