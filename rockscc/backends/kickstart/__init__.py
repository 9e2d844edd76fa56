"""Kickstart files from profiles (Jinja2), and their validation with pykickstart."""

from __future__ import annotations

import hashlib
import re
import warnings
from functools import cache
from pathlib import Path

import jinja2

from rockscc.backends.kickstart.dialects import DIALECTS, Dialect
from rockscc.build import memo
from rockscc.errors import RocksccError
from rockscc.xmlgraph.profile import Profile, Script

_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                          keep_trailing_newline=True, autoescape=False, undefined=jinja2.StrictUndefined)
_ENV.filters["body"] = lambda text: text.strip("\n")
INSTALL_LOG = "/var/log/rocks-install.log"


def dialect_of(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise RocksccError(f'kickstart_dialect "{name}" is not one of {", ".join(DIALECTS)}') from None


_TRAILING_SPACE = re.compile(r"[ \t\r\f\v]+$", re.M)  # what str.rstrip removed per line, in one C pass


def render(profile: Profile, dialect_name: str) -> str:
    dialect = dialect_of(dialect_name)
    main = []
    for line, origin in profile.main:
        command = line.split(None, 1)[0] if line.strip() else ""
        if command in dialect.dropped:
            main.append(f"# rockscc: {command} is not a {dialect.pykickstart} command (from {origin}): {line.strip()}")
        else:
            main.append(line)
    text = _ENV.get_template("kickstart.j2").render(
        profile=profile, dialect=dialect, main=main, posts=_posts(profile), header=_header)
    return _TRAILING_SPACE.sub("", text).rstrip("\n") + "\n"


def _posts(profile: Profile) -> list[Script]:
    """Rocks wraps every <post> in two logging posts (begin and end), three sections in all;
    a final post carries <boot> text for the first boot."""
    out = []
    for post in profile.post:
        node = post.node.split(" (")[0]
        out.append(Script("post", _log(f"{node}: begin post section"), node=post.node))
        out.append(post)
        out.append(Script("post", _log(f"{node}: end post section"), node=post.node))
    if profile.boot_pre or profile.boot_post:
        body = []
        for name, texts in (("rocks-pre", profile.boot_pre), ("rocks-post", profile.boot_post)):
            if texts:
                body.append(f"cat >> /etc/sysconfig/{name} << 'EOF'\n" + "\n".join(t.strip("\n") for t in texts) + "\nEOF")
        out.append(Script("post", "\n".join(body)))
    return out


def _log(message: str) -> str:
    return f"cat >> {INSTALL_LOG} << 'EOF'\n{message}\nEOF"


def _header(script: Script, log: str) -> str:
    words = []
    if log:
        words.append(f"--log={log}")
    if script.interpreter and "--interpreter" not in script.arg:
        words.append(f"--interpreter {script.interpreter}")
    if script.arg:
        words.append(script.arg)
    return (" " + " ".join(words)) if words else ""


# --- validation --------------------------------------------------------------------------------
@cache
def _parser(version: str):
    from pykickstart.parser import KickstartParser
    from pykickstart.version import makeVersion

    return KickstartParser(makeVersion(version), followIncludes=False, errorsAreFatal=True, missingIncludeIsFatal=False)


_LEFTOVER_ENTITY = re.compile(r"&[A-Za-z_][A-Za-z0-9_.:-]*;")
KNOWN_INCLUDES = {"/tmp/partition-info"}  # written by the partition step (do_partition), not a user %pre


def validate(text: str, dialect_name: str, host: str, profile: Profile) -> None:
    """pykickstart must accept the kickstart, nothing may be left unexpanded, and every %include
    must be written by some %pre. Errors name the host and the node file."""
    dialect = dialect_of(dialect_name)
    _check_own_rules(text, host, profile)
    skeleton = _skeleton(text, dialect.end)
    key = (dialect.name, hashlib.sha256(skeleton.encode()).digest())
    if key in _VALID or memo.known("kickstart-valid", _valid_key(key)):
        return
    try:
        _pykickstart(skeleton, dialect, host, profile)
    except RocksccError:
        _pykickstart(text, dialect, host, profile)  # the same verdict, with the real line number
        raise
    if len(_VALID) > 4096:
        _VALID.clear()
    _VALID.add(key)
    memo.remember("kickstart-valid", _valid_key(key))


def _valid_key(key: tuple[str, bytes]) -> str:
    from pykickstart import __version__ as pykickstart_version

    return f"{key[0]}:{pykickstart_version}:{key[1].hex()}"


_VALID: set[tuple[str, bytes]] = set()
_SCRIPT = re.compile(r"^%(pre|post|traceback|onerror|pre-install)\b")


def _skeleton(text: str, ends: bool) -> str:
    """What pykickstart's verdict depends on: commands, package lines, and each distinct section
    header once. Script bodies are opaque to it, and a header means the same wherever it appears,
    so hosts whose kickstarts differ only inside %pre/%post bodies share one validation, and
    one validation parses a few headers instead of the corpus' ~150 sections (~80 ms).
    `ends`: the dialect closes sections with %end (a body may then hold lines starting with %);
    without %end a section lasts until the next section header."""
    kept, in_script, seen, duplicate = [], False, set(), False
    for line in text.split("\n"):
        if in_script and ends and line.strip() != "%end":
            continue  # body
        if in_script and not ends and not _SECTION.match(line):
            continue  # body
        if _SCRIPT.match(line):
            in_script, duplicate = True, line in seen
            seen.add(line)
            if not duplicate:
                kept.append(line)
            continue
        if in_script and line.strip() == "%end":
            in_script = False
            if not duplicate:
                kept.append(line)
            continue
        in_script = False
        kept.append(line)
    return "\n".join(kept)


_SECTION = re.compile(r"^%(pre|post|traceback|onerror|pre-install|packages|addon|anaconda)\b")


def _pykickstart(text: str, dialect: Dialect, host: str, profile: Profile) -> None:
    from pykickstart.errors import KickstartError

    parser = _parser(dialect.pykickstart)  # built once (~28 ms), reused for every host
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parser.readKickstartFromString(text, reset=True)
    except KickstartError as exc:
        line = getattr(exc, "lineno", None)
        origin = _origin_of_line(text, line, profile) if line else ""
        message = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise RocksccError(f"host {host}: kickstart rejected by pykickstart {dialect.pykickstart}"
                           f"{f' at line {line}' if line else ''}{origin}: {message}") from None
    finally:
        _forget(parser, text)


def _check_own_rules(text: str, host: str, profile: Profile) -> None:
    leftover = _LEFTOVER_ENTITY.search(_main_and_packages(text))
    if leftover:
        raise RocksccError(f"host {host}: unexpanded entity {leftover[0]} in the kickstart")
    written = "\n".join(s.body for s in profile.pre)
    for match in re.finditer(r"^%include\s+(\S+)", text, re.M):
        target = match[1]
        if target not in KNOWN_INCLUDES and target not in written:
            raise RocksccError(f"host {host}: %include {target} is not written by any %pre")


def _forget(parser, text: str) -> None:
    """Reset only what this kickstart set, so the next host is validated on a clean handler
    without paying for a new one."""
    handler = parser.handler
    for line in _main_and_packages(text).split("\n"):
        word = line.split(None, 1)[0] if line.strip() and not line.startswith(("#", "%")) else ""
        if word in handler.commands:
            handler.resetCommand(word)
    handler.scripts = []
    handler.packages = handler.packages.__class__()


def _main_and_packages(text: str) -> str:
    head = text.split("\n%pre", 1)[0]
    return head.split("\n%post", 1)[0]


def _origin_of_line(text: str, line: int, profile: Profile) -> str:
    wanted = text.split("\n")[line - 1].strip() if 0 < line <= text.count("\n") + 1 else ""
    for main_line, origin in profile.main:
        if main_line.strip() == wanted:
            return f" (from {origin})"
    return ""
