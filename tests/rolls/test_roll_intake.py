"""Rocks rolls as they are: appliances, attributes and boot flags declared by their frontend
<post> scripts; Rocks 6/7 command spellings; a bare description with Rocks' appliances only;
`check` on graphs naming nodes of rolls not added; `test node` in a description's dialect."""

from __future__ import annotations

import shutil

import pytest

from rockscc.model import load, transaction
from tests.conftest import CORPUS, run_cli
from tests.xmlgraph.conftest import make_bare, write


def copy_roll(tmp_path, version: str, roll: str):
    target = tmp_path / f"roll-{roll}"
    shutil.copytree(CORPUS / version / roll, target)
    return target


def cli(root, *argv):
    return run_cli("-C", str(root), *argv)


@pytest.fixture
def bare(tmp_path):
    return make_bare(tmp_path / "c")


def test_bare_init_has_only_rocks_own_appliances_and_no_roll(bare):
    cluster = load(bare)
    assert sorted(cluster.appliances) == ["compute", "frontend", "nas"]
    assert cluster.rolls == {} and cluster.bootflags is None


def test_bare_init_with_xen_adds_the_builtin_roll(tmp_path):
    assert run_cli("init", str(tmp_path / "c"), "bare=yes", "xen=yes", "password=x").rc == 0
    cluster = load(tmp_path / "c")
    assert "vm-container" in cluster.appliances and "xen" in cluster.rolls
    assert "tile" not in cluster.appliances


def test_core_roll_declares_its_appliances_and_attributes(bare, tmp_path):
    """Rocks 7 core nodes/database-data.xml and login-server.xml: `rocks add appliance` and
    `rocks set [appliance|os] attr` lines in frontend posts."""
    result = cli(bare, "add", "roll", str(copy_roll(tmp_path, "rocks-7", "core")), "name=core")
    assert result.rc == 0, result.err
    assert result.out.strip() == 'added roll "core" with appliances frontend, compute, login, nas'
    # device appliances (no graph node) are named, with where they are declared
    assert 'nodes/database-data.xml:585: appliance "network" has no graph node' in result.err
    assert 'nodes/database-data.xml:586: appliance "power" has no graph node' in result.err
    cluster = load(bare)
    login = cluster.appliances["login"]
    assert (login.membership, login.node, login.roll) == ("Login", "login", "core")
    assert login.attrs["submit_host"] == "true" and login.attrs["managed"] == "true"
    compute = cluster.appliances["compute"]  # init's compute is the same appliance: attributes merged
    assert compute.roll is None and compute.attrs == {"managed": "true", "exec_host": "true", "submit_host": "false"}
    assert cluster.appliances["frontend"].attrs["primary_net"] == "public"
    assert cluster.attrs["ssh_use_dns"] == "true"
    assert cluster.os["linux"]["HttpRoot"] == "/var/www/html" and cluster.os["sunos"]["RootDir"] == "/"


def test_the_site_s_values_win_over_a_roll_s(bare, tmp_path):
    assert cli(bare, "set", "attr", "ssh_use_dns", "false").rc == 0
    assert cli(bare, "set", "appliance", "attr", "compute", "managed", "false").rc == 0
    assert cli(bare, "add", "roll", str(copy_roll(tmp_path, "rocks-7", "core"))).rc == 0
    cluster = load(bare)
    assert cluster.attrs["ssh_use_dns"] == "false" and cluster.appliances["compute"].attrs["managed"] == "false"


def test_roll_toml_wins_over_post_scripts(bare, tmp_path):
    roll = copy_roll(tmp_path, "rocks-7", "core")
    (roll / "roll.toml").write_text(
        'name = "core"\n[appliances.login]\nmembership = "Login Nodes"\nnode = "login"\n[attrs]\nssh_use_dns = false\n'
    )
    assert cli(bare, "add", "roll", str(roll)).rc == 0
    cluster = load(bare)
    assert cluster.appliances["login"].membership == "Login Nodes"
    assert cluster.attrs["ssh_use_dns"] == "false"


def test_rocks5_xen_roll_brings_vm_container_and_the_global_boot_flag(bare, tmp_path):
    """Rocks 5.0 xen nodes/xen-server.xml: `rocks add appliance vm-container …` and
    `rocks set host bootflags flags="dom0_mem=1024M"` (global: no host named)."""
    result = cli(bare, "add", "roll", str(copy_roll(tmp_path, "rocks-5.0", "xen")), "name=xen")
    assert result.rc == 0, result.err
    cluster = load(bare)
    vc = cluster.appliances["vm-container"]
    assert (vc.membership, vc.node, vc.short_name, vc.schedulable, vc.public) == (
        "VM Container",
        "vm-container",
        "vc",
        False,
        True,
    )
    assert cluster.bootflags == "dom0_mem=1024M"
    assert cli(bare, "report", "host", "bootflags").out == "dom0_mem=1024M\n"


def test_a_roll_clashing_with_an_appliance_changes_nothing(tmp_path):
    """A non-bare description has rockscc's xen roll's vm-container; Rocks 7 kvm declares another."""
    root = tmp_path / "c"
    assert run_cli("init", str(root), "password=x").rc == 0
    before = (root / "cluster.toml").read_bytes()
    result = cli(root, "add", "roll", str(copy_roll(tmp_path, "rocks-7", "kvm")))
    assert result.rc == 1
    assert 'adds appliance "vm-container", which already exists' in result.err
    assert (root / "cluster.toml").read_bytes() == before


def test_lines_with_install_time_values_are_reported_not_taken(bare, tmp_path):
    roll = tmp_path / "r"
    write(
        roll,
        "nodes/r-server.xml",
        """<kickstart>
<post>
/opt/rocks/bin/rocks set attr Fixed yes
/opt/rocks/bin/rocks set attr FromEntity &Kickstart_PublicHostname;
rocks set attr FromShell $HOSTNAME
rocks add appliance r-node \\
	membership='R Node' node=r-node \\
	public=yes compute=no
rocks add appliance attr r-node  color  "light blue"   # a comment
</post>
<post os="sunos">rocks set attr SolarisOnly yes</post>
<post><file name="/tmp/x">rocks set attr InAFileBody yes</file></post>
</kickstart>""",
    )
    write(roll, "graphs/default/r.xml", '<graph><edge from="r-node" to="r-server"/></graph>')
    result = cli(bare, "add", "roll", str(roll))
    assert result.rc == 0, result.err
    assert "nodes/r-server.xml:4: rocks set attr FromEntity" in result.err
    assert "nodes/r-server.xml:5: rocks set attr FromShell" in result.err
    cluster = load(bare)
    assert cluster.attrs["Fixed"] == "yes"
    for name in ("FromEntity", "FromShell", "SolarisOnly", "InAFileBody"):
        assert name not in cluster.attrs
    node = cluster.appliances["r-node"]
    assert (node.membership, node.public, node.schedulable, node.attrs) == (
        "R Node",
        True,
        False,
        {"color": "light blue"},
    )


def test_a_broken_node_file_does_not_stop_the_intake(bare, tmp_path):
    roll = tmp_path / "r"
    write(roll, "nodes/a.xml", "<kickstart><post>rocks set attr Good yes</post></kickstart>")
    write(roll, "nodes/b.xml", "<kickstart><post>unclosed")
    assert cli(bare, "add", "roll", str(roll)).rc == 0
    assert load(bare).attrs["Good"] == "yes"


# --- Rocks 6/7 command spellings ------------------------------------------------------------------
def test_add_attr_spellings(bare):
    assert cli(bare, "add", "attr", "Color", "blue").rc == 0
    again = cli(bare, "add", "attr", "Color", "red")
    assert again.rc == 1 and 'attribute "Color" already exists (value "blue"); use set attr' in again.err
    assert cli(bare, "add", "attr", "attr=Shape", "value=round").rc == 0
    assert cli(bare, "add", "appliance", "attr", "compute", "managed", "true").rc == 0
    assert cli(bare, "add", "os", "attr", "linux", "HttpRoot", "/var/www/html").rc == 0
    assert cli(bare, "add", "host", "compute-0-0").rc == 0
    assert cli(bare, "add", "host", "attr", "compute-0-0", "gpu", "value=yes").rc == 0
    nope = cli(bare, "add", "appliance", "attr", "nosuch", "a", "b")
    assert nope.rc == 1 and 'appliance "nosuch" is not defined' in nope.err
    assert cli(bare, "add", "attr", "hostname", "x").rc == 1
    cluster = load(bare)
    assert cluster.attrs["Color"] == "blue" and cluster.attrs["Shape"] == "round"
    assert cluster.appliances["compute"].attrs["managed"] == "true"
    assert cluster.os["linux"]["HttpRoot"] == "/var/www/html"
    assert cluster.hosts["compute-0-0"].attrs["gpu"] == "yes"


# --- check and test node --------------------------------------------------------------------------
def test_check_warns_on_edges_to_nodes_of_absent_rolls(bare):
    write(
        bare,
        "graphs/default/g.xml",
        """<graph>
<edge from="compute" to="client"/>
<edge from="client" to="ganglia-client" cond="ganglia"/>
<edge from="viz-server" to="client"/>
<edge from="server" to="client"/>
</graph>""",
    )
    for name in ("compute", "client", "server", "nas"):
        write(bare, f"nodes/{name}.xml", "<kickstart/>")
    assert cli(bare, "add", "host", "compute-0-0").rc == 0
    result = cli(bare, "check")
    assert result.rc == 0, result.out + result.err
    assert 'warning: edge client -> ganglia-client: no node file for "ganglia-client"' in result.out
    assert 'warning: edge viz-server -> client: no node file for "viz-server"' in result.out


def test_check_errors_on_a_node_every_host_reaches(bare):
    write(
        bare,
        "graphs/default/g.xml",
        '<graph>\n<edge from="compute" to="absent"/>\n<edge from="server" to="nas"/></graph>',
    )
    for name in ("compute", "server", "nas"):
        write(bare, f"nodes/{name}.xml", "<kickstart/>")
    assert cli(bare, "add", "host", "compute-0-0").rc == 0
    result = cli(bare, "check")
    assert result.rc == 1
    assert (
        'graphs/default/g.xml:2: error: edge compute -> absent: no node file for "absent", which hosts of a used appliance always reach'
        in result.out
    )


def test_test_node_takes_the_dialect_and_attributes_of_its_description(bare, tmp_path):
    node = write(
        tmp_path, "n.xml", '<kickstart><post cond="rocks_version_major == 7">R7 &Site_Thing;</post></kickstart>'
    )
    with transaction(bare) as cluster:
        cluster.attrs.update({"kickstart_dialect": "rhel7", "Site_Thing": "from-the-description"})
    inside = run_cli("test", "node", str(node), cwd=bare)
    assert inside.rc == 0, inside.err
    assert "R7 from-the-description" in inside.out and "%end" in inside.out
    assert "R7" in cli(bare, "test", "node", str(node)).out
    outside = run_cli("test", "node", str(node), "Site_Thing=x", cwd=tmp_path)
    assert outside.rc == 0 and "R7" not in outside.out and "%end" not in outside.out  # rhel5: Rocks 5.0
    forced = run_cli("test", "node", str(node), "dialect=rhel6", cwd=bare)
    assert "R7" not in forced.out and "%end" in forced.out


# --- post text that tries to break the intake ------------------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rockscc.xmlgraph.rollscan import scan_roll  # noqa: E402

WORDS = st.sampled_from(
    [
        "rocks",
        "/opt/rocks/bin/rocks",
        "add",
        "set",
        "appliance",
        "attr",
        "os",
        "host",
        "bootflags",
        "x",
        "membership='A B",
        'node="n"',
        "flags=",
        "\\",
        "\\\n",
        "'",
        '"',
        "$X",
        "`y`",
        "&amp;",
        "#",
        "attr=",
        "value=",
        "\n",
        "linux",
        "=",
        "compute=yes",
    ]
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(WORDS, max_size=30))
def test_scanning_any_post_text_never_fails(tmp_path, words):
    """Property: whatever a post says, scanning it gives declarations or nothing, never an error;
    every attribute taken has a literal name and value (no $, backquote)."""
    from xml.sax.saxutils import escape

    roll = tmp_path / "r"
    write(roll, "nodes/a.xml", f"<kickstart><post>{escape(' '.join(words))}</post></kickstart>")
    found = scan_roll(roll)
    for table in [found.attrs, *found.os_attrs.values(), *found.appliance_attrs.values()]:
        for key, value in table.items():
            assert not any(c in key + value for c in "$`")
    for declared in found.appliances.values():
        assert not any(c in "".join(declared.params.values()) for c in "$`")
