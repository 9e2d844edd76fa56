"""Debian dialect fixtures: compile a host's preseed, and run Debian's own installer code on it.

`di` is the debian-installer netboot initrd (debian-installer-12-netboot-amd64) with the
partman-base and partman-auto udebs unpacked in it, fetched by scripts/debian-mirror into
.cache/debian12. Its shell code runs in bubblewrap: d-i's preseed loader (debconf-set-selections
on cdebconf) reads rockscc's preseed, and partman-auto's recipe decoder reads the recipe the
loader stored, exactly as in an install.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli

CACHE = REPO / ".cache" / "debian12"


def compile_preseed(cluster_dir: Path, host: str):
    """(Preseed, plan, profile) of a host, through the stages the build chains; the preseed is
    the one the build writes (checked against it)."""
    from rockscc.backends import preseed
    from rockscc.model import load
    from rockscc.model.cluster import truthy
    from rockscc.pipeline import Session

    cluster = load(cluster_dir)
    record = cluster.hosts[host]
    session = Session(cluster)
    profile = session.profile(record).profile
    hardware = cluster.hardware_of(record)
    plan = session.planner.plan(profile.pre, hardware, host, record.partitions).plan if hardware else None
    attrs = cluster.resolve_attrs(record)
    options = preseed.Options(allow_unauthenticated=truthy(attrs.get("debian_allow_unauthenticated")))
    rendered = preseed.render(profile, plan, "debian12", options)
    preseed.Validator(session.memo).validate(rendered, host)
    assert session.compile(record, plan=False).kickstart == rendered.text
    return rendered, plan, profile


@pytest.fixture
def debian_cluster(cluster_dir: Path) -> Path:
    """The init description with compute-0-0 on one 20 GiB virtio disk, boot flags, debian12."""
    for line in (
        "add host compute-0-0",
        "add hwprofile vm disks=vda:20G",
        "set host hwprofile compute-0-0 vm",
        "set host bootflags compute-0-0 flags='console=ttyS0,115200 rockscc.flag=1'",
        "set attr kickstart_dialect debian12",
    ):
        result = run_cli("-C", str(cluster_dir), *shlex.split(line))
        assert result.rc == 0, (line, result.err)
    return cluster_dir


@dataclass
class DebianInstaller:
    root: Path  # the unpacked initrd, with partman's udebs

    def load(self, texts: list[str]) -> list[dict]:
        """Each preseed loaded by d-i's own loader into a fresh debconf database: for each, the
        stored answers (question -> value), the loader's exit status, and partman-auto's decoded
        and expanded recipe (lines of `min factor max fs …`) for the free space the plan's disk has."""
        work = self.root / "tmp" / "rockscc-test"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        for n, text in enumerate(texts):
            (work / f"{n}.cfg").write_text(text)
        (work / "run.sh").write_text(_LOADER)
        (work / "decode.sh").write_text(_DECODE)
        done = subprocess.run(
            [
                "bwrap",
                "--bind",
                str(self.root),
                "/",
                "--dev",
                "/dev",
                "--proc",
                "/proc",
                "--unshare-all",
                "--die-with-parent",
                "--cap-drop",
                "ALL",
                "/bin/sh",
                "/tmp/rockscc-test/run.sh",
                str(len(texts)),
            ],
            capture_output=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr.decode()
        results = []
        for n in range(len(texts)):
            answers = {}
            for name in ("questions.dat", "passwords.dat"):
                answers.update(_rfc822_values((work / f"{n}.{name}").read_text(errors="replace")))
            results.append(
                {
                    "answers": answers,
                    "status": int((work / f"{n}.status").read_text()),
                    "decoded": (work / f"{n}.decoded").read_text().splitlines(),
                    "expanded": (work / f"{n}.expanded").read_text().splitlines(),
                    "log": (work / f"{n}.log").read_text(errors="replace"),
                }
            )
        return results


_LOADER = r"""
set -u
cd /var/lib/cdebconf
for f in /var/lib/dpkg/info/*.templates; do debconf-loadtemplate "$(basename "$f" .templates)" "$f"; done 2>/dev/null
for name in questions.dat templates.dat passwords.dat; do [ -e $name ] && cp $name /tmp/pristine.$name || : > /tmp/pristine.$name; done
n=0
while [ $n -lt "$1" ]; do
	for name in questions.dat templates.dat passwords.dat; do cp /tmp/pristine.$name $name; done
	rm -f /var/lib/preseed/log
	status=0
	DEBIAN_FRONTEND=none debconf -o d-i /bin/debconf-set-selections /tmp/rockscc-test/$n.cfg || status=$?
	echo $status > /tmp/rockscc-test/$n.status
	cp questions.dat /tmp/rockscc-test/$n.questions.dat
	cp passwords.dat /tmp/rockscc-test/$n.passwords.dat 2>/dev/null || : > /tmp/rockscc-test/$n.passwords.dat
	cp /var/lib/preseed/log /tmp/rockscc-test/$n.log 2>/dev/null || : > /tmp/rockscc-test/$n.log
	DEBIAN_FRONTEND=none debconf -o d-i /bin/sh /tmp/rockscc-test/decode.sh $n
	n=$((n + 1))
done
"""

_DECODE = r"""
. /lib/partman/lib/base.sh
. /lib/partman/lib/recipes.sh
db_get partman-auto/expert_recipe
echo "$RET" > /tmp/rockscc-test/recipe
decode_recipe /tmp/rockscc-test/recipe
echo "$scheme" > /tmp/rockscc-test/$1.decoded
db_get rockscc-test/free_size
free_size="$RET"
expand_scheme
echo "$scheme" > /tmp/rockscc-test/$1.expanded
"""


def _rfc822_values(text: str) -> dict[str, str]:
    values = {}
    for block in text.split("\n\n"):
        fields = {}
        for line in block.splitlines():
            key, _, value = line.partition(": ")
            fields.setdefault(key, value)
        if "Name" in fields:
            values[fields["Name"]] = fields.get("Value", "")
    return values


@pytest.fixture(scope="session")
def debian_installer(tmp_path_factory) -> DebianInstaller:
    done = subprocess.run(
        [str(REPO / "scripts" / "debian-mirror"), "--netboot-only"], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr
    root = tmp_path_factory.mktemp("d-i") / "root"
    root.mkdir()
    initrd = subprocess.run(
        f"zcat {CACHE / 'netboot' / 'initrd.gz'} | cpio -id --quiet", shell=True, cwd=root, capture_output=True
    )
    assert initrd.returncode == 0, initrd.stderr
    for udeb in sorted((CACHE / "netboot" / "udebs").glob("*.udeb")):
        subprocess.run(["dpkg-deb", "-x", str(udeb), str(root)], check=True)
    (root / "tmp").mkdir(exist_ok=True)
    return DebianInstaller(root)


def with_free_size(text: str, megabytes: int) -> str:
    """The preseed plus the free space partman-auto would see on the plan's disk (a test question
    the decode script reads)."""
    return text + f"d-i rockscc-test/free_size string {megabytes}\n"
