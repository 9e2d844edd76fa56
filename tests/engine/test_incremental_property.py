"""The property behind `rockscc build`'s promise: an incremental build leaves build/ exactly as a
build from scratch of the same description would, and --explain names a changed input for every
job it rebuilt — after any sequence of edits (tests/engine/differential.py says what "exactly"
means).

A Hypothesis state machine edits a description at random: node files (plain, extend-, replace-,
shadowing base nodes, with filters, entities, variables, includes and evals), graph files (edges,
orders, cycles), include files, files read by `<file include>` from another folder, rolls (added,
enabled, disabled, removed, their own files), attributes at every level, hosts (added, removed,
renamed, their files edited by hand in place), interfaces, hardware profiles and host disks, PXE
actions and boot flags, VMs (added, moved to another container, `create host vm` on libvirt's test
driver), the kickstart dialect,
the build's options, the service configs' attributes and the TFTP tree's site files; site files
made links to other files of the description (and pointed elsewhere), the graph folder made a link;
builds of a few hosts, builds SIGKILLed at named points and artifacts deleted or edited by hand in
between. After every step it builds and compares.

CI runs a bounded number of examples. For thousands:

    ROCKSCC_PROPERTY_EXAMPLES=2000 .venv/bin/pytest tests/engine/test_incremental_property.py -p no:cacheprovider

(ROCKSCC_PROPERTY_STEPS sets the steps per example; failures are shrunk and printed as a list of
rules; `--hypothesis-seed=N` repeats a run.)
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule, run_state_machine_as_test

from rockscc.engine import make
from rockscc.model import load
from tests.conftest import remove_test_domains
from tests.engine.differential import KILL_POINTS, Description

OUTCOMES: Counter = Counter()  # (command words, made) -> how often
EXAMPLES = int(os.environ.get("ROCKSCC_PROPERTY_EXAMPLES", "6"))
STEPS = int(os.environ.get("ROCKSCC_PROPERTY_STEPS", "12"))

# --- what edits are made of ------------------------------------------------------------------------
SITE_NODES = ["site-a", "site-b", "site-c"]
BASE_NODES = ["ssh", "networking", "client", "partition"]  # base nodes a site or a roll may shadow or extend
ROOTS = ["compute", "nas", "client", "server", "vm-container"]
OVERLAYS = ["site", "r1", "r2"]
INCLUDES = ["inc-a.sh", "inc-b.sh", "frag.xml"]
FILTERS = ["", ' cond="site_flag"', ' arch="x86_64"', ' os="linux"', ' cond="not site_flag"']
HOSTS = ["compute-0-0", "compute-0-1", "compute-0-2", "nas-0-0", "vm-container-0-0", "vm-container-0-1", "frontend-0-1"]
ATTRS = {
    "site_flag": ["yes", "no"],
    "site_var": ["alpha", "beta"],
    "Kickstart_Timezone": ["UTC", "Europe/Paris"],
    "kickstart_dialect": ["rhel5", "rhel6", "rhel7", "rhel8", "debian12"],
    "debian_allow_unauthenticated": ["yes", "no"],
    "partition_inline": ["yes", "no"],
    "pxe_mac_files": ["yes", "no"],
    "uefi_linuxefi": ["yes", "no"],
    "pxe_ipxe": ["yes", "no"],
    "eval": ["no", "yes"],
    "vm_network": ["bridge", "user"],
}
GLOBAL_ONLY = {
    "dhcp_discovery_range": ["10.1.200.1-10.1.200.20", "10.1.200.1-10.1.200.30"],
    "Kickstart_PrivateDNSDomain": ["local", "cluster.test"],
}
ACTIONS = ["install", "os", "memtest", "install headless", "rescue"]

PIECES = [
    "<package{f}>pkg-{n}</package>",
    '<package debian="deb-pkg-{n}">rh-pkg-{n}</package>',
    "<post{f}>echo tz=&Kickstart_Timezone; {n}</post>",
    '<post>echo var=<var name="site_var"/> {n}</post>',
    '<post{f}><include file="inc-a.sh"/></post>',
    '<post><sinclude file="inc-b.sh"/></post>',
    '<sinclude file="frag.xml" mode="xml"/>',
    '<post><eval shell="sh">echo ev-$Kickstart_Timezone-{n}</eval></post>',
    '<post><eval shell="python">import os; print("py-" + os.environ.get("site_flag", "unset"))</eval></post>',
    "<post>echo flag=&site_flag;</post>",
    '<post><file name="/etc/motd" include="files/motd"/></post>',  # a folder the input stamps do not list
]
PARTITION_PROGRAMS = [
    'echo "rocks force-default" > /tmp/user_partition_info',
    'echo "part / --size=4000 --ondisk=sda" > /tmp/user_partition_info',
    "true",
]


@st.composite
def node_text(draw, name: str) -> str:
    if name == "partition" and draw(st.booleans()):
        program = draw(st.sampled_from(PARTITION_PROGRAMS))
        return f"<kickstart>\n<pre>\n{program}\n</pre>\n</kickstart>\n"
    pieces = draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=3))
    body = "\n".join(p.format(f=draw(st.sampled_from(FILTERS)), n=draw(st.integers(0, 3))) for p in pieces)
    return f"<kickstart>\n{body}\n</kickstart>\n"


@st.composite
def graph_text(draw) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        src = draw(st.sampled_from(ROOTS + SITE_NODES))
        dst = draw(st.sampled_from(SITE_NODES + ["ssh"]))
        lines.append(f'<edge from="{src}" to="{dst}"{draw(st.sampled_from(FILTERS))}/>')
    for _ in range(draw(st.integers(0, 2))):
        head, tail = draw(st.sampled_from(SITE_NODES + ["base", "ssh"])), draw(st.sampled_from(SITE_NODES + ["ssh"]))
        lines.append(f'<order head="{head}" tail="{tail}"/>')
    return "<graph>\n" + "\n".join(lines) + "\n</graph>\n"


@st.composite
def include_text(draw, name: str) -> str:
    n = draw(st.integers(0, 5))
    return f"<package>frag-pkg-{n}</package>\n" if name.endswith(".xml") else f"echo include {name} {n}\n"


class IncrementalBuilds(RuleBasedStateMachine):
    """The description and its build/ directory; after every step, build and compare."""

    def __init__(self) -> None:
        super().__init__()
        self.base = Path(tempfile.mkdtemp(prefix="rockscc-prop-"))
        self.desc = Description(self.base)
        self.rolls = self.base / "rolls"
        self.build_args: list[str] = []
        self.touched = False  # outputs changed outside a finished build since the last check

    def teardown(self) -> None:
        remove_test_domains()
        shutil.rmtree(self.base, ignore_errors=True)

    @initialize()
    def a_small_cluster(self) -> None:
        (self.base / "disks").mkdir()
        for argv in (
            ["add", "host", "compute-0-0"],
            ["add", "host", "nas-0-0"],
            ["add", "host", "vm-container-0-0"],
            ["set", "attr", "libvirt_uri", "test:///default"],
            ["set", "attr", "vm_disk_dir", str(self.base / "disks")],
            ["add", "hwprofile", "p1", "disks=sda:80G"],
            ["set", "host", "hwprofile", "compute-0-0", "p1"],
        ):
            self.desc.must(*argv)
        for roll in ("r1", "r2"):
            (self.rolls / roll / "nodes").mkdir(parents=True)
            (self.rolls / roll / "graphs" / "default").mkdir(parents=True)
            (self.rolls / roll / "roll.toml").write_text(f'name = "{roll}"\nversion = "1"\n')
        self.check()

    # --- the property ---------------------------------------------------------------------------
    def cli(self, *argv: str):
        """An edit through the command line; whether it was made or refused is counted (printed
        at the end, shown with -s: an edit that is always refused tests nothing)."""
        result = self.desc.cli(*argv)
        OUTCOMES[" ".join(a for a in argv[:4] if a.isalpha()), result.rc == 0] += 1
        return result

    def check(self) -> None:
        self.desc.check(*self.build_args, touched=self.touched)
        self.touched = False

    def cluster(self):
        return load(self.desc.root)

    def overlay_dir(self, overlay: str) -> Path:
        return self.desc.root if overlay == "site" else self.rolls / overlay

    def files(self, sub: str, pattern: str = "*.xml") -> list[Path]:
        return sorted(p for overlay in OVERLAYS for p in (self.overlay_dir(overlay) / sub).glob(pattern))

    # --- node, graph and include files ----------------------------------------------------------
    @rule(
        data=st.data(),
        overlay=st.sampled_from(OVERLAYS),
        name=st.sampled_from(SITE_NODES + BASE_NODES),
        kind=st.sampled_from(["", "extend-", "replace-"]),
    )
    def write_node_file(self, data, overlay, name, kind) -> None:
        self.desc.write(f"nodes/{kind}{name}.xml", data.draw(node_text(name)), self.overlay_dir(overlay))
        self.check()

    @precondition(lambda self: self.files("nodes"))
    @rule(data=st.data())
    def remove_node_file(self, data) -> None:
        data.draw(st.sampled_from(self.files("nodes"))).unlink()
        self.check()

    @precondition(lambda self: self.files("nodes"))
    @rule(
        data=st.data(), name=st.sampled_from(SITE_NODES + BASE_NODES), kind=st.sampled_from(["", "extend-", "replace-"])
    )
    def rename_node_file(self, data, name, kind) -> None:
        path = data.draw(st.sampled_from(self.files("nodes")))
        path.rename(path.with_name(f"{kind}{name}.xml"))
        self.check()

    @rule(data=st.data(), overlay=st.sampled_from(OVERLAYS), name=st.sampled_from(["site-1.xml", "site-2.xml"]))
    def write_graph_file(self, data, overlay, name) -> None:
        self.desc.write(f"graphs/default/{name}", data.draw(graph_text()), self.overlay_dir(overlay))
        self.check()

    @precondition(lambda self: self.files("graphs/default"))
    @rule(data=st.data())
    def remove_graph_file(self, data) -> None:
        data.draw(st.sampled_from(self.files("graphs/default"))).unlink()
        self.check()

    @precondition(lambda self: self.files("graphs/default"))
    @rule(data=st.data(), name=st.sampled_from(["site-1.xml", "site-2.xml", "a-first.xml"]))
    def rename_graph_file(self, data, name) -> None:
        path = data.draw(st.sampled_from(self.files("graphs/default")))
        path.rename(path.with_name(name))
        self.check()

    @rule(data=st.data(), overlay=st.sampled_from(OVERLAYS), name=st.sampled_from(INCLUDES))
    def write_include_file(self, data, overlay, name) -> None:
        self.desc.write(f"include/{name}", data.draw(include_text(name)), self.overlay_dir(overlay))
        self.check()

    @precondition(lambda self: self.files("include", "*"))
    @rule(data=st.data())
    def remove_include_file(self, data) -> None:
        data.draw(st.sampled_from(self.files("include", "*"))).unlink()
        self.check()

    @rule(overlay=st.sampled_from(OVERLAYS), n=st.integers(0, 3), remove=st.booleans())
    def write_loose_file(self, overlay, n, remove) -> None:
        """files/motd, read by `<file include="files/motd">` from whichever overlay has it."""
        path = self.overlay_dir(overlay) / "files" / "motd"
        if remove:
            path.unlink(missing_ok=True)
        else:
            self.desc.write("files/motd", f"motd {n} of {overlay}\n", self.overlay_dir(overlay))
        self.check()

    @rule(
        data=st.data(),
        link=st.sampled_from(
            ["nodes/site-a.xml", "nodes/extend-ssh.xml", "graphs/default/site-1.xml", "include/inc-a.sh"]
        ),
        which=st.sampled_from(["one", "two"]),
    )
    def link_site_file(self, data, link, which) -> None:
        """A site file made a link to a file elsewhere in the description, or pointed at another:
        its content is the target's."""
        kind = link.split("/")[0]
        text = {"nodes": node_text(Path(link).stem.removeprefix("extend-")), "graphs": graph_text()}.get(
            kind, include_text("inc-a.sh")
        )
        shared = f"shared/{kind}-{which}"
        if not (self.desc.root / shared).exists():
            self.desc.write(shared, data.draw(text))
        path = self.desc.root / link
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        path.symlink_to(os.path.relpath(self.desc.root / shared, path.parent))
        self.check()

    @rule(linked=st.booleans())
    def link_graph_folder(self, linked) -> None:
        """The site's graphs/default/ made a link to a folder of the description (its files moved
        there), or a folder again: later graph edits go through the link."""
        folder, shared = self.desc.root / "graphs/default", self.desc.root / "shared-graph"
        if linked and not folder.is_symlink():
            shutil.rmtree(shared, ignore_errors=True)
            shutil.copytree(folder, shared, symlinks=True) if folder.is_dir() else shared.mkdir()
            shutil.rmtree(folder, ignore_errors=True)
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.symlink_to(os.path.relpath(shared, folder.parent))
        elif not linked and folder.is_symlink():
            folder.unlink()
            shutil.copytree(shared, folder, symlinks=True)
        self.check()

    # --- rolls ----------------------------------------------------------------------------------
    @rule(roll=st.sampled_from(["r1", "r2"]), enabled=st.booleans())
    def add_roll(self, roll, enabled) -> None:
        self.cli("add", "roll", str(self.rolls / roll), f"enabled={'yes' if enabled else 'no'}")
        self.check()

    @rule(roll=st.sampled_from(["r1", "r2"]), verb=st.sampled_from(["enable", "disable", "remove"]))
    def change_roll(self, roll, verb) -> None:
        self.cli(verb, "roll", roll)
        self.check()

    @rule(roll=st.sampled_from(["r1", "r2"]), version=st.sampled_from(["1", "2"]))
    def reinstall_roll_version(self, roll, version) -> None:
        (self.rolls / roll / "roll.toml").write_text(f'name = "{roll}"\nversion = "{version}"\n')
        if roll in self.cluster().rolls:
            self.cli("remove", "roll", roll)
            self.cli("add", "roll", str(self.rolls / roll))
        self.check()

    # --- attributes -----------------------------------------------------------------------------
    @rule(
        data=st.data(),
        level=st.sampled_from(["global", "os", "appliance", "host"]),
        name=st.sampled_from(sorted(ATTRS)),
    )
    def set_attribute(self, data, level, name) -> None:
        value = data.draw(st.sampled_from(ATTRS[name]))
        self.cli(*self._attr_target(data, level, "set"), name, value)
        self.check()

    @rule(
        data=st.data(),
        level=st.sampled_from(["global", "os", "appliance", "host"]),
        name=st.sampled_from(sorted(ATTRS)),
    )
    def remove_attribute(self, data, level, name) -> None:
        self.cli(*self._attr_target(data, level, "remove"), name)
        self.check()

    @rule(data=st.data(), name=st.sampled_from(sorted(GLOBAL_ONLY)))
    def set_service_attribute(self, data, name) -> None:
        self.cli("set", "attr", name, data.draw(st.sampled_from(GLOBAL_ONLY[name])))
        self.check()

    def _attr_target(self, data, level: str, verb: str) -> list[str]:
        if level == "global":
            return [verb, "attr"]
        if level == "os":
            return [verb, "os", "attr", "linux"]
        if level == "appliance":
            return [verb, "appliance", "attr", data.draw(st.sampled_from(["compute", "nas", "vm-container"]))]
        return [verb, "host", "attr", data.draw(st.sampled_from(sorted(self.cluster().hosts)))]

    # --- hosts ----------------------------------------------------------------------------------
    @rule(name=st.sampled_from(HOSTS))
    def add_host(self, name) -> None:
        self.cli("add", "host", name)
        self.check()

    @rule(data=st.data())
    def remove_host(self, data) -> None:
        hosts = sorted(h for h in self.cluster().hosts if h != "frontend")
        if hosts:
            self.cli("remove", "host", data.draw(st.sampled_from(hosts)))
        self.check()

    @rule(data=st.data(), new=st.sampled_from(HOSTS + ["login-0-0"]))
    def rename_host(self, data, new) -> None:
        hosts = sorted(h for h in self.cluster().hosts if h != "frontend")
        if hosts:
            self.cli("set", "host", "name", data.draw(st.sampled_from(hosts)), new)
        self.check()

    @rule(data=st.data(), zone=st.sampled_from(["Europe/Oslo", "Europe/Rome"]), keep_mtime=st.booleans())
    def hand_edit_host_file(self, data, zone, keep_mtime) -> None:
        """A host file edited by hand in place (same inode), its mtime put back or not: a value of
        the same length keeps its size too, which only the ctime gives away (model/store.py)."""
        hosts = sorted(p.stem for p in (self.desc.root / "hosts").glob("*.toml"))
        if not hosts:
            return
        path = self.desc.root / "hosts" / f"{data.draw(st.sampled_from(hosts))}.toml"
        before, text = path.stat(), path.read_text()
        if "Kickstart_Timezone = " in text:
            text = re.sub(r'Kickstart_Timezone = "[^"]*"', f'Kickstart_Timezone = "{zone}"', text)
        elif "[attrs]\n" in text:
            text = text.replace("[attrs]\n", f'[attrs]\nKickstart_Timezone = "{zone}"\n', 1)
        else:
            text += f'\n[attrs]\nKickstart_Timezone = "{zone}"\n'
        with open(path, "r+") as f:
            f.write(text)
            f.truncate()
        if keep_mtime:
            os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        self.check()

    @rule(data=st.data(), field=st.sampled_from(["membership", "os", "arch", "rack", "rank", "cpus", "comment"]))
    def change_host_record(self, data, field) -> None:
        host = data.draw(st.sampled_from(sorted(self.cluster().hosts)))
        value = data.draw(
            st.sampled_from(
                {
                    "membership": ["Compute", "NAS Appliance", "Frontend"],
                    "os": ["linux", "sunos"],
                    "arch": ["x86_64", "i386"],
                    "rack": ["0", "1"],
                    "rank": ["0", "5"],
                    "cpus": ["1", "4"],
                    "comment": ["a", "b"],
                }[field]
            )
        )
        self.cli("set", "host", field, host, value)
        self.check()

    @rule(data=st.data(), change=st.sampled_from(["add eth1", "remove eth1", "mac eth0", "ip eth0"]))
    def change_interface(self, data, change) -> None:
        host = data.draw(st.sampled_from(sorted(self.cluster().hosts)))
        n = data.draw(st.integers(1, 9))
        argv = {
            "add eth1": ["add", "host", "interface", host, "eth1", "subnet=public", "ip=auto"],
            "remove eth1": ["remove", "host", "interface", host, "eth1"],
            "mac eth0": ["set", "host", "interface", host, "eth0", f"mac=52:54:00:00:00:0{n}"],
            "ip eth0": ["set", "host", "interface", host, "eth0", f"ip=10.1.200.{100 + n}"],
        }[change]
        self.cli(*argv)
        self.check()

    # --- hardware -------------------------------------------------------------------------------
    @rule(data=st.data(), change=st.sampled_from(["profile", "no profile", "new profile", "disk", "no disk"]))
    def change_hardware(self, data, change) -> None:
        host = data.draw(st.sampled_from(sorted(self.cluster().hosts)))
        size = data.draw(st.sampled_from(["40G", "80G"]))
        argv = {
            "profile": ["set", "host", "hwprofile", host, data.draw(st.sampled_from(["p1", "p2"]))],
            "no profile": ["set", "host", "hwprofile", host, ""],
            "new profile": ["add", "hwprofile", "p2", f"disks=sda:{size},sdb:{size}"],
            "disk": ["add", "host", "disk", host, "sdc", f"size={size}"],
            "no disk": ["remove", "host", "disk", host, "sdc"],
        }[change]
        if change == "new profile":
            self.cli("remove", "hwprofile", "p2")
        self.cli(*argv)
        self.check()

    # --- network boot ---------------------------------------------------------------------------
    @rule(data=st.data(), action=st.sampled_from(ACTIONS))
    def set_pxeboot(self, data, action) -> None:
        self.cli("set", "host", "pxeboot", data.draw(st.sampled_from(sorted(self.cluster().hosts))), f"action={action}")
        self.check()

    @rule(data=st.data(), per_host=st.booleans(), extra=st.sampled_from(["console=ttyS0", "quiet", "ks"]))
    def add_pxeaction(self, data, per_host, extra) -> None:
        hosts = [data.draw(st.sampled_from(sorted(self.cluster().hosts)))] if per_host else []
        self.cli("add", "host", "pxeaction", *hosts, "action=install", f"args=append ks initrd=initrd.img {extra}")
        self.check()

    @rule(data=st.data(), per_host=st.booleans(), flags=st.sampled_from(["acpi=off", "noapic", "console=ttyS1"]))
    def set_bootflags(self, data, per_host, flags) -> None:
        hosts = [data.draw(st.sampled_from(sorted(self.cluster().hosts)))] if per_host else []
        self.cli("set", "host", "bootflags", *hosts, f"flags={flags}")
        self.check()

    @rule(
        name=st.sampled_from(["vmlinuz", "initrd.img", "pxeflash.img"]),
        size=st.integers(1, 3),
        fill=st.sampled_from([b"a", b"b"]),
        remove=st.booleans(),
    )
    def change_tftpboot(self, name, size, fill, remove) -> None:
        path = self.desc.root / "tftpboot" / name
        if remove:
            path.unlink(missing_ok=True)
        else:
            self.desc.write(f"tftpboot/{name}", fill * (1000 * size))
        self.check()

    # --- VMs ------------------------------------------------------------------------------------
    @rule(data=st.data(), change=st.sampled_from(["add", "mem", "move", "remove", "create"]))
    def change_vm(self, data, change) -> None:
        cluster = self.cluster()
        containers = sorted(h for h, host in cluster.hosts.items() if host.membership == "VM Container")
        vms = sorted(h for h, host in cluster.hosts.items() if host.vm is not None)
        if change == "add" and containers:
            self.cli("add", "host", "vm", data.draw(st.sampled_from(containers)), "membership=Compute", "disksize=1")
        elif vms and change != "add":
            vm = data.draw(st.sampled_from(vms))
            argv = {
                "mem": ["set", "host", "vm", vm, f"mem={data.draw(st.sampled_from([512, 1024, 2048]))}"],
                "move": ["set", "host", "vm", vm, f"physnode={data.draw(st.sampled_from(containers or ['none']))}"],
                "remove": ["remove", "host", "vm", vm, "force=yes"],
                "create": ["create", "host", "vm", vm, *(["eval=no"] if "--eval=no" in self.build_args else [])],
            }[change]
            self.cli(*argv)
        self.check()

    # --- builds that did not run to their end, and build/ edited by hand --------------------------
    @rule(point=st.sampled_from(sorted(KILL_POINTS)))
    def killed_build(self, point) -> None:
        """A build SIGKILLed at one of differential.KILL_POINTS; the next rule edits and checks."""
        self.desc.killed_build(point, *self.build_args)
        self.touched = True

    @rule(data=st.data(), change=st.sampled_from(["delete", "append", "truncate", "chmod", "in place, mtime kept"]))
    def hand_edit_artifact(self, data, change) -> None:
        """An artifact deleted, edited by hand (its size changing or not, its mtime put back) or
        chmod'ed: the next build puts it back."""
        built = sorted(
            p
            for p in (self.desc.root / "build").rglob("*")
            if p.is_file() and ".rockscc" not in str(p.relative_to(self.desc.root))
        )
        if built:
            path = data.draw(st.sampled_from(built))
            before = path.stat()
            time.sleep(0.02)  # past the coarse clock's tick of the build's write: a ctime of its own
            if change == "delete":
                path.unlink()
            elif change == "chmod":
                path.chmod(0o606)
            elif change == "in place, mtime kept":
                first = path.read_bytes()[:1]
                with open(path, "r+b") as f:  # its first byte changed (if it has one), its size kept
                    f.write(b"" if not first else b"@" if first != b"@" else b"#")
                os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
            else:
                path.write_bytes(path.read_bytes() + b"# by hand\n" if change == "append" else b"")
            self.touched = True
        self.check()

    # --- the build's own options, and builds of a few hosts -----------------------------------------
    @rule(evals=st.booleans(), jobs=st.sampled_from([None, "1", "2"]))
    def change_build_options(self, evals, jobs) -> None:
        self.build_args = ([] if evals else ["--eval=no"]) + ([f"-j{jobs}"] if jobs else [])
        self.check()

    @rule(data=st.data(), evals=st.booleans())
    def build_some_hosts(self, data, evals) -> None:
        hosts = data.draw(st.lists(st.sampled_from(sorted(self.cluster().hosts)), min_size=1, max_size=2, unique=True))
        self.cli("build", *hosts, *([] if evals else ["--eval=no"]))
        self.check()


@pytest.fixture
def forked_workers(monkeypatch):
    """Compile jobs in forked workers even for a handful of hosts (-j2), as at scale."""
    monkeypatch.setattr(make, "PARALLEL_THRESHOLD", 2)


def test_incremental_builds_equal_builds_from_scratch(forked_workers):
    run_state_machine_as_test(
        IncrementalBuilds,
        settings=settings(
            max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
    print_outcomes()


def print_outcomes() -> None:
    print("\ncommand edits made / refused:")
    for words in sorted({words for words, _made in OUTCOMES}):
        print(f"  {words:28} {OUTCOMES[words, True]:5} / {OUTCOMES[words, False]}")
