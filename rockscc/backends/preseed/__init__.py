"""Debian installer preseed files from the same Profile and partition plan a kickstart is made of
(attribute kickstart_dialect=debian12), and their validation: Debian's `debconf-set-selections
-c` plus rockscc's own checks, as pykickstart validates kickstarts.

    <main> commands      → d-i answers (answers.py)
    <package>            → pkgsel/include (packages.py: debian= attributes, the RPM-to-Debian table)
    the partition plan   → partman-auto/expert_recipe on the plan's disk (recipe.py)
    bootloader --append  → debian-installer/add-kernel-opts (the host's boot flags)
    %pre                 → partman/early_command; <post>/<file>, install-done → preseed/late_command
                           with in-target (commands.py)

Pure functions of plain data: nothing here reads the model, the node files or the build directory.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass

from rockscc.backends.preseed.answers import Answer, main_answers
from rockscc.backends.preseed.commands import commands
from rockscc.backends.preseed.packages import debian_packages
from rockscc.backends.preseed.recipe import Recipe, plan_recipe
from rockscc.errors import RocksccError
from rockscc.xmlgraph.profile import Profile, Script

DIALECTS = {"debian12": "bookworm"}  # dialect -> the Debian suite its installer installs


@dataclass(frozen=True)
class Options:
    """What the host's attributes say about its install besides its profile."""

    allow_unauthenticated: bool = False  # attribute debian_allow_unauthenticated: a mirror without Debian's signature


@dataclass(frozen=True)
class Preseed:
    text: str
    answers: tuple[Answer, ...]  # every answer, in file order
    recipe: Recipe
    packages: tuple[str, ...]
    early_script: str  # what partman/early_command runs
    late_script: str  # what preseed/late_command runs


def render(profile: Profile, plan: dict | None, dialect: str = "debian12", options: Options = Options()) -> Preseed:
    """The host's preseed: its answers with the node file each comes from as a comment above it."""
    if dialect not in DIALECTS:
        raise RocksccError(f'"{dialect}" is not a preseed dialect ({", ".join(DIALECTS)})')
    host = profile.host
    if plan is None:
        raise RocksccError(
            f"host {host}: kickstart_dialect={dialect} needs the host's disks (set host hwprofile, or "
            f"add host disk): its partman recipe is the host's partition plan"
        )
    main = main_answers(profile.main)
    recipe = plan_recipe(plan, host)
    packages, package_notes = debian_packages(
        profile.packages, profile.disabled, profile.debian_names, profile.package_origins
    )
    scripts = commands(profile.pre, profile.post, main.services, _boot_scripts(profile))
    answers = _dedupe(main.answers + _fixed(dialect, main, recipe, packages, scripts, options))
    _require(answers, host)
    notes = main.notes + package_notes + list(scripts.notes)
    text = _text(profile, dialect, answers, notes)
    return Preseed(text, tuple(answers), recipe, tuple(packages), scripts.early_script, scripts.late_script)


def _boot_scripts(profile: Profile) -> list[Script]:
    """Rocks' first-boot text (<boot>) goes where the kickstart puts it, /etc/sysconfig/rocks-*."""
    body = []
    for name, texts in (("rocks-pre", profile.boot_pre), ("rocks-post", profile.boot_post)):
        if texts:
            body.append(
                f"mkdir -p /etc/sysconfig\ncat >> /etc/sysconfig/{name} << 'EOF'\n"
                + "\n".join(t.strip("\n") for t in texts)
                + "\nEOF"
            )
    return [Script("post", "\n".join(body))] if body else []


def _fixed(dialect: str, main, recipe: Recipe, packages: list[str], scripts, options: Options) -> list[Answer]:
    """What every unattended install answers, whatever the nodes say."""
    suite = DIALECTS[dialect]
    made = "rockscc"
    answers = [
        Answer("mirror/suite", "string", suite, made),
        Answer("mirror/codename", "string", suite, made),
        Answer("hw-detect/load_firmware", "boolean", "false", made),
        Answer("apt-setup/services-select", "multiselect", "", made),
        Answer("apt-setup/non-free-firmware", "boolean", "false", made),
        Answer("apt-setup/non-free", "boolean", "false", made),
        Answer("apt-setup/contrib", "boolean", "false", made),
        Answer("apt-setup/cdrom/set-first", "boolean", "false", made),
        Answer("partman-auto/disk", "string", recipe.disk, "the partition plan"),
        Answer("partman-auto/method", "string", "regular", "the partition plan"),
        Answer("partman-partitioning/choose_label", "select", recipe.label, "the partition plan"),
        Answer("partman-partitioning/default_label", "string", recipe.label, "the partition plan"),
        Answer("partman-auto/expert_recipe", "string", recipe.text, "the partition plan"),
        Answer("partman-lvm/device_remove_lvm", "boolean", "true", made),
        Answer("partman-md/device_remove_md", "boolean", "true", made),
        Answer("partman-partitioning/confirm_write_new_label", "boolean", "true", made),
        Answer("partman-basicfilesystems/no_swap", "boolean", "false", made),
        Answer("partman/choose_partition", "select", "finish", made),
        Answer("partman/confirm", "boolean", "true", made),
        Answer("partman/confirm_nooverwrite", "boolean", "true", made),
        Answer("tasksel/first", "multiselect", "", made, owner="tasksel"),
        Answer("pkgsel/run_tasksel", "boolean", "false", made),
        Answer("pkgsel/include", "string", " ".join(packages), "the <package> elements"),
        Answer("pkgsel/upgrade", "select", "none", made),
        Answer("popularity-contest/participate", "boolean", "false", made, owner="popularity-contest"),
        Answer("preseed/late_command", "string", scripts.late, "the %post sections"),
    ]
    if scripts.early:
        answers.append(Answer("partman/early_command", "string", scripts.early, "the %pre sections"))
    if main.bootloader:
        answers += [
            Answer("grub-installer/only_debian", "boolean", "true", made),
            Answer("grub-installer/with_other_os", "boolean", "false", made),
            Answer("grub-installer/bootdev", "string", recipe.disk, "the partition plan"),
        ]
    if not any(a.question == "finish-install/reboot_in_progress" for a in main.answers):
        answers.append(Answer("finish-install/reboot_in_progress", "note", "", made))
    if options.allow_unauthenticated:
        answers.append(
            Answer(
                "debian-installer/allow_unauthenticated", "boolean", "true", "attribute debian_allow_unauthenticated"
            )
        )
    return answers


def _dedupe(answers: list[Answer]) -> list[Answer]:
    """A question answered twice (two nodes' `lang`): the later answer wins, as in a kickstart."""
    last = {a.question: a for a in answers}
    seen, out = set(), []
    for answer in answers:
        if answer.question not in seen:
            seen.add(answer.question)
            out.append(last[answer.question])
    return out


REQUIRED = {
    "mirror/http/hostname": "a url --url http://… line (nodes/base.xml has one)",
    "passwd/root-password-crypted|passwd/root-password": "a rootpw line",
}


def _require(answers: list[Answer], host: str) -> None:
    """Questions d-i would stop and ask at any priority: an unattended install needs their answers."""
    asked = {a.question for a in answers}
    for questions, what in REQUIRED.items():
        if not asked & set(questions.split("|")):
            raise RocksccError(f"host {host}: the main section has no {what}: d-i would stop and ask")


def _text(profile: Profile, dialect: str, answers: list[Answer], notes: list[str]) -> str:
    lines = [
        f"# debian-installer preseed ({dialect}) for {profile.host}, compiled by rockscc",
        "#",
        "# Node Traversal Order",
        "#",
    ]
    lines += [f"# {node}" for node in profile.commented]
    lines.append("#")
    if notes:
        lines += ["# Not applied, or applied differently on Debian:", "#"]
        lines += [f"# {_one_line(note)}" for note in notes]
        lines.append("#")
    origin = None
    for answer in answers:
        if answer.origin != origin:
            lines += ["", f"# {_one_line(answer.origin)}"]
            origin = answer.origin
        lines.append(_line(answer))
    return "\n".join(lines) + "\n"


def _line(answer: Answer) -> str:
    return (
        f"{answer.owner} {answer.question} {answer.type} {answer.value}".rstrip(" ")
        if answer.value
        else f"{answer.owner} {answer.question} {answer.type}"
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- validation --------------------------------------------------------------------------------
TYPES = frozenset({"string", "boolean", "select", "multiselect", "note", "password", "text", "error", "title"})
_QUESTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*(/[A-Za-z0-9_.+-]+)+$")
_OWNER = re.compile(r"^[a-z0-9][a-z0-9.+-]*$")
_GLOB = re.compile(r"[*?\[]")


def check(preseed: Preseed, host: str) -> None:
    """rockscc's own checks: what d-i's loader would misread, before any tool runs."""
    for answer in preseed.answers:
        where = f"host {host}: {answer.question} (from {answer.origin})"
        if answer.type not in TYPES or not _QUESTION.match(answer.question) or not _OWNER.match(answer.owner):
            raise RocksccError(f"{where}: not a question d-i can be asked")
        if "\n" in answer.value or "\r" in answer.value:
            raise RocksccError(f"{where}: the answer has a line break: a preseed answer is one line")
        if _GLOB.search(answer.value):
            raise RocksccError(
                f"{where}: the answer has {_GLOB.search(answer.value)[0]!r}: d-i's preseed loader "
                f"expands glob characters (put such text in a <post>)"
            )
        if answer.value.endswith("\\"):
            raise RocksccError(f"{where}: the answer ends with a backslash, which continues a preseed line")
        if answer.type == "boolean" and answer.value not in ("true", "false"):
            raise RocksccError(f"{where}: a boolean answer is true or false, not {answer.value!r}")


class Validator:
    """Debian's debconf-set-selections --checkonly on each distinct preseed skeleton (the lines'
    owners, questions and types: the checker's verdict does not depend on the values, which
    rockscc's own checks cover), once per validator and not at all when an earlier build's
    verdict is in the memo; rockscc's own checks on every preseed."""

    def __init__(self, memo) -> None:
        self.memo = memo
        self._valid: set[bytes] = set()

    def validate(self, preseed: Preseed, host: str) -> None:
        check(preseed, host)
        skeleton = "".join(f"{a.owner} {a.question} {a.type} x\n" for a in preseed.answers)
        digest = hashlib.sha256(skeleton.encode()).digest()
        if digest in self._valid:
            return
        if not self.memo.known("preseed-valid", digest.hex()):
            _debconf_check(preseed.text, host)
            self.memo.remember("preseed-valid", digest.hex())
        self._valid.add(digest)


# debconf's own database, private to one check: against the machine's, checks running at the same
# time (a build's workers, another build, apt) find it locked and fail with no message at all
_PRIVATE_DB = """Config: configdb
Templates: templatedb

Name: configdb
Driver: File
Filename: {dir}/config.dat

Name: templatedb
Driver: File
Filename: {dir}/templates.dat
"""


def _debconf_check(text: str, host: str) -> None:
    try:
        with tempfile.TemporaryDirectory(prefix="rockscc-debconf-") as private:
            rc = os.path.join(private, "debconf.conf")
            with open(rc, "w") as fh:
                fh.write(_PRIVATE_DB.format(dir=private))
            done = subprocess.run(
                ["debconf-set-selections", "--checkonly"],
                input=text.encode(),
                capture_output=True,
                timeout=60,
                env={**os.environ, "DEBCONF_SYSTEMRC": rc},
            )
    except FileNotFoundError:
        raise RocksccError(
            "debconf-set-selections is missing: install Debian's debconf package (it validates debian12 preseeds)"
        ) from None
    except subprocess.TimeoutExpired:
        raise RocksccError(f"host {host}: debconf-set-selections --checkonly did not finish in 60 s") from None
    said = done.stderr.decode(errors="replace").strip()
    if done.returncode != 0 or said:
        first = said.splitlines()[0] if said else f"exit status {done.returncode}"
        raise RocksccError(f"host {host}: preseed rejected by debconf-set-selections: {first}")
