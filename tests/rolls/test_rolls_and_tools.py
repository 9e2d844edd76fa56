"""Rolls end to end, the roll developer's tools, pictures, migration from Rocks, and the CLI reference."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from rockscc.model import load
from tests.conftest import CORPUS, REPO, run_cli

ROLL_TOML = """name = "viz"
version = "1.0"
description = "display walls"

[appliances.wall]
membership = "Wall Controller"
node = "wall"
short_name = "wc"

[commands]
"report viz" = "commands/report_viz.py:ReportViz"
"""

COMMAND = '''
from rockscc.cli.command import Command


class ReportViz(Command):
    """Say which hosts drive the display wall."""

    name = "report viz"

    def run(self, ctx, opts):
        walls = sorted(h.name for h in ctx.cluster.hosts.values() if h.membership == "Wall Controller")
        ctx.out("walls: " + " ".join(walls))
'''


def make_roll(root: Path) -> Path:
    roll = root / "viz-roll"
    (roll / "nodes").mkdir(parents=True)
    (roll / "graphs" / "default").mkdir(parents=True)
    (roll / "commands").mkdir()
    (roll / "roll.toml").write_text(ROLL_TOML)
    (roll / "commands" / "report_viz.py").write_text(COMMAND)
    (roll / "nodes" / "wall.xml").write_text("<kickstart><package>xorg-x11-server-Xorg</package></kickstart>\n")
    (roll / "nodes" / "viz-tools.xml").write_text(
        "<kickstart><package>viz-tools</package><post>echo viz for &hostname;</post></kickstart>\n"
    )
    (roll / "graphs" / "default" / "viz.xml").write_text(
        '<graph><edge from="wall" to="client"/><edge from="compute" to="viz-tools"/></graph>\n'
    )
    return roll


def test_a_roll_adds_nodes_edges_an_appliance_and_a_command_and_disabling_removes_them(cluster_dir, tmp_path):
    run = lambda *a: run_cli("-C", str(cluster_dir), *a)  # noqa: E731
    roll = make_roll(tmp_path)
    assert run("add", "roll", str(roll)).rc == 0
    assert run("add", "host", "compute-0-0").rc == 0
    assert run("add", "host", "wc-0-0").rc == 0  # the roll's appliance, by its short name
    assert load(cluster_dir).hosts["wc-0-0"].membership == "Wall Controller"
    compute = run("list", "host", "profile", "compute-0-0").out
    assert "viz-tools" in compute and "echo viz for compute-0-0" in compute and "nodes/viz-tools.xml (viz)" in compute
    wall = run("list", "host", "profile", "wc-0-0")
    assert wall.rc == 0 and "xorg-x11-server-Xorg" in wall.out
    assert run("report", "viz").out == "walls: wc-0-0\n"
    table = run("list", "roll").out
    assert "viz" in table and "wall" in table and "report viz" in table
    # disabling: refused while the roll's appliance has hosts, then everything goes
    refused = run("disable", "roll", "viz")
    assert refused.rc == 1 and "wc-0-0" in refused.err
    assert run("remove", "host", "wc-0-0").rc == 0
    assert run("disable", "roll", "viz").rc == 0
    compute = run("list", "host", "profile", "compute-0-0").out
    assert "viz-tools" not in compute
    gone = run("report", "viz")
    assert gone.rc == 1 and 'invalid command "report viz"' in gone.err
    assert run("add", "host", "wc-0-1").rc == 1
    assert run("enable", "roll", "viz").rc == 0
    assert "viz-tools" in run("list", "host", "profile", "compute-0-0").out
    assert run("remove", "roll", "viz").rc == 0
    assert "wall" not in run("list", "appliance").out


def test_two_rolls_defining_one_node_file_are_reported(cluster_dir, tmp_path):
    run = lambda *a: run_cli("-C", str(cluster_dir), *a)  # noqa: E731
    first = make_roll(tmp_path / "a")
    second = tmp_path / "b" / "other"
    (second / "nodes").mkdir(parents=True)
    (second / "nodes" / "viz-tools.xml").write_text("<kickstart/>\n")
    assert run("add", "roll", str(first)).rc == 0
    assert run("add", "roll", str(second)).rc == 0
    check = run("check")
    assert "nodes/viz-tools.xml: warning: defined by rolls viz and other; other wins" in check.out
    assert "defined by rolls viz and other" in run("list", "roll").err


def test_physical_only_cluster_never_sees_xen(tmp_path):
    root = tmp_path / "c"
    assert run_cli("init", str(root), "xen=no", "password=x").rc == 0
    assert "vm-container" not in run_cli("-C", str(root), "list", "appliance").out
    assert run_cli("-C", str(root), "list", "roll").out.count("\n") == 1


@pytest.mark.parametrize("path", sorted((CORPUS / "rocks-5.0" / "base" / "nodes").glob("*.xml")), ids=lambda p: p.name)
def test_test_node_on_every_rocks5_node_file(path):
    result = run_cli("test", "node", str(path))
    assert "Traceback" not in result.err
    if path.name == "server-wan.xml":  # `interactive --dist`: Rocks' own installer's option, not RHEL 5's
        assert result.rc == 1 and "server-wan.xml:90): unrecognized arguments: --dist" in result.err
        assert "interactive --dist" in result.out  # the fragment is shown all the same
    else:
        assert result.rc == 0, result.err


def test_test_node_shows_the_fragment_with_attributes():
    result = run_cli(
        "test",
        "node",
        str(REPO / "nodes" / "compute.xml"),
        "hostname=c-9-9",
        "rack=9",
        "rank=9",
        "Info_ClusterName=demo",
    )
    assert result.rc == 0, result.err
    assert "c-9-9 (Compute, rack 9 rank 9) of cluster demo" in result.out and "gcc" in result.out


@pytest.mark.parametrize(
    "dialect, line",
    [
        ("rhel6", "%end"),
        ("rhel5", "%packages"),
        ("rhel7", "  %end"),
        ("rhel5", "  %post --nochroot"),
        ("rhel9", "%end   # done"),
        ("rhel5", "%end"),
        ("rhel8", "\t%include /tmp/x"),
        ("rhel6", " %ksappend x"),
    ],
)
def test_a_body_line_the_installer_would_read_as_a_section_boundary_is_refused(tmp_path, dialect, line):
    """As pykickstart reads a section body: the first word after leading white space."""
    node = tmp_path / "nodes" / "odd.xml"
    node.parent.mkdir()
    node.write_text(f"<kickstart>\n<post>\necho one\n{line}\necho two\n</post>\n</kickstart>\n")
    result = run_cli("test", "node", str(node), f"dialect={dialect}")
    assert result.rc == 1, result.out
    assert (
        f"odd.xml:2: a line of this %post body, '{line.strip()}', would be read by the installer as a section line"
        in result.err
    )
    node.write_text("<kickstart>\n<post>\necho one %end\n%endless is a word\n# %end\n</post>\n</kickstart>\n")
    assert run_cli("test", "node", str(node), f"dialect={dialect}").rc == 0


def test_graph_svg_renders_with_every_node_of_the_walk(cluster_dir):
    result = run_cli("-C", str(cluster_dir), "report", "graph", "compute", "format=svg")
    assert result.rc == 0, result.err
    svg = etree.fromstring(result.out.encode())
    titles = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}title")}
    assert {"compute", "client", "base", "partition", "do-partition", "grub-client"} <= titles
    assert "compute&#45;&gt;client" in result.out or "compute->client" in titles
    dot = run_cli("-C", str(cluster_dir), "list", "host", "graph", "frontend").out
    assert '"server" -> "pxeboot";' in dot


def test_partition_plan_svg(tmp_path):

    root = tmp_path / "ex"
    shutil.copytree(REPO / "examples" / "cluster", root, ignore=shutil.ignore_patterns("build", ".rockscc-cache"))
    result = run_cli("-C", str(root), "list", "host", "partition", "plan", "nas-0-0", "format=svg")
    assert result.rc == 0, result.err
    svg = etree.fromstring(result.out.encode())
    rects = svg.findall("{http://www.w3.org/2000/svg}rect")
    assert len(rects) == 4 + 6  # four disk bars, six partitions
    assert any("raid.00" in (t.text or "") for t in svg.iter("{http://www.w3.org/2000/svg}title"))


ROCKS_DUMP = """\
/opt/rocks/bin/rocks add network private subnet=10.1.0.0 netmask=255.255.0.0
/opt/rocks/bin/rocks add network ib subnet=10.2.0.0 netmask=255.255.0.0
/opt/rocks/bin/rocks add host compute-0-0 cpus=2 rack=0 rank=0 membership="Compute"
/opt/rocks/bin/rocks add host vm-container-0-0 cpus=4 rack=0 rank=1 membership="VM Container"
/opt/rocks/bin/rocks add host compute-0-1-0 cpus=1 rack=0 rank=1 membership="Compute"
/opt/rocks/bin/rocks add host interface compute-0-0 eth0
/opt/rocks/bin/rocks set host interface ip compute-0-0 eth0 10.1.255.254
/opt/rocks/bin/rocks set host interface mac compute-0-0 eth0 00:30:48:7b:3e:3c
/opt/rocks/bin/rocks set host interface name compute-0-0 eth0 compute-0-0
/opt/rocks/bin/rocks set host interface subnet compute-0-0 eth0 private
/opt/rocks/bin/rocks set host interface gateway compute-0-0 eth0 10.1.1.1
/opt/rocks/bin/rocks add host interface compute-0-0 ib0
/opt/rocks/bin/rocks set host interface ip compute-0-0 ib0 10.2.255.254
/opt/rocks/bin/rocks set host interface subnet compute-0-0 ib0 ib
/opt/rocks/bin/rocks add host interface compute-0-1-0 eth0
/opt/rocks/bin/rocks set host interface ip compute-0-1-0 eth0 10.1.255.252
/opt/rocks/bin/rocks set host interface mac compute-0-1-0 eth0 00:16:3e:00:00:01
/opt/rocks/bin/rocks set host interface module compute-0-1-0 eth0 xennet
/opt/rocks/bin/rocks set host interface subnet compute-0-1-0 eth0 private
/opt/rocks/bin/rocks set host vm compute-0-1-0 physnode='vm-container-0-0' disk='file:/state/partition1/xen/disks/compute-0-1-0.hda,hda,w' disksize='36' mem='1024' slice='0' virt-type='None'
/opt/rocks/bin/rocks add var service=Kickstart component=Timezone value="Europe/Paris"
/opt/rocks/bin/rocks sync config
"""

EQUIVALENT = """\
rockscc add network ib subnet=10.2.0.0 netmask=255.255.0.0
rockscc add host compute-0-0 cpus=2 rack=0 rank=0 membership=Compute ip=none
rockscc add host vm-container-0-0 cpus=4 rack=0 rank=1 membership='VM Container' ip=none
rockscc add host compute-0-1-0 cpus=1 rack=0 rank=1 membership=Compute ip=none
rockscc add host interface compute-0-0 eth0 ip=10.1.255.254 mac=00:30:48:7b:3e:3c name=compute-0-0 subnet=private
rockscc add host interface compute-0-0 ib0 ip=10.2.255.254 subnet=ib
rockscc add host interface compute-0-1-0 eth0 ip=10.1.255.252 mac=00:16:3e:00:00:01 module=xennet subnet=private
rockscc set host vm compute-0-1-0 physnode=vm-container-0-0 disk=file:/state/partition1/xen/disks/compute-0-1-0.hda,hda,w disksize=36 mem=1024 slice=0
rockscc set attr Kickstart_Timezone Europe/Paris
"""


def test_rocks5_dump_loads_into_an_equal_model(tmp_path):
    (tmp_path / "rocks-dump.sh").write_text(ROCKS_DUMP)
    (tmp_path / "equivalent.sh").write_text(EQUIVALENT)
    migrated, expected = tmp_path / "migrated", tmp_path / "expected"
    assert run_cli("init", str(migrated), "password=x").rc == 0
    (expected / "cluster.toml").parent.mkdir()
    (expected / "cluster.toml").write_bytes((migrated / "cluster.toml").read_bytes())  # same password hash
    shutil.copytree(migrated / "hosts", expected / "hosts")  # the same frontend
    result = run_cli("-C", str(migrated), "load", "rocks-dump", str(tmp_path / "rocks-dump.sh"))
    assert result.rc == 0, result.err
    assert "rocks-dump.sh:11: not mapped, skipped" in result.err and "rocks-dump.sh:22: not mapped" in result.err
    assert run_cli("-C", str(expected), "load", str(tmp_path / "equivalent.sh")).rc == 0
    a, b = load(migrated), load(expected)
    a.root = b.root = None
    assert a == b


def test_cli_reference_is_up_to_date():
    from rockscc.cli.reference import reference

    assert (REPO / "docs" / "cli.md").read_text() == reference(), "run: python -m rockscc.cli.reference > docs/cli.md"


def test_pykickstart_starts_without_requests_and_leaves_the_real_one_importable():
    script = (
        "import sys\nfrom rockscc.backends.kickstart import _parser\n_parser('RHEL5')\n"
        "assert 'requests' not in sys.modules, 'requests was imported'\n"
        "import requests, pykickstart.load\nassert hasattr(requests, 'Session')\n"
        "try:\n    pykickstart.load.requests.get('http://example.invalid/ks.cfg')\n"
        "except pykickstart.load.RequestException as exc:\n    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "does not fetch kickstart %include URLs" in result.stdout


@pytest.mark.parametrize("gone", ["directory moved", "module uninstalled"])
def test_an_enabled_roll_that_is_gone_stops_the_build_and_keeps_its_kickstarts(cluster_dir, tmp_path, gone):
    """A roll's directory moved away (or its package uninstalled) used to build silently without
    its nodes — kickstarts rewritten without its packages — or fail as an internal error."""
    run = lambda *a: run_cli("-C", str(cluster_dir), *a)  # noqa: E731
    roll = make_roll(tmp_path)
    assert run("add", "roll", str(roll)).rc == 0 and run("add", "host", "compute-0-0").rc == 0
    assert run("build").rc == 0
    kickstart = cluster_dir / "build" / "kickstart" / "compute-0-0.ks"
    built = kickstart.read_bytes()
    assert b"viz-tools" in built
    if gone == "directory moved":
        roll.rename(tmp_path / "elsewhere")
        says = f"{roll} is not a directory"
    else:
        text = (cluster_dir / "cluster.toml").read_text().replace(f'path = "{roll}"', 'path = "pkg:no_such_roll_pkg"')
        (cluster_dir / "cluster.toml").write_text(text)
        says = 'pkg:no_such_roll_pkg": no installed Python package of that name'
    for argv in (["build"], ["list", "host", "profile", "compute-0-0"], ["check"]):
        result = run(*argv)
        assert result.rc == 1 and result.err.startswith("error - ") and says in result.err, (argv, result.err)
    assert kickstart.read_bytes() == built
    listed = run("list", "roll")  # what is broken is shown, not an error
    assert listed.rc == 0 and "broken" in listed.out, listed.err
    assert run("list", "host").rc == 0
    assert run("disable", "roll", "viz").rc == 0 and run("build").rc == 0  # the way out the error names
    assert b"viz-tools" not in kickstart.read_bytes()
