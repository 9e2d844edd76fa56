"""Incremental builds that went stale, each kept as the smallest sequence of edits that showed it
(issue 14's reports, and what the property tests of test_incremental_property.py found): after
each edit the incremental build must equal a build from scratch (tests/engine/differential.py) and
--explain must name what changed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from rockscc.model import load, transaction
from rockscc.model.overlay import RACY_NS
from tests.engine.differential import Description, artifacts


@pytest.fixture
def desc(tmp_path):
    d = Description(tmp_path)
    d.must("add", "host", "compute-0-0")
    d.must("add", "host", "nas-0-0")
    d.check("--eval=no")
    return d


def node(body: str) -> str:
    return f"<kickstart>\n{body}\n</kickstart>\n"


def test_a_graph_file_added_after_a_build(desc):
    """Issue 14: the new edge's node was missing from every kickstart (0 rebuilt)."""
    desc.write("nodes/site-a.xml", node("<package>site-pkg</package>"))
    desc.check("--eval=no")
    desc.write("graphs/default/site.xml", '<graph><edge from="compute" to="site-a"/></graph>\n')
    build = desc.check("--eval=no")
    assert build.rebuilt["profile:compute-0-0"].startswith("the files of graph default changed")
    assert "site-pkg" in (desc.root / "build/kickstart/compute-0-0.ks").read_text()
    (desc.root / "graphs/default/site.xml").rename(desc.root / "graphs/default/other.xml")  # renamed: a change too
    assert "profile:compute-0-0" in desc.check("--eval=no").rebuilt


def test_an_invalid_node_reached_through_a_new_graph_file_is_validated(desc):
    desc.write("nodes/bad.xml", node("<main><timezone>--bogus UTC</timezone></main>"))
    desc.check("--eval=no")
    desc.write("graphs/default/site.xml", '<graph><edge from="compute" to="bad"/></graph>\n')
    build = desc.check("--eval=no")
    assert "pykickstart" in build.errors["profile:compute-0-0"]


def test_a_roll_added_or_enabled_after_a_build(desc, tmp_path):
    """Issue 14: `add roll` with an edge compute -> ib: the kickstarts lacked the roll's packages."""
    roll = tmp_path / "ib-roll"
    desc.write("nodes/ib.xml", node("<package>infiniband</package>"), roll)
    desc.write("graphs/default/ib.xml", '<graph><edge from="compute" to="ib"/></graph>\n', roll)
    desc.must("add", "roll", str(roll), "enabled=no")
    desc.check("--eval=no")
    desc.must("enable", "roll", "ib-roll")
    build = desc.check("--eval=no")
    assert "infiniband" in (desc.root / "build/kickstart/compute-0-0.ks").read_text()
    assert "profile:compute-0-0" in build.rebuilt
    desc.must("disable", "roll", "ib-roll")
    desc.check("--eval=no")
    assert "infiniband" not in (desc.root / "build/kickstart/compute-0-0.ks").read_text()


def test_hardware_declared_after_a_build(desc):
    """Issue 14: a host built without disks later gets a profile or a disk: its plan never appeared."""
    desc.must("add", "hwprofile", "one", "disks=sda:80G")
    desc.must("set", "host", "hwprofile", "compute-0-0", "one")
    build = desc.check("--eval=no")
    assert build.rebuilt["profile:compute-0-0"] == "the host's declared hardware changed"
    assert (desc.root / "build/partitions/compute-0-0.json").is_file()
    desc.must("add", "host", "disk", "nas-0-0", "sdb", "size=40G")
    desc.check("--eval=no")
    assert (desc.root / "build/partitions/nas-0-0.json").is_file()
    desc.must("set", "host", "hwprofile", "compute-0-0", "")
    desc.check("--eval=no")
    assert not (desc.root / "build/partitions/compute-0-0.json").exists()


def test_an_include_file_that_appears_or_is_shadowed_later(desc, tmp_path):
    desc.write("nodes/extend-compute.xml", node('<post><sinclude file="site.sh"/></post>'))
    desc.check("--eval=no")
    desc.write("include/site.sh", "echo from-site\n")  # did not exist: now it does
    build = desc.check("--eval=no")
    assert build.rebuilt["profile:compute-0-0"].startswith("the file include/site.sh resolves to changed")
    roll = tmp_path / "later-roll"
    desc.write("include/site.sh", "echo from-roll\n", roll)
    (roll / "nodes").mkdir()
    desc.must("add", "roll", str(roll))
    desc.check("--eval=no")  # the site's file still wins over a roll's
    assert "from-site" in (desc.root / "build/kickstart/compute-0-0.ks").read_text()
    (desc.root / "include/site.sh").unlink()
    desc.check("--eval=no")  # and without it, the roll's is found
    assert "from-roll" in (desc.root / "build/kickstart/compute-0-0.ks").read_text()


def test_a_site_node_file_that_shadows_a_base_node_and_goes_away(desc):
    desc.write("nodes/ssh.xml", node("<package>site-ssh</package>"))
    build = desc.check("--eval=no")
    assert build.rebuilt["profile:compute-0-0"].startswith("the files defining node ssh changed")
    (desc.root / "nodes/ssh.xml").unlink()
    desc.check("--eval=no")
    assert "site-ssh" not in (desc.root / "build/kickstart/compute-0-0.ks").read_text()


def test_an_appliance_root_changed_by_hand(desc):
    with transaction(desc.root) as cluster:
        cluster.appliances["compute"].node = "nas"
    build = desc.check("--eval=no")
    assert build.rebuilt["profile:compute-0-0"] == "the host's appliance graph or root node changed"


def test_an_eval_reads_every_variable_not_only_those_its_text_shows(desc):
    desc.write(
        "nodes/extend-compute.xml",
        node(
            '<post><eval shell="python">import os; print("flag=" + os.environ.get("site_flag", "unset"))</eval></post>'
        ),
    )
    desc.check()
    desc.must("set", "attr", "site_flag", "on")
    build = desc.check()
    assert build.rebuilt["profile:compute-0-0"] == "the host's attributes changed (an <eval> runs with all of them)"
    assert "flag=on" in (desc.root / "build/kickstart/compute-0-0.ks").read_text()


def test_an_xml_eval_records_what_it_reads(desc):
    desc.write(
        "nodes/extend-compute.xml",
        node('<eval shell="sh" mode="xml">echo "&lt;package&gt;$site_pkg&lt;/package&gt;"</eval>'),
    )
    desc.must("set", "attr", "site_pkg", "first")
    desc.check()
    desc.must("set", "attr", "site_pkg", "second")
    desc.check()
    assert "second" in (desc.root / "build/kickstart/compute-0-0.ks").read_text()


def test_one_frontend(desc):
    """Two frontends both wrote pxelinux.cfg/default: which one a build refused depended on which
    was built last (frontend made Compute, compute-0-0 made Frontend, frontend made Frontend
    again: the incremental build refused frontend, a build from scratch compute-0-0). The
    description now has at most one frontend."""
    result = desc.cli("add", "host", "frontend-0-1")
    assert result.rc == 1 and "frontend and frontend-0-1 would both be the frontend" in result.err
    desc.must("set", "host", "membership", "frontend", "Compute")
    desc.must("set", "host", "membership", "compute-0-0", "Frontend")
    desc.check("--eval=no")
    result = desc.cli("set", "host", "membership", "frontend", "Frontend")
    # the error names the host the edit changed
    assert result.rc == 1 and "hosts.frontend.membership: compute-0-0 and frontend would both be" in result.err
    desc.check("--eval=no")
    assert "Frontend" not in desc.cli("list", "host", "frontend").out


def test_a_same_sized_rewrite_that_keeps_the_mtime(desc):
    """Within one clock tick (or with the mtime put back) a rewrite of the same size keeps the
    mtime: the ctime, the inode and racily recent files still give it away."""
    path = desc.root / "nodes/extend-compute.xml"
    desc.write("nodes/extend-compute.xml", node("<package>aaaa</package>"))
    desc.check("--eval=no")
    before = path.stat()
    desc.write("nodes/extend-compute.xml", node("<package>bbbb</package>"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    desc.check("--eval=no")
    assert "bbbb" in (desc.root / "build/kickstart/compute-0-0.ks").read_text()


def test_an_order_cycle_that_feeds_another_node_names_its_files(desc):
    """Issue 14: it ended in an internal error (exit 70)."""
    for name in ("site-a", "site-b"):
        desc.write(f"nodes/{name}.xml", node(f"<package>{name}</package>"))
    desc.write(
        "graphs/default/site.xml",
        """<graph>
<edge from="compute" to="site-a"/>
<order head="site-a" tail="site-b"/>
<order head="site-b" tail="site-a"/>
<order head="site-b" tail="ssh"/>
<order head="base" tail="base"/>
</graph>
""",
    )
    build = desc.check("--eval=no")
    message = build.errors["profile:compute-0-0"]
    assert build.result.rc == 1 and "internal error" not in build.result.err
    assert message.startswith("2 order cycles: base -> base (graphs/default/site.xml:6 (site))")
    assert "site-a -> site-b -> site-a (graphs/default/site.xml:3 (site); graphs/default/site.xml:4 (site))" in message
    assert "ssh" not in message.split("cycles:")[1]  # stuck behind a cycle, not in one


def test_create_host_vm_then_build_is_a_no_op(desc, tmp_path):
    """Issue 14: create host vm rebuilt the VM's kickstart with <eval> off."""
    from tests.conftest import remove_test_domains

    desc.write("nodes/extend-compute.xml", node('<post><eval shell="sh">echo ran-$Kickstart_Timezone</eval></post>'))
    (tmp_path / "disks").mkdir()
    for argv in (
        ["add", "host", "vm-container-0-0"],
        ["set", "attr", "libvirt_uri", "test:///default"],
        ["set", "attr", "vm_disk_dir", str(tmp_path / "disks")],
        ["add", "host", "vm", "vm-container-0-0", "membership=Compute", "disksize=1"],
    ):
        desc.must(*argv)
    desc.check()
    try:
        desc.must("create", "host", "vm", "compute-0-0-0")
        build = desc.check()
        assert "profile:compute-0-0-0" not in build.rebuilt
        assert "not run" not in (desc.root / "build/kickstart/compute-0-0-0.ks").read_text()
    finally:
        remove_test_domains()


def test_watch_sees_the_files_of_a_roll_outside_the_description(desc, tmp_path):
    """--watch watched the description's directory only: a roll's node file could change unseen."""
    roll = tmp_path / "my-roll"
    desc.write("nodes/extend-compute.xml", node("<package>first</package>"), roll)
    desc.must("add", "roll", str(roll))
    log = tmp_path / "watch.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "rockscc", "-C", str(desc.root), "build", "--watch", "--eval=no"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(log, "for changes (Ctrl-C to stop)")
        assert str(roll) in log.read_text()
        desc.write("nodes/extend-compute.xml", node("<package>second</package>"), roll)
        _wait_for(log, "watching for changes")
        assert "second" in (desc.root / "build/kickstart/compute-0-0.ks").read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _wait_for(log, text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


def test_a_build_that_stops_before_any_job_leaves_build_as_it_was(desc):
    """A build from scratch has nothing to compare with then: build/ must be what it was (the
    property test met one with Debian 12 hosts and no Debian PXE action, then a whole-build error)."""
    toml = desc.root / "cluster.toml"
    good = toml.read_text()
    toml.write_text(good + "\n[[[not toml\n")
    build = desc.check("--eval=no")
    assert build.result.rc != 0 and "cluster.toml" in build.failed
    toml.write_text(good)
    assert desc.check("--eval=no").rebuilt == {}


@pytest.mark.parametrize("link", ["include/site.sh", "graphs/default/site.xml", "nodes/extend-compute.xml"])
def test_a_file_that_becomes_a_link_out_of_the_description(desc, tmp_path, link):
    """Refused as a build from scratch refuses it (the job's error), not taken for unchanged and
    not a failure of the whole build: the lookup's refusal is a changed input."""
    desc.write("include/site.sh", "echo site\n")
    desc.write("nodes/extend-compute.xml", node('<post><include file="site.sh"/></post>'))
    desc.write("graphs/default/site.xml", '<graph><edge from="compute" to="ssh"/></graph>\n')
    desc.check("--eval=no")
    outside = tmp_path / "outside"
    outside.write_bytes((desc.root / link).read_bytes())
    (desc.root / link).unlink()
    (desc.root / link).symlink_to(outside)
    build = desc.check("--eval=no")
    assert "leads outside" in build.errors["profile:compute-0-0"]


@pytest.mark.parametrize("link", ["nodes/extend-compute.xml", "graphs/default/site.xml", "include/site.sh"])
def test_a_link_pointed_at_another_file(desc, link):
    """A node, graph or include file that is a link inside the description, pointed at another
    file: the record held the old target's path (unchanged) and the link's own (the same), so the
    kickstart kept the old target's content."""
    desc.write("nodes/extend-compute.xml", node('<post><include file="site.sh"/></post>'))
    desc.write("graphs/default/site.xml", '<graph><edge from="compute" to="ssh"/></graph>\n')
    desc.write("include/site.sh", "echo site\n")
    targets = {
        "nodes/extend-compute.xml": [node("<package>pkg-one</package>"), node("<package>pkg-two</package>")],
        "graphs/default/site.xml": [
            '<graph><edge from="compute" to="site-one"/></graph>\n',
            '<graph><edge from="compute" to="site-two"/></graph>\n',
        ],
        "include/site.sh": ["echo pkg-one\n", "echo pkg-two\n"],
    }[link]
    for n, text in zip(("one", "two"), targets):
        desc.write(f"shared/{n}", text)
        desc.write(f"nodes/site-{n}.xml", node(f"<package>pkg-{n}</package>"))
    (desc.root / link).unlink()
    _relative_link(desc.root / link, desc.root / "shared/one")
    desc.check("--eval=no")
    assert "pkg-one" in (desc.root / "build/kickstart/compute-0-0.ks").read_text()
    (desc.root / link).unlink()
    _relative_link(desc.root / link, desc.root / "shared/two")
    desc.check("--eval=no")
    assert "pkg-two" in (desc.root / "build/kickstart/compute-0-0.ks").read_text()


@pytest.mark.parametrize("folder", ["graphs/default", "include/site"])
def test_a_file_edited_in_a_folder_that_is_a_link(desc, folder):
    """A graph's folder (or an include's sub-folder) that is a link to a folder of the
    description: the input stamps listed the link, not the files behind it, and a file rewritten
    there in place changes neither, so every job was taken for unchanged."""
    desc.write("nodes/site-one.xml", node("<package>pkg-one</package>"))
    desc.write("nodes/site-two.xml", node("<package>pkg-two</package>"))
    name = "site.xml" if folder.startswith("graphs") else "motd"
    texts = (
        [
            '<graph><edge from="compute" to="site-one"/></graph>\n',
            '<graph><edge from="compute" to="site-two"/></graph>\n',
        ]
        if folder.startswith("graphs")
        else ["echo pkg-one\n", "echo pkg-two\n"]
    )
    desc.write(f"shared/{name}", texts[0])
    if folder.startswith("include"):
        desc.write("nodes/extend-compute.xml", node('<post><include file="site/motd"/></post>'))
    shutil.rmtree(desc.root / folder, ignore_errors=True)
    (desc.root / folder).parent.mkdir(parents=True, exist_ok=True)
    _relative_link(desc.root / folder, desc.root / "shared")
    _past_racy_window()
    desc.check("--eval=no")
    assert "pkg-one" in (desc.root / "build/kickstart/compute-0-0.ks").read_text()
    _past_racy_window()  # no file is racily recent: the stamps are trusted
    with open(desc.root / "shared" / name, "r+") as f:  # in place: the folder's own times do not change
        f.write(texts[1])
    desc.check("--eval=no")
    assert "pkg-two" in (desc.root / "build/kickstart/compute-0-0.ks").read_text()


def _relative_link(link, target) -> None:
    """A link inside the description, as relative (its copy from scratch points into the copy)."""
    link.symlink_to(os.path.relpath(target, link.parent))


def _past_racy_window() -> None:
    """Wait until every file written so far is older than the racily clean window (overlay.RACY_NS)."""
    time.sleep(RACY_NS / 1e9 + 0.2)


@pytest.mark.parametrize("point", ["after three jobs' files", "before removing orphans", "before saving the log"])
def test_a_killed_build_then_the_new_host_removed(desc, point):
    """A build killed after it wrote a new host's kickstart and boot files, before its log was
    saved: the host removed, no record ever claimed them and they stayed — a pxelinux file for an
    address that was no host's. Two hosts: their kickstarts are written by forked workers."""
    desc.must("add", "host", "compute-0-1")
    desc.must("add", "host", "compute-0-2")
    desc.killed_build(point, "--eval=no")
    desc.must("remove", "host", "compute-0-1")
    desc.must("remove", "host", "compute-0-2")
    desc.check("--eval=no", touched=True)


@pytest.mark.parametrize("point", ["before removing orphans", "before saving the log"])
def test_a_killed_build_then_the_address_put_back(desc, point):
    """A host's address changed, the build killed after it wrote the boot files under the new
    address, the address put back: the new-address files stayed."""
    cluster = load(desc.root)
    address = cluster.private_ip(cluster.hosts["compute-0-0"])
    desc.must("set", "host", "interface", "compute-0-0", "eth0", "ip=10.1.200.150")
    desc.killed_build(point, "--eval=no")
    desc.must("set", "host", "interface", "compute-0-0", "eth0", f"ip={address}")
    desc.check("--eval=no", touched=True)


@pytest.mark.parametrize("created_later", [False, True])
def test_a_file_include_of_a_folder_the_stamps_do_not_list(desc, created_later):
    """`<file include="files/motd">` reads a file of any folder of an overlay, not only include/:
    the input stamps list nodes/, graphs/ and include/, so its edit (or its creation, when it was
    missing) changed no stamp and the kickstart kept the old text."""
    desc.write("nodes/extend-compute.xml", node('<post><file name="/etc/motd" include="files/motd"/></post>'))
    if not created_later:
        desc.write("files/motd", "hello-one\n")
    _past_racy_window()
    desc.check("--eval=no")
    _past_racy_window()  # no file is racily recent: the stamps are trusted
    desc.write("files/motd", "hello-two, longer\n")
    desc.check("--eval=no")
    assert "hello-two" in (desc.root / "build/kickstart/compute-0-0.ks").read_text()


@pytest.mark.parametrize("edit", ["chmod", "same size, mtime put back"])
def test_an_artifact_changed_by_hand_where_size_and_mtime_do_not_show_it(desc, edit):
    """The output check compared each artifact's size and mtime: a kickstart made world-readable
    (its root password hash with it) or edited in place with its mtime put back stayed so."""
    ks = desc.root / "build/kickstart/compute-0-0.ks"
    time.sleep(0.02)  # past the coarse clock's tick the build wrote in
    before = ks.stat()
    if edit == "chmod":
        ks.chmod(0o644)
    else:
        data = ks.read_bytes()
        with open(ks, "r+b") as f:  # in place, same size
            f.write(data.replace(b"keyboard us", b"keyboard XX", 1))
        os.utime(ks, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert ks.stat().st_size == before.st_size and ks.read_bytes() != data
    build = desc.check("--eval=no", touched=True)
    assert build.rebuilt == {"profile:compute-0-0": "an output is missing or was changed outside rockscc"}


@pytest.mark.parametrize("read", ['<sinclude file="site.sh"/>', '<file name="/etc/motd" include="include/site.sh"/>'])
def test_an_input_file_replaced_by_a_folder(desc, read):
    """The compiler takes a folder where a file was for no file (an optional include, a missing
    `<file include>`), as a build from scratch does; the incremental build's check of the file
    read it and failed as a whole ("include/site.sh: Is a directory"), on every build after."""
    desc.write("nodes/extend-compute.xml", node(f"<post>{read}</post>"))
    desc.write("include/site.sh", "echo site\n")
    desc.check("--eval=no")
    (desc.root / "include/site.sh").unlink()
    (desc.root / "include/site.sh").mkdir()
    build = desc.check("--eval=no")
    assert build.result.rc == 0 and "profile:compute-0-0" in build.rebuilt


def test_build_clean_after_a_killed_build(desc):
    """`build clean=yes` deleted what the build log records: a killed build's files for a host it
    never recorded (its kickstart, its pxelinux file) stayed."""
    desc.must("add", "host", "compute-0-1")
    desc.killed_build("before saving the log", "--eval=no")
    assert (desc.root / "build/kickstart/compute-0-1.ks").exists()
    desc.must("build", "clean=yes")
    assert artifacts(desc.root / "build", desc.root) == {}
