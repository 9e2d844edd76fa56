"""kickstart_dialect=debian12: the preseed a host's Profile and partition plan compile to, checked
against what the description says, against Debian's own installer code (d-i's preseed loader,
partman-auto's recipe decoder, busybox sh), and attacked with what d-i would misread."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.backends import preseed
from rockscc.backends.preseed.commands import ARG_LIMIT, commands
from rockscc.backends.preseed.recipe import MB, MIB
from rockscc.errors import RocksccError
from rockscc.model import load
from rockscc.xmlgraph.profile import Script
from tests.conftest import run_cli
from tests.preseed.conftest import compile_preseed, with_free_size


def answers_of(rendered) -> dict[str, str]:
    return {a.question: a.value for a in rendered.answers}


def cli(cluster: Path, line: str):
    result = run_cli("-C", str(cluster), *line.split())
    assert result.rc == 0, result.err
    return result


def decoded(command: str) -> str:
    """The script a late/early command carries."""
    encoded = command.split("echo ", 1)[1].split(" |", 1)[0]
    return base64.b64decode(encoded).decode()


def test_compute_host_answers_what_its_description_says(debian_cluster: Path):
    rendered, plan, profile = compile_preseed(debian_cluster, "compute-0-0")
    answers = answers_of(rendered)
    cluster = load(debian_cluster)
    attrs = cluster.resolve_attrs(cluster.hosts["compute-0-0"])
    assert answers["debian-installer/locale"] == "en_US.UTF-8"
    assert answers["keyboard-configuration/xkb-keymap"] == "us"
    assert answers["time/zone"] == attrs["Kickstart_Timezone"]
    assert answers["passwd/root-password-crypted"] == attrs["Kickstart_PrivateRootPassword"]
    assert (answers["netcfg/get_hostname"], answers["netcfg/get_domain"]) == ("compute-0-0", "local")
    assert answers["mirror/http/hostname"] == attrs["Kickstart_PrivateKickstartHost"]
    assert answers["mirror/http/directory"].startswith("/install/")
    assert answers["debian-installer/add-kernel-opts"] == "console=ttyS0,115200 rockscc.flag=1"
    assert answers["grub-installer/bootdev"] == answers["partman-auto/disk"] == "/dev/vda"
    assert answers["pkgsel/include"].split() == sorted(
        ["chrony", "environment-modules", "gcc", "make", "openssh-client", "openssh-server", "rsync", "rsyslog", "wget"]
    )
    # every post body reaches the late command's script, in order; the %pre chain the early one
    late = decoded(answers["preseed/late_command"])
    assert late == rendered.late_script
    positions = [late.index(post.body.strip("\n")) for post in profile.post]
    assert positions == sorted(positions) and len(positions) == len(profile.post) > 3
    assert "hostname=compute-0-0" in late and "chmod 0644 /etc/rockscc-release" in late
    assert decoded(answers["partman/early_command"]) == rendered.early_script
    assert "grubby" not in late  # the boot flags reach grub through add-kernel-opts on Debian
    # the recipe: the plan's partitions, in order, at their planned sizes
    rows = [r for r in plan["partitions"] if r["kind"] != "extended"]
    assert [(e[1], e[2]) for e in rendered.recipe.entries] == [(r["fstype"], r["mountpoint"]) for r in rows]
    assert "# nodes/base.xml:" in rendered.text and "firewall --disabled — not applied" in rendered.text


def test_attribute_edits_reach_the_answers(debian_cluster: Path):
    for line in (
        "set host attr compute-0-0 Kickstart_Timezone Europe/Paris",
        "set host attr compute-0-0 Kickstart_Keyboard de-latin1",
        "set host attr compute-0-0 Kickstart_Lang fr_FR",
    ):
        cli(debian_cluster, line)
    answers = answers_of(compile_preseed(debian_cluster, "compute-0-0")[0])
    assert answers["time/zone"] == "Europe/Paris"
    assert answers["keyboard-configuration/xkb-keymap"] == "de"
    assert answers["debian-installer/locale"] == "fr_FR.UTF-8"


@pytest.mark.parametrize(
    ("attr", "value", "message"),
    [
        ("Kickstart_Timezone", "Mars/Olympus_Mons", "not a time zone"),
        ("Kickstart_Keyboard", "klingon", "no X keyboard layout"),
        ("Kickstart_Lang", "english", "not a locale"),
        ("Kickstart_PrivateRootPassword", "hunter2", r"not a crypt\(3\) hash"),
        ("Kickstart_PrivateKickstartHost", "user@10.1.1.1", "http:// mirror URL"),
        ("Kickstart_PrivateDNSDomain", "bad_domain", "not a host name"),
    ],
)
def test_bad_values_are_refused_naming_the_node_file(debian_cluster: Path, attr, value, message):
    cli(debian_cluster, f"set host attr compute-0-0 {attr} {value}")
    with pytest.raises(RocksccError, match=message) as error:
        compile_preseed(debian_cluster, "compute-0-0")
    assert "nodes/" in str(error.value) and ".xml:" in str(error.value)


def site_node(cluster: Path, name: str, body: str) -> None:
    (cluster / "nodes").mkdir(exist_ok=True)
    (cluster / "nodes" / f"{name}.xml").write_text(f'<?xml version="1.0"?>\n<kickstart>\n{body}\n</kickstart>\n')


def extend_compute(cluster: Path, body: str) -> None:
    site_node(cluster, "extend-compute", body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<main><nfs>--server 10.1.1.1 --dir /x</nfs></main>", "HTTP mirror"),
        ("<main><part>/data --size=100</part></main>", "partitioning comes only from the host's partition plan"),
        ("<main><include>/tmp/other</include></main>", "cannot include files"),
        ("<main><rootpw>--lock</rootpw></main>", "needs an ordinary user"),
        ("<main><bootloader>--location=partition</bootloader></main>", "MBR of the first planned disk"),
        ("<main><network>--bootproto=static --hostname=x.local</network></main>", "needs --ip"),
        ("<main><upgrade/></main>", "only installs"),
        ("<main><timezone>--bogus Europe/Paris</timezone></main>", "option --bogus"),
        ('<main><bootloader>--append="unbalanced</bootloader></main>', "No closing quotation"),
        ('<post arg="--nochroot" interpreter="/usr/bin/python">print(1)</post>', "d-i runs only sh"),
        ('<post arg="--bogus">true</post>', "option --bogus"),
        ("<main><services>--enabled='a b'</services></main>", "not a service name"),
    ],
)
def test_what_d_i_cannot_do_is_refused(debian_cluster: Path, body, message):
    extend_compute(debian_cluster, body)
    with pytest.raises(RocksccError, match=message):
        compile_preseed(debian_cluster, "compute-0-0")


def test_no_counterpart_commands_become_notes_and_services_become_commands(debian_cluster: Path):
    extend_compute(
        debian_cluster,
        "<main><auth>--useshadow</auth><services>--enabled=chrony --disabled=rsync</services>"
        "<network>--device=eth1 --bootproto=dhcp</network></main>",
    )
    rendered = compile_preseed(debian_cluster, "compute-0-0")[0]
    assert "# nodes/extend-compute.xml:3: auth --useshadow — not applied" in rendered.text
    assert "configure this one in a <post>" in rendered.text
    assert "in-target systemctl enable chrony" in rendered.late_script
    assert "in-target systemctl disable rsync" in rendered.late_script


def test_packages_map_through_attributes_and_the_table_and_unknown_ones_are_all_named(debian_cluster: Path):
    extend_compute(
        debian_cluster,
        '<package debian="htop btop">Top-Tool</package>\n<package debian="">kudzu2</package>\n'
        "<package>httpd</package>\n<package>numactl</package>",
    )
    rendered = compile_preseed(debian_cluster, "compute-0-0")[0]
    include = answers_of(rendered)["pkgsel/include"].split()
    assert {"htop", "btop", "apache2", "numactl"} <= set(include)
    assert "Top-Tool" not in include and "kudzu2" not in include and "httpd" not in include
    assert 'package kudzu2 -> nothing (debian="")' in rendered.text
    extend_compute(debian_cluster, "<package>Bad_Name</package>\n<package>@Weird Group</package>")
    with pytest.raises(RocksccError) as error:
        compile_preseed(debian_cluster, "compute-0-0")
    assert "Bad_Name (nodes/extend-compute.xml:3)" in str(error.value)
    assert "@Weird Group (nodes/extend-compute.xml:4)" in str(error.value)
    extend_compute(debian_cluster, "<package cond=\"kickstart_dialect != 'debian12'\">Bad_Name</package>")
    compile_preseed(debian_cluster, "compute-0-0")  # kept off Debian hosts with cond=


def test_a_host_without_declared_disks_is_refused(cluster_dir: Path):
    cli(cluster_dir, "add host compute-0-0")
    with pytest.raises(RocksccError, match="needs the host's disks"):
        compile_preseed(cluster_dir, "compute-0-0")


PROGRAM = """<pre>
cat &gt; /tmp/user_partition_info &lt;&lt; 'EOF'
{lines}
EOF
</pre>"""


def partition_program(cluster: Path, lines: list[str]) -> None:
    site_node(cluster, "replace-partition", PROGRAM.format(lines="\n".join(lines)))


@pytest.mark.parametrize(
    ("lines", "disks", "message"),
    [
        (
            ["clearpart --all", "part / --size=4000 --ondisk=vda", "part /data --size=1 --grow --ondisk=vdb"],
            "vda:20G,vdb:10G",
            "lays out one disk",
        ),
        (["clearpart --all", "part / --size=4000"], "vda:20G", r"leaves \d+ MiB free after vda1"),
        (
            [
                "clearpart --all",
                "part raid.01 --size=4000 --ondisk=vda",
                "part raid.02 --size=4000 --ondisk=vdb",
                "raid / --level=1 --device=md0 raid.01 raid.02",
            ],
            "vda:20G,vdb:20G",
            "md RAID and LVM",
        ),
        (
            [
                "clearpart --all",
                "part pv.01 --size=1 --grow",
                "volgroup vg pv.01",
                "logvol / --vgname=vg --size=4000 --name=root",
            ],
            "vda:20G",
            "md RAID and LVM",
        ),
        (["clearpart --all", "part / --size=4000 --fstype=ntfs", "part swap --size=1 --grow"], "vda:20G", "'ntfs'"),
        (["clearpart --all", "part / --size=4000", "part /a{b --size=1 --grow"], "vda:20G", "mount point"),
    ],
)
def test_plans_partman_cannot_reproduce_are_refused(cluster_dir: Path, lines, disks, message):
    cli(cluster_dir, "add host compute-0-0")
    cli(cluster_dir, f"add hwprofile hw disks={disks}")
    cli(cluster_dir, "set host hwprofile compute-0-0 hw")
    partition_program(cluster_dir, lines)
    with pytest.raises(RocksccError, match=message):
        compile_preseed(cluster_dir, "compute-0-0")


# --- Debian's own code reads what rockscc wrote -------------------------------------------------------
LAYOUTS = {
    "rocks default (4 primaries)": ("vda:20G", None),
    "six partitions: 3 primary, extended, logicals": (
        "vda:40G",
        [
            "clearpart --all",
            "part / --size=6000",
            "part /var --size=3000",
            "part /tmp --size=1000 --fstype=ext4",
            "part /scratch --size=2000 --fstype=xfs",
            "part swap --size=1024",
            "part /data --size=1 --grow --fstype=ext4",
        ],
    ),
    "gpt above 2 TiB, with a BIOS boot partition": (
        "vda:3T",
        [
            "clearpart --all",
            "part biosboot --size=1 --fstype=biosboot",
            "part / --size=10000 --fstype=ext4",
            "part swap --size=2000",
            "part /state/partition1 --size=1 --grow --fstype=ext4",
        ],
    ),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_d_i_loads_every_answer_and_partman_decodes_the_plan(cluster_dir: Path, debian_installer, layout):
    disks, lines = LAYOUTS[layout]
    cli(cluster_dir, "add host compute-0-0")
    cli(cluster_dir, f"add hwprofile hw disks={disks}")
    cli(cluster_dir, "set host hwprofile compute-0-0 hw")
    cli(cluster_dir, "set attr kickstart_dialect debian12")
    if lines:
        partition_program(cluster_dir, lines)
    rendered, plan, _ = compile_preseed(cluster_dir, "compute-0-0")
    disk = plan["disks"][0]
    free_mb = (disk["size"] - MIB - (34 * disk["sector_size"] if disk["label"] == "gpt" else 0)) // MB
    (result,) = debian_installer.load([with_free_size(rendered.text, free_mb)])
    assert result["status"] == 0, result["log"]
    for answer in rendered.answers:  # the loader stored each answer as rockscc meant it
        assert result["answers"].get(answer.question) == answer.value, answer.question
    rows = [r for r in plan["partitions"] if r["kind"] != "extended"]
    assert len(result["decoded"]) == len(result["expanded"]) == len(rows)
    for row, line, expanded in zip(rows, result["decoded"], result["expanded"]):
        words = line.split()
        assert ("$primary{" in words) == (row["kind"] == "primary" and disk["label"] == "msdos")
        if row["mountpoint"].startswith("/"):
            assert f"mountpoint{{ {row['mountpoint']} }}" in line
        if row is not rows[-1]:  # partman makes it this size, and parted aligns it to the plan's MiB
            made = int(expanded.split()[0]) * MB
            assert abs(made - row["size"]) < MIB // 2, (row, expanded)
    # the recipe fits the disk (else partman-auto would fall back to its own recipes)
    assert sum(int(line.split()[0]) for line in result["decoded"]) <= free_mb


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    bodies=st.lists(
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=300),
        min_size=1,
        max_size=4,
    )
)
def test_busybox_sh_writes_every_post_body_byte_for_byte(tmp_path_factory, debian_installer, bodies):
    """The late command's script, run by d-i's own busybox sh with a stand-in in-target that
    keeps what it is asked to run: each section's file holds its body exactly (here-document
    delimiters, quotes, backslashes, `$`, `EOF` lines and all)."""
    posts = [
        Script("post", body, origin=f"nodes/x.xml:{n}", node="nodes/x.xml (site)") for n, body in enumerate(bodies)
    ]
    script = commands([], posts, [], []).late_script
    root = debian_installer.root
    work = root / "tmp" / "rockscc-sh"
    subprocess.run(["rm", "-rf", str(work)], check=True)
    (work / "target").mkdir(parents=True)
    (work / "late.sh").write_text(script.replace("/target", "/tmp/rockscc-sh/target"))
    (work / "bin").mkdir()
    (work / "bin" / "in-target").write_text(
        '#!/bin/sh\nshift\ncp "/tmp/rockscc-sh/target$1" "/tmp/rockscc-sh/ran.$(basename $1)"\n'
    )
    (work / "bin" / "in-target").chmod(0o755)
    done = subprocess.run(
        [
            "bwrap",
            "--bind",
            str(root),
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--unshare-all",
            "--die-with-parent",
            "--cap-drop",
            "ALL",
            "--setenv",
            "PATH",
            "/tmp/rockscc-sh/bin:/bin:/usr/bin",
            "/bin/sh",
            "/tmp/rockscc-sh/late.sh",
        ],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    for n, body in enumerate(bodies, 1):
        expected = body.strip("\n") + "\n"
        assert (work / f"ran.{n}").read_text() == expected


# --- rockscc's own checks and the validator -------------------------------------------------------------
def test_what_the_loader_would_misread_is_refused(debian_cluster: Path):
    rendered = compile_preseed(debian_cluster, "compute-0-0")[0]
    for value, message in (("a*b", "glob"), ("a\nb", "line break"), ("x\\", "backslash")):
        bad = rendered.answers + (preseed.Answer("mirror/http/proxy", "string", value, "test"),)
        with pytest.raises(RocksccError, match=message):
            preseed.check(preseed.Preseed(rendered.text, bad, *_rest(rendered)), "compute-0-0")
    bad = rendered.answers + (preseed.Answer("x/y", "boolean", "maybe", "test"),)
    with pytest.raises(RocksccError, match="true or false"):
        preseed.check(preseed.Preseed(rendered.text, bad, *_rest(rendered)), "compute-0-0")


def _rest(rendered):
    return rendered.recipe, rendered.packages, rendered.early_script, rendered.late_script


def test_debconf_rejection_is_one_line_naming_the_host():
    with pytest.raises(RocksccError, match=r"host h1: preseed rejected by debconf-set-selections: .*line 1"):
        preseed._debconf_check("d-i\n", "h1")
    with pytest.raises(RocksccError, match="Unknown type bogus"):
        preseed._debconf_check("d-i a/b bogus 1\n", "h1")


def test_checks_running_at_once_each_give_their_own_verdict(debian_cluster: Path):
    """A build's workers check preseeds at the same time: against the machine's debconf database
    all but one found it locked and failed with no message; each check has a database of its own."""
    from concurrent.futures import ThreadPoolExecutor

    text = compile_preseed(debian_cluster, "compute-0-0")[0].text
    with ThreadPoolExecutor(8) as pool:
        verdicts = list(pool.map(lambda n: _verdict(text, f"h{n}"), range(16)))
    assert verdicts == [None] * 16
    with ThreadPoolExecutor(8) as pool:
        verdicts = list(pool.map(lambda n: _verdict("d-i a/b bogus 1\n", f"h{n}"), range(8)))
    assert all("Unknown type bogus" in v for v in verdicts), verdicts


def _verdict(text: str, host: str) -> str | None:
    try:
        preseed._debconf_check(text, host)
    except RocksccError as exc:
        return str(exc)
    return None


class CountingMemo:
    def __init__(self):
        self.known_keys, self.asked = set(), 0

    def known(self, kind, key):
        self.asked += 1
        return (kind, key) in self.known_keys

    def remember(self, kind, key):
        self.known_keys.add((kind, key))


def test_validator_checks_each_skeleton_once_and_remembers_it(debian_cluster: Path, monkeypatch):
    rendered = compile_preseed(debian_cluster, "compute-0-0")[0]
    runs = []
    real = preseed._debconf_check
    monkeypatch.setattr(preseed, "_debconf_check", lambda text, host: (runs.append(host), real(text, host)))
    memo = CountingMemo()
    validator = preseed.Validator(memo)
    validator.validate(rendered, "a")
    validator.validate(rendered, "b")  # same skeleton: neither the tool nor the memo
    assert runs == ["a"] and memo.asked == 1
    preseed.Validator(memo).validate(rendered, "c")  # a later build: the memo's verdict
    assert runs == ["a"]


def test_late_command_over_the_argument_limit_is_refused():
    big = Script("post", "x" * ARG_LIMIT, origin="nodes/big.xml:3", node="nodes/big.xml (site)")
    with pytest.raises(RocksccError, match="over the 131072 bytes"):
        commands([], [big], [], [])
