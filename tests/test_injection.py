"""Values that try to change the syntax of the artifacts they reach: line breaks, both quote
kinds, ;, {}, % lines, NUL, shell and loader expansions, put into every value of the description
that ends up in a kickstart, a boot file, a VM config or a network file.

For each payload, every command setting such a value is run; each is refused (one line, nothing
changed) or accepted, and then the build either refuses the job that would carry it (one line,
the previous artifact kept) or writes artifacts that their real parsers read (pykickstart,
debconf-set-selections for debian12 preseeds, rockscc's lark xl grammar, virt-xml-validate,
dhcpd -t, pxelinux's and grub's line structure, graphviz for DOT graphs)
with exactly the structure of the same cluster without the payload: the value says what was
meant and nothing more."""

from __future__ import annotations

import base64
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import tomli_w

from tests.conftest import run_cli

PAYLOADS = {
    "newline": "a\nb",
    "newline-section": "x\n%post\nrm -rf /\n%end",
    "single-quote": "it's",
    "double-quote": 'say "hi"',
    "both-quotes": "'\"",
    "semicolon": "a;b",
    "braces": "{x}",
    "percent-line": "%end",
    "nul": "a\0b",
    "expansion": "${x}$(id)`id`",
    "comment": "#c",
    "spaces": "a b  c",
    "backslash": "a\\b\\",
    "entity": "&x;<y>",
    "carriage-return": "a\rb",
    "line-separator": "a\u2028b",
}

# Commands setting a value that reaches an artifact ({} is the payload, {h} a host of its own:
# one value's refusal must not hide what another value does to its own artifacts).
HOST_SETTERS = [
    ["set host attr {h} Kickstart_Timezone {}"],
    ["set host attr {h} Kickstart_Lang {}"],
    ["set host attr {h} Info_ClusterName {}"],
    ["set host attr {h} Kickstart_PrivateKickstartBasedir {}"],
    ["set host comment {h} comment={}"],
    ["set host arch {h} arch={}"],
    ["set host os {h} os={}"],
    ["set host bootflags {h} flags={}"],
    ["set host interface {h} eth0 name={}"],
    ["set host interface {h} eth0 module={}"],
    ["add host pxeaction {h} action=install 'command=kernel vmlinuz' 'args=append ks {} initrd=x.img'"],
    ["add host pxeaction {h} action=install 'command=kernel {}'"],
    ["add host pxeaction {h} action=install command={}"],
    [
        "add host pxeaction {h} action={} 'command=kernel vmlinuz' 'args=append ks initrd=x.img'",
        "set host pxeboot {h} action={}",
    ],
]
CONTAINER_SETTERS = [  # {h}: a VM container of its own, {v}: its VM
    ["set host attr {h} vm_bridge {}"],
    ["set host attr {h} xen_install_kernel {}"],
    ["set host attr {h} xen_install_ramdisk {}"],
    ["set host attr {h} xen_bootloader {}"],
    ["set host attr {h} vm_serial_log {}"],
    ["set host attr {h} vm_serial_log {}"],  # a Xen and a KVM container
    ["set host vm {v} disk=file:/state/{},xvda,w"],
    ["set host vm {v} disk=file:/state/x,{},w"],
    ["set host attr {v} Kickstart_PrivateKickstartHost {}"],
    ["add host pxeaction {v} action=install 'command=kernel vmlinuz' 'args=append ks {} initrd=x.img'"],
]
DEBIAN_SETTERS = [  # {h}: a debian12 host of its own (its preseed where its kickstart would be)
    ["set host attr {h} Kickstart_Timezone {}"],
    ["set host attr {h} Kickstart_Lang {}"],
    ["set host attr {h} Kickstart_Keyboard {}"],
    ["set host attr {h} Kickstart_PrivateKickstartHost {}"],
    ["set host attr {h} Kickstart_PrivateKickstartBasedir {}"],
    ["set host attr {h} Kickstart_PrivateDNSDomain {}"],
    ["set host attr {h} Info_ClusterName {}"],
    ["set host bootflags {h} flags={}"],
]
DEBIAN_ACTION = (
    "add host pxeaction action='install debian12' 'command=kernel debian12-linux' "
    "'args=append initrd=debian12-initrd.gz auto=true priority=critical preseed'"
)
KVM_CONTAINER = 5  # the one whose VMs are KVM guests (a serial log file in their domain XML)
GLOBAL_SETTERS = [  # each changes every host's artifacts: one build each, on a small cluster
    "set attr Kickstart_PrivateDNSDomain {}",
    "set attr Kickstart_PrivateKickstartHost {}",
    "set cluster name={}",
    "set network private dnszone={}",
    "set os attr linux Kickstart_Keyboard {}",
    "set host bootflags flags={}",
    "set appliance attr compute Kickstart_Timezone {}",
    "add appliance tile2 membership={}",
    "add hwprofile p disks={}:80G",
    "add host pxeaction action=install 'command=kernel vmlinuz' 'args=append {} initrd=x.img'",
]
# printable values these must take (and then carry exactly): free text in free-text places
FREE_TEXT = {
    "set host attr {h} Kickstart_Timezone {}",
    "set host comment {h} comment={}",
    "set host pxeboot {h} action={}",
    "add host pxeaction {h} action=install 'command=kernel vmlinuz' 'args=append ks {} initrd=x.img'",
}


def setter_argv(template: str, payload: str, **names: str) -> list[str]:
    words = shlex.split(template.replace("{}", "PAYLOAD").format(**names))
    return [w.replace("PAYLOAD", payload) for w in words]


def cluster_with(root: Path, lines: list[str]) -> Path:
    assert run_cli("init", str(root), "password=x").rc == 0
    for line in lines:
        result = run_cli("-C", str(root), *shlex.split(line))
        assert result.rc == 0, (line, result.err)
    assert run_cli("-C", str(root), "build", "--eval=no").rc == 0
    return root


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """A compute host per host setter, a VM container with one VM per container setter; built."""
    lines = ["add hwprofile d disks=sda:80G"]
    for i in range(len(HOST_SETTERS)):
        lines += [f"add host compute-0-{i}", f"set host hwprofile compute-0-{i} d"]
    for i in range(len(CONTAINER_SETTERS)):
        lines += [f"add host vm-container-0-{i}", f"add host vm vm-container-0-{i} membership=Compute"]
    lines.append(f"set host attr vm-container-0-{KVM_CONTAINER} vm_hypervisor kvm")
    for i in range(len(DEBIAN_SETTERS)):
        lines += [
            f"add host compute-1-{i}",
            f"set host hwprofile compute-1-{i} d",
            f"set host attr compute-1-{i} kickstart_dialect debian12",
        ]
    lines.append(DEBIAN_ACTION)
    root = cluster_with(tmp_path_factory.mktemp("injection") / "wide", lines)
    return root, shapes(root / "build")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    lines = ["add host compute-0-0", "add host vm-container-0-0", "add host vm vm-container-0-0 membership=Compute"]
    root = cluster_with(tmp_path_factory.mktemp("injection") / "small", lines)
    return root, shapes(root / "build")


def set_values(root: Path, setters: list[tuple[str, dict]], payload: str) -> list[str]:
    """Run each setter; a refusal is one error line that changes nothing. Returns those accepted."""
    accepted = []
    for template, names in setters:
        before = (root / "cluster.toml").read_bytes()
        result = run_cli("-C", str(root), *setter_argv(template, payload, **names))
        if result.rc == 0:
            accepted.append(template)
            continue
        assert result.err.startswith("error - ") and result.err.count("\n") == 1, (template, result.err)
        assert "Traceback" not in result.err and "internal error" not in result.err, (template, result.err)
        assert (root / "cluster.toml").read_bytes() == before, template
    if not payload.isprintable():
        assert accepted == [], "a value with a control character was accepted"
    return accepted


def build_and_compare(base: Path, root: Path, base_shapes: dict, accepted: list[str]) -> None:
    """Build; a job that cannot carry a value is refused alone, in one line, its artifacts kept;
    every artifact has the structure the same cluster without the values has."""
    before = {p: p.read_bytes() for p in (root / "build").rglob("*") if p.is_file() and not p.name.startswith(".")}
    result = run_cli("-C", str(root), "build", "--eval=no")
    for line in result.err.splitlines():
        assert line.startswith(("error - ", "warning - ")) and "internal error" not in line, line
    refused = set(re.findall(r"^error - (\w+:[\w.-]+): ", result.err, re.M))
    for path in {path for job in refused for path in baseline_outputs(base, job)}:
        assert (root / "build" / path).read_bytes() == before[root / "build" / path], path
    assert shapes(root / "build") == base_shapes, f"accepted {accepted}, refused {sorted(refused)}"


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_every_value_of_a_host_reaching_an_artifact(tmp_path, wide, payload):
    base, base_shapes = wide
    root = tmp_path / "c"
    shutil.copytree(base, root)
    setters = [(t, {"h": f"compute-0-{i}"}) for i, group in enumerate(HOST_SETTERS) for t in group]
    setters += [
        (t, {"h": f"vm-container-0-{i}", "v": f"compute-0-{i}-0"})
        for i, group in enumerate(CONTAINER_SETTERS)
        for t in group
    ]
    setters += [(t, {"h": f"compute-1-{i}"}) for i, group in enumerate(DEBIAN_SETTERS) for t in group]
    accepted = set_values(root, setters, payload)
    if payload.isprintable():
        assert FREE_TEXT <= set(accepted), FREE_TEXT - set(accepted)
    build_and_compare(base, root, base_shapes, accepted)


GLOBAL_PAYLOADS = ["single-quote", "double-quote", "semicolon", "braces", "percent-line", "expansion", "backslash"]


@pytest.mark.parametrize("payload", [PAYLOADS[k] for k in GLOBAL_PAYLOADS], ids=GLOBAL_PAYLOADS)
def test_every_global_value_reaching_an_artifact(tmp_path, small, payload):
    base, base_shapes = small
    root = tmp_path / "c"
    shutil.copytree(base, root)
    pristine = (root / "cluster.toml").read_bytes()
    for template in GLOBAL_SETTERS:
        accepted = set_values(root, [(template, {})], payload)
        if accepted:
            build_and_compare(base, root, base_shapes, accepted)
            (root / "cluster.toml").write_bytes(pristine)  # the next value alone


def test_control_characters_are_refused_by_every_global_setter(tmp_path, small):
    root = tmp_path / "c"
    shutil.copytree(small[0], root)
    for payload in (p for p in PAYLOADS.values() if not p.isprintable()):
        set_values(root, [(t, {}) for t in GLOBAL_SETTERS], payload)


def baseline_outputs(base: Path, job_id: str) -> set[str]:
    from rockscc.engine.manifest import Manifest

    manifest = Manifest.load(base / "build")
    try:
        return set(manifest.jobs.output_paths(job_id)) if job_id in manifest.jobs else set()
    finally:
        manifest.close()


# --- the artifacts as their parsers read them -----------------------------------------------------
def shapes(build: Path) -> dict:
    """Each artifact's structure (what its syntax says), after checking its parser accepts it."""
    out = {}
    for path in sorted(build.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        relative = str(path.relative_to(build))
        kind = relative.removeprefix("tftp/").split("/")[0]  # boot files live in the TFTP tree
        reader = {
            "kickstart": kickstart_shape,
            "pxelinux.cfg": pxelinux_shape,
            "uefi": grub_shape,
            "ipxe": ipxe_shape,
            "xen": xl_shape,
            "libvirt": libvirt_shape,
            "net": net_shape,
        }.get(kind)
        if kind == "kickstart" and path.read_text().startswith("# debian-installer preseed"):
            reader = preseed_shape
        if reader is not None:
            out[relative] = reader(path)
    assert {"kickstart", "pxelinux.cfg", "uefi", "ipxe", "xen", "libvirt", "net"} <= {
        r.removeprefix("tftp/").split("/")[0] for r in out
    }, "an artifact kind was not found: its checks would pass vacuously"
    return out


def kickstart_shape(path: Path):
    from pykickstart.parser import KickstartParser
    from pykickstart.version import makeVersion

    parser = KickstartParser(makeVersion("RHEL5"), followIncludes=False)
    parser.readKickstartFromString(path.read_text())
    handler = parser.handler
    seen = sorted(name for name, command in handler.commands.items() if getattr(command, "seen", False))
    scripts = [(s.type, s.interp, s.script.count("\n")) for s in handler.scripts]
    return seen, scripts, len(handler.packages.packageList)


def preseed_shape(path: Path):
    """A debian12 preseed as d-i's loader reads it (debconf-set-selections checks it): one answer
    per line, no line continued by a backslash; the shape is each answer's owner, question and
    type, and the late command's scripts (base64 words, decoded: the same programs)."""
    from rockscc.backends.preseed import _debconf_check

    text = path.read_text()
    _debconf_check(text, path.stem)  # Debian's debconf-set-selections, on a database of its own
    answers, scripts = [], []
    for line in text.split("\n"):
        if not line.strip() or line.startswith("#"):
            continue
        assert not line.endswith("\\"), line
        owner, question, kind, *value = line.split(None, 3)
        answers.append((owner, question, kind))
        if question in ("preseed/late_command", "partman/early_command"):
            scripts.append(
                [base64.b64decode(w).count(b"\n") for w in re.findall(r"[A-Za-z0-9+/]{16,}={0,2}", value[0])]
            )
    return answers, scripts


def pxelinux_shape(path: Path):
    lines = path.read_text().split("\n")
    assert lines[-1] == "" and [x for x in lines if x.startswith("label")] == ["label rocks"]
    return [line.split(None, 1)[0] for line in lines if line]


def grub_words(line: str) -> list[str]:
    """One grub.cfg line as grub reads it: words with quotes and escapes resolved; { } ; and a
    comment stand apart."""
    words, word, i, quoted = [], "", 0, False
    while i < len(line):
        c = line[i]
        if c == "'":
            end = line.index("'", i + 1)
            word, i, quoted = word + line[i + 1 : end], end + 1, True
            continue
        if c == '"':
            i += 1
            while line[i] != '"':
                if line[i] == "\\" and line[i + 1] in '$"\\':
                    word, i = word + line[i + 1], i + 2
                    continue
                assert line[i] != "$", f"unescaped $ in a grub string: {line}"
                word, i = word + line[i], i + 1
            i, quoted = i + 1, True
            continue
        if c == "\\":
            word, i = word + line[i + 1], i + 2
            continue
        if c in " \t;{}|&<>" or (c == "#" and not word and not quoted):
            if word or quoted:
                words.append(word)
            word, quoted = "", False
            if c == "#":
                break
            if c not in " \t":
                words.append(c)
            i += 1
            continue
        assert c != "$", f"an expansion grub would make: {line}"
        word, i = word + c, i + 1
    if word or quoted:
        words.append(word)
    return words


def grub_shape(path: Path):
    statements = [grub_words(line) for line in path.read_text().splitlines() if line.strip()]
    assert statements[-1] == ["}"] and sum(s[:1] == ["menuentry"] for s in statements) == 1
    assert all(s.count("{") + s.count("}") <= 1 and ";" not in s for s in statements)
    return [(s[0], len(s) if s[0] == "menuentry" else None) for s in statements]


def ipxe_shape(path: Path):
    lines = path.read_text().splitlines()
    for line in lines[2:]:
        words = line.split()
        assert not any(w.startswith("#") or w in ("||", "&&", ";") or "${" in w for w in words), line
    return [line.split(None, 1)[0] for line in lines]


def xl_shape(path: Path):
    from rockscc.grammar.xlcfg import parse_xl

    config = parse_xl(path.read_text(), str(path))
    for disk in config.get("disk", []):
        assert len(disk.split(",")) == 3, disk  # xl splits a disk spec at commas
    for vif in config.get("vif", []):
        assert all("=" in item for item in vif.split(",")), vif
    return {k: (len(v) if isinstance(v, list) else type(v).__name__) for k, v in config.items()}


def libvirt_shape(path: Path):
    from lxml import etree

    if shutil.which("virt-xml-validate"):
        result = subprocess.run(["virt-xml-validate", str(path), "domain"], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
    return [(e.tag, tuple(sorted(e.attrib))) for e in etree.parse(str(path)).iter()]


def net_shape(path: Path):
    text = path.read_text()
    if path.name == "dhcpd.conf":
        if shutil.which("dhcpd"):
            result = subprocess.run(["dhcpd", "-t", "-q", "-cf", str(path)], capture_output=True, text=True)
            assert result.returncode == 0, result.stdout + result.stderr
        tokens = re.findall(
            r'"(?:[^"\\]|\\.)*"|[{};]|[^\s{};"]+',
            "\n".join(line for line in text.splitlines() if not line.startswith("#")),
        )
        return ["S" if t.startswith('"') else (t if t in "{};" else "w") for t in tokens]
    return [len(line.split()) for line in text.splitlines() if not line.startswith("#")]


# --- hand-edited cluster.toml and host files ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        ("attrs", "Kickstart_Timezone"),
        ("hosts", "compute-0-0", "comment"),
        ("hosts", "compute-0-0", "arch"),
        ("pxeactions", "install", "args"),
        ("networks", "private", "dnszone"),
        ("appliances", "compute", "membership"),
    ],
)
@pytest.mark.parametrize(
    "payload", ["a\nb", "a\0b", "a\tb", "a\u2028b", "a\x7fb"], ids=["nl", "nul", "tab", "ls", "del"]
)
def test_a_control_character_in_hand_edited_toml_is_refused_at_its_line(small, tmp_path, path, payload):
    base, _ = small
    root = tmp_path / "c"
    shutil.copytree(base, root)
    where, keys = (
        (f"hosts/{path[1]}.toml", path[2:]) if path[0] == "hosts" else ("cluster.toml", path)
    )  # a host's own file
    data = tomllib.loads((root / where).read_text())
    table = data
    for key in keys[:-1]:
        table = table[key]
    table[keys[-1]] = payload
    text = tomli_w.dumps(data)
    (root / where).write_text(text)
    result = run_cli("-C", str(root), "list", "host")
    assert result.rc == 1 and result.err.count("\n") == 1, result.err
    line = next(
        n
        for n, t in enumerate(text.split("\n"), 1)
        if t.startswith(f"{keys[-1]} =") and t.endswith(tomli_w.dumps({"v": payload})[4:].strip())
    )
    assert result.err.startswith(f"error - {where}:{line}: {'.'.join(keys)}: the character U+"), result.err


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")
def test_node_names_and_tests_in_dot_graphs_stay_names(tmp_path):
    """Node names (file names and graph edges) with quotes, a trailing backslash, `;` and `{}`,
    and a cond= test with a quote: `list host graph` and `report graph` write DOT that graphviz
    reads with exactly the nodes and edges meant."""
    from tests.xmlgraph.conftest import make_bare, write

    root = make_bare(tmp_path / "c", ["compute-0-0"])
    names = ['q"x', "b\\", "semi;{x}", "sp ace", "x] [image=/etc/passwd"]
    edges = "".join(f'<edge from="compute" to="{n.replace(chr(34), "&quot;")}"/>\n' for n in names)
    write(
        root,
        "graphs/default/g.xml",
        f'<graph>\n{edges}<edge from="compute" to="c" cond="a == \'x&quot;\\\'"/>\n'
        '<edge from="server" to="c"/>\n</graph>\n',
    )
    for name in [*names, "compute", "server", "c"]:
        write(root, f"nodes/{name}.xml", "<kickstart><post>x</post></kickstart>\n")
    for argv, extra in (
        (["list", "host", "graph", "compute-0-0"], set()),
        (["report", "graph", "compute"], {"appliance:compute"}),
    ):
        result = run_cli("-C", str(root), *argv)
        assert result.rc == 0, result.err
        read = subprocess.run(["dot", "-Tjson"], input=result.out, capture_output=True, text=True)
        assert read.returncode == 0, read.stderr
        graph = __import__("json").loads(read.stdout)
        nodes = {o["name"].replace("\\\\", "\\") for o in graph["objects"] if "nodes" not in o}
        assert nodes == {*names, "compute", "c", "overlay:site"} | extra
        assert all("image" not in o for o in graph["objects"])
        targets = {
            graph["objects"][e["head"]]["name"].replace("\\\\", "\\")
            for e in graph["edges"]
            if graph["objects"][e["tail"]]["name"] == "compute"
        }
        assert targets == {*names, "c"}
