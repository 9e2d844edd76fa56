"""A lean pykickstart handler (backends/kickstart: _lean_parser, only the commands a text names)
must never accept what the full handler rejects, and where it rejects with pykickstart's own
error it is the full handler's error; the verdict the validator takes (_lean_accepts: the lean
acceptance, else the full handler's) is a fresh full handler's on every text, with parsers
reused from text to text as the validator reuses them."""

from __future__ import annotations

import warnings
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.backends.kickstart import (
    DIALECTS,
    _accepts,
    _handler_class,
    _lean_accepts,
    _lean_names,
    _lean_parser,
    _parser,
)

VERSIONS = sorted({d.pykickstart for d in DIALECTS.values()})


def fresh_full(version: str):
    from pykickstart.parser import KickstartParser
    from pykickstart.version import makeVersion

    return KickstartParser(makeVersion(version), followIncludes=False, errorsAreFatal=True, missingIncludeIsFatal=False)


def outcome(parser, text: str):
    """("ok",) or (exception type name, message, line) of one read."""
    from pykickstart.errors import KickstartError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parser.readKickstartFromString(text, reset=True)
    except KickstartError as exc:
        return ("KickstartError", str(exc), getattr(exc, "lineno", None))
    except Exception as exc:
        return (type(exc).__name__, str(exc), None)
    return ("ok",)


@cache
def command_names(version: str) -> list[str]:
    return sorted(_handler_class(version).commandMap)


ARGS = [
    "/",
    "/var",
    "swap",
    "pv.01",
    "raid.01",
    "--size=100",
    "--size=lots",
    "--grow",
    "--ondisk=sda",
    "--onpart=sda1",
    "--fstype=ext3",
    "--noformat",
    "--useexisting",
    "--recommended",
    "--percent=50",
    "--name=lv",
    "--vgname=vg",
    "--level=1",
    "--device=md0",
    "--all",
    "--initlabel",
    "--drives=sda",
    "--utc",
    "America/New_York",
    "--bootproto=dhcp",
    "--hostname=h.local",
    "--url=http://x/",
    "--url",
    "http://x/",
    "--server=s",
    "--dir=/x",
    "--partition=sda1",
    "--baseurl=http://r/",
    "--name=r",
    "--disabled",
    "--enabled",
    "--enforcing",
    "--iscrypted",
    "$1$x",
    "en_US",
    "us",
    "--location=mbr",
    '--append="a b"',
    "--type=plain",
    "--label=x",
    "--bogus",
    "'",
    '"',
    "\\",
    "#comment",
    "x",
]
ODD_WORDS = ["bogus", "partx", "netw", '"part"', 'par"t"', "time\\zone", '"autopart"', "auto'part'", "%include"]


@st.composite
def heads(draw, version: str) -> str:
    names = command_names(version)
    lines = []
    for _ in range(draw(st.integers(0, 9))):
        word = draw(st.one_of(st.sampled_from(names), st.sampled_from(ODD_WORDS)))
        args = draw(st.lists(st.sampled_from(ARGS), max_size=4))
        lead = draw(st.sampled_from(["", "", "", " ", "\t"]))
        lines.append(lead + " ".join([word, *args]))
    if draw(st.booleans()):
        lines += ["%packages --ignoremissing", *draw(st.lists(st.sampled_from(["@core", "wget", "-x"]), max_size=2))]
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(["%pre", "%post", "%post --nochroot", "%pre --bogus", "%end"])))
    return "\n".join(lines) + "\n"


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), version=st.sampled_from(VERSIONS))
def test_the_lean_handler_never_accepts_what_the_full_one_rejects(data, version):
    text = data.draw(heads(version))
    full = outcome(fresh_full(version), text)
    lean = outcome(_lean_parser.__wrapped__(version, _lean_names(version, text)), text)
    if lean == ("ok",):
        assert full == ("ok",), (text, full)
    elif lean[0] == "KickstartError" and "Unknown command" not in lean[1]:
        assert lean == full, text  # the same message, at the same line
    # the verdict the validator takes, on parsers reused across examples as it reuses them
    assert _lean_accepts(version, text, _parser) == (full == ("ok",)), (text, full)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("first", ["partition / --size=100\n", "part / --size=100\n", '"part" / --size=100\n'])
def test_a_reused_parser_keeps_a_command_s_names_together(version, first):
    """`partition` and `part` are one object in pykickstart: resetting one name's object after a
    text left the other name on the old one, and a later `part` + `autopart` escaped the conflict
    check that a fresh handler makes (backends/kickstart: _reset_command)."""
    second = "part / --size=100\nautopart\n"
    expected = outcome(fresh_full(version), second) == ("ok",)
    for parser in (
        _parser.__wrapped__(version),
        _lean_parser.__wrapped__(version, _lean_names(version, first + second)),
    ):
        _accepts(parser, first)
        assert _accepts(parser, second) == expected


@pytest.mark.parametrize("version", VERSIONS)
def test_a_lean_handler_registers_every_name_of_its_commands(version):
    command_map = _handler_class(version).commandMap
    names = _lean_names(version, "part / --size=1\n")
    assert "partition" in names and "part" in names
    assert all(command_map[n] in {command_map[m] for m in names} for n in names)
    assert {"url", "cdrom", "nfs", "harddrive"} <= names
    assert len(names) < len(command_map) / 2  # lean: not every command


def test_a_command_name_the_lean_handler_lacks_is_judged_by_the_full_one():
    """shlex joins `"time"zone` into timezone, a name the text holds nowhere as one word."""
    text = '"time"zone --utc America/New_York\n'
    for version in VERSIONS:
        assert outcome(_lean_parser.__wrapped__(version, _lean_names(version, text)), text)[0] == "KickstartError"
        assert _lean_accepts(version, text, _parser) == (outcome(fresh_full(version), text) == ("ok",))
