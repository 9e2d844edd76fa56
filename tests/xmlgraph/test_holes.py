"""The kickstart fast path (backends/kickstart/holes.py: a skeleton validated once, each host's
`network` lines validated alone) must give pykickstart's own verdict on the whole text: the
same acceptance on generated hosts with hostile values, and the same bytes written."""

from __future__ import annotations

import dataclasses
import re
import warnings
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.backends.kickstart import DIALECTS, Renderer, Validator, dialect_of
from rockscc.backends.kickstart.holes import HOLE_COMMANDS, split_holes
from rockscc.errors import RocksccError
from rockscc.memo import Memo
from rockscc.model.store import load
from rockscc.pipeline.session import Session
from tests.conftest import run_cli

KICKSTART_DIALECTS = list(DIALECTS)


def full_verdict(text: str, dialect: str) -> bool:
    """pykickstart on the whole text, on a parser made for this text alone (nothing remembered)."""
    from pykickstart.errors import KickstartError
    from pykickstart.parser import KickstartParser
    from pykickstart.version import makeVersion

    parser = KickstartParser(
        makeVersion(dialect_of(dialect).pykickstart),
        followIncludes=False,
        errorsAreFatal=True,
        missingIncludeIsFatal=False,
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parser.readKickstartFromString(text, reset=True)
    except (ValueError, KickstartError):
        return False
    except Exception:  # pykickstart failing on its own (IndexError on `--ip=\x1c""`): not accepted
        return False
    return True


@cache
def default_profile(root: str):
    """The profile of compute-0-0 in a cluster made the default way (built-in nodes, evals on)."""
    path = Path(root) / "c"
    assert run_cli("init", str(path), "password=secret").rc == 0
    assert run_cli("-C", str(path), "add", "host", "compute-0-0", "mac=00:50:56:00:00:01").rc == 0
    cluster = load(path)
    return Session(cluster).profile(cluster.hosts["compute-0-0"]).profile


@pytest.fixture(scope="module")
def profile(tmp_path_factory):
    return default_profile(str(tmp_path_factory.mktemp("holes")))


# What host values are made of, hostile characters included: quotes, backslashes, comment and
# section marks, white space shlex and str.split disagree on, line breaks of every kind.
HOSTILE = st.text(
    alphabet=st.sampled_from(
        list("az09-._=,:/") + [" ", "\t", '"', "'", "\\", "#", "%", "\x0b", "\x0c", "\u2028", "\x1c", "\n", "\r", "é"]
    ),
    max_size=12,
)
NAME = st.one_of(st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True), HOSTILE)
IP = st.one_of(st.ip_addresses(v=4).map(str), HOSTILE)
MAC = st.one_of(st.from_regex(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", fullmatch=True), HOSTILE)


@st.composite
def network_line(draw) -> str:
    """A `network` line as a node file might write it with the host's values in it."""
    options = [f"--hostname={draw(NAME)}.{draw(NAME)}"]
    options += draw(
        st.lists(
            st.sampled_from(
                [
                    "--bootproto=dhcp",
                    "--bootproto=static",
                    "--bootproto=bogus",
                    "--onboot=yes",
                    "--onboot=maybe",
                    "--noipv6",
                    "--mtu=9000",
                    "--mtu=lots",
                    "--bridgeopts=stp=yes",
                    "--nodefroute",
                    "--activate",
                    "--bindto=mac",
                    "--vlanid=7",
                    "--interfacename=vlan7",
                    "--unknown-option",
                ]
            ),
            max_size=3,
        )
    )
    if draw(st.booleans()):
        options.append(f"--ip={draw(IP)}")
    if draw(st.booleans()):
        options.append(f"--device={draw(st.one_of(MAC, NAME))}")
    options = draw(st.permutations(options))
    spacing = draw(st.sampled_from([" ", "  ", "\t"]))
    return draw(st.sampled_from(["", "  ", '"'])) + "network" + spacing + spacing.join(options)


@st.composite
def host_main(draw, base: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The profile's main section with its network line replaced by generated ones, and maybe a
    per-host attribute (a time zone) with a hostile value in a line that stays in the skeleton."""
    main = []
    for line, origin in base:
        if line.startswith("network"):
            main += [(text, origin) for text in draw(st.lists(network_line(), min_size=0, max_size=3))]
        elif line.startswith("timezone") and draw(st.booleans()):
            main.append((f"timezone --utc {draw(HOSTILE)}", origin))
        else:
            main.append((line, origin))
    return main


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data(), dialect=st.sampled_from(KICKSTART_DIALECTS))
def test_fast_path_accepts_exactly_what_pykickstart_accepts(profile, data, dialect) -> None:
    main = data.draw(host_main(profile.main))
    kickstart = RENDERER.render(dataclasses.replace(profile, main=main), dialect)
    fast = VALIDATOR.fast_accepts(kickstart, dialect_of(dialect))
    assert fast == full_verdict(kickstart.text, dialect), kickstart.head


# One renderer and validator for every example, as one build has: verdicts remembered from
# earlier examples (the other hosts of a build) are part of what is tested.
RENDERER, VALIDATOR = Renderer(), Validator(Memo())


def test_the_default_configuration_has_a_hole_and_a_shared_skeleton(profile) -> None:
    """The case the fast path is for: the built-in networking node's line is the host's hole,
    and two hosts differing in name share one skeleton."""
    kickstart = Renderer().render(profile, "rhel5")
    skeleton, holes = split_holes(kickstart.head)
    assert len(holes) == 1 and holes[0].startswith("network ") and "compute-0-0" in holes[0]
    other = Renderer().render(
        dataclasses.replace(
            profile, main=[(line.replace("compute-0-0", "compute-9-99"), origin) for line, origin in profile.main]
        ),
        "rhel5",
    )
    assert split_holes(other.head)[0] == skeleton
    assert "compute-0-0" not in skeleton


def test_holes_end_where_pykickstart_leaves_the_main_section() -> None:
    """A `network` line in %packages is a package, and a quoted %packages starts the section."""
    head = 'install\nnetwork --hostname=a\n"%packages"\nnetwork --hostname=b\n'
    skeleton, holes = split_holes(head)
    assert holes == ("network --hostname=a\n",)
    assert skeleton == 'install\n\n"%packages"\nnetwork --hostname=b\n'


@pytest.mark.parametrize("dialect", KICKSTART_DIALECTS)
def test_hole_commands_stay_line_local(dialect) -> None:
    """What the fast path rests on, checked against the installed pykickstart: no command of the
    dialect conflicts with a hole command, a hole command conflicts with none and keeps its
    parses in a list (emptied between hosts), and nothing outside its own module reads it."""
    from pykickstart.version import makeVersion

    handler = makeVersion(dialect_of(dialect).pykickstart)
    for name, command in handler.commands.items():
        if command is not None:
            assert not HOLE_COMMANDS & set(command.conflictingCommands), name
    for hole in HOLE_COMMANDS:
        assert handler.commands[hole].conflictingCommands == []
        assert isinstance(handler.commands[hole].dataList(), list)


def test_no_pykickstart_code_reads_a_hole_command() -> None:
    import pykickstart

    package = Path(pykickstart.__file__).parent
    for hole in HOLE_COMMANDS:
        own = package / "commands" / f"{hole}.py"
        assert set(re.findall(r"handler\.(\w+)", own.read_text())) <= {f"{hole.capitalize()}Data"}, own
        reference = re.compile(rf"""\.{hole}\b|["']{hole}["']""")
        for path in package.rglob("*.py"):
            if path != own and path.parent.name != "handlers":
                assert not reference.search(path.read_text()), path


@pytest.mark.parametrize("dialect", KICKSTART_DIALECTS)
def test_a_host_name_is_a_plain_string_to_pykickstart(dialect) -> None:
    """What line shapes rest on (Validator._line_valid): `network --hostname` takes one argument
    of no type and no choices, and no parse of the network command reads the host name."""
    import inspect

    from pykickstart.version import makeVersion

    command = makeVersion(dialect_of(dialect).pykickstart).commands["network"]
    (action,) = [a for a in command.op._actions if "--hostname" in a.option_strings]
    assert (action.type, action.choices, action.nargs, action.const) == (None, None, None, None)
    for klass in type(command).__mro__:
        if "parse" in vars(klass):
            assert "hostname" not in inspect.getsource(vars(klass)["parse"]), klass


PLAIN_NAME = st.from_regex(r"[a-z0-9][a-z0-9.-]{0,20}", fullmatch=True)
# a plain name but for one character that may end, quote, escape or comment out the value
NEAR_PLAIN = st.builds(
    "{}{}{}".format,
    PLAIN_NAME,
    st.sampled_from(list("\"'\\#%=,:/é-") + ["\x0b", "\x0c", "\u2028", "\x1c", "\x85", "\r"]),
    PLAIN_NAME,
)
VALID_OPTIONS = ["--bootproto=dhcp", "--onboot=yes", "--noipv6", "--mtu=9000", "--activate", "--device=eth0"]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data(), dialect=st.sampled_from(KICKSTART_DIALECTS))
def test_a_line_of_a_known_shape_gets_pykickstart_s_verdict(profile, data, dialect) -> None:
    """A line validated for one host, then the same line with another host's name (plain, or
    hostile): the second verdict, maybe taken from the first's shape, is pykickstart's."""
    options = data.draw(st.lists(st.sampled_from(VALID_OPTIONS), max_size=3, unique=True))
    spacing = data.draw(st.sampled_from([" ", "  ", "\t"]))
    words = data.draw(st.permutations(["--hostname=\0", *options]))
    first, second = (
        "network" + spacing + spacing.join(words).replace("\0", name)
        for name in (data.draw(PLAIN_NAME), data.draw(st.one_of(PLAIN_NAME, NEAR_PLAIN, HOSTILE, NAME)))
    )
    validator, renderer = Validator(Memo()), Renderer()
    texts = []
    for line in (first, second):
        main = [(line if text.startswith("network") else text, origin) for text, origin in profile.main]
        texts.append(renderer.render(dataclasses.replace(profile, main=main), dialect))
    validator.fast_accepts(texts[0], dialect_of(dialect))
    assert validator.fast_accepts(texts[1], dialect_of(dialect)) == full_verdict(texts[1].text, dialect), second


def test_a_bad_hole_is_reported_with_pykickstart_s_message_and_line(profile) -> None:
    main = [
        (line if not line.startswith("network") else "network --bootproto=bogus --hostname=x", origin)
        for line, origin in profile.main
    ]
    bad = dataclasses.replace(profile, main=main)
    kickstart = Renderer().render(bad, "rhel7")
    with pytest.raises(
        RocksccError,
        match=r"host compute-0-0: kickstart rejected by pykickstart RHEL7 at line \d+ "
        r"\(from nodes/networking.xml:8\): .*bogus",
    ):
        Validator(Memo()).validate(kickstart, "rhel7", "compute-0-0", bad)


def test_builds_write_what_pykickstart_accepts_and_refuse_what_it_rejects(cluster_dir) -> None:
    """End to end, through the engine and the memo: hosts differing in name, address, MAC and
    a per-host domain; the build's kickstarts are the rendered texts, byte for byte, for
    exactly the hosts whose whole text pykickstart accepts; a second build after a change
    (verdicts from the memo) agrees too."""

    def cli(*argv: str):
        return run_cli("-C", str(cluster_dir), *argv)

    for i in range(6):
        assert cli("add", "host", f"compute-0-{i}", f"mac=00:50:56:00:01:{i:02x}").rc == 0
    assert cli("set", "host", "attr", "compute-0-1", "Kickstart_PrivateDNSDomain", "odd domain").rc == 0
    assert cli("set", "host", "attr", "compute-0-2", "Kickstart_PrivateDNSDomain", '"unbalanced').rc == 0
    assert cli("set", "host", "attr", "compute-0-3", "Kickstart_PrivateDNSDomain", "a#comment").rc == 0
    for round_ in range(2):
        result = cli("build")
        cluster = load(cluster_dir)
        session = Session(cluster)
        for name, host in cluster.hosts.items():
            if host.membership != "Compute":
                continue
            rendered = session.renderer.render(session.profile(host).profile, "rhel5").text
            written = cluster_dir / "build" / "kickstart" / f"{name}.ks"
            if full_verdict(rendered, "rhel5"):
                assert written.read_text() == rendered, name
            else:
                assert f"host {name}: kickstart rejected by pykickstart" in result.err
                assert not written.exists() or round_
        assert cli("set", "host", "attr", "compute-0-4", "Kickstart_PrivateDNSDomain", "other.org").rc == 0


@pytest.mark.parametrize("dialect", KICKSTART_DIALECTS)
def test_pykickstart_failing_on_its_own_is_a_refusal_not_a_traceback(profile, dialect) -> None:
    """pykickstart raises IndexError (not a KickstartError) on this line, which str.splitlines
    cuts at \\x1c: the fast path refuses it and the full check names the host in one line, as
    for any rejected kickstart (Hypothesis found it)."""
    main = [*profile.main, ('network --hostname=.a --ip=\x1c""', "nodes/networking.xml:8")]
    kickstart = Renderer().render(dataclasses.replace(profile, main=main), dialect)
    assert not Validator(Memo()).fast_accepts(kickstart, dialect_of(dialect))
    with pytest.raises(RocksccError, match=r"host compute-0-0: pykickstart \S+ cannot read the kickstart"):
        Validator(Memo()).validate(kickstart, dialect, "compute-0-0", profile)
