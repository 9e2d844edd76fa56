"""The host facts' memo entry (pipeline/hostfacts.py: a line per host): what is read back is
exactly what was written, or nothing (the facts are then computed from the records)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rockscc.pipeline import hostfacts
from rockscc.pipeline.hostfacts import Facts

SCOPE = "ab" * 16
text = st.text(min_size=0, max_size=12)  # any characters, separators and control characters included


class FakeMemo:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], bytes] = {}

    def get(self, namespace: str, key: str) -> bytes | None:
        return self.entries.get((namespace, key))

    def remember(self, namespace: str, key: str, value: bytes = b"") -> None:
        self.entries[(namespace, key)] = value


def stored(facts: list[Facts]) -> FakeMemo:
    memo = FakeMemo()
    encoded = hostfacts._encode(SCOPE, facts)
    if encoded is not None:
        memo.remember(hostfacts.NAMESPACE, hostfacts.KEY, encoded.encode())
    return memo


facts_strategy = st.builds(
    Facts,
    name=text,
    digest=text,
    ip=st.none() | text,
    mac=st.none() | text,
    hexip=st.none() | text,
    ipxe=st.none() | st.booleans(),
    boots=st.lists(text, max_size=3),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(facts_strategy, max_size=5, unique_by=lambda f: f.name))
def test_what_is_read_back_is_what_was_written_or_nothing(facts):
    loaded = hostfacts._load(stored(facts), SCOPE)
    assert loaded in ({f.name: f for f in facts}, {})
    plain = all(
        value and not any(c in value for c in "\t\n\x1f\x00")
        for f in facts
        for value in [f.name, f.digest, *(v for v in (f.ip, f.mac, f.hexip) if v is not None), *f.boots]
    )
    well_typed = all(f.ip is None or (f.hexip is not None and f.ipxe is not None) for f in facts)
    if plain and well_typed:  # what host_entry makes: kept, and read back as it was
        assert loaded == {f.name: f for f in facts}


def test_the_entry_of_another_scope_or_format_is_not_used():
    facts = [Facts("compute-0-0", "d1", "10.1.255.254", "52:54:00:00:00:00", "0A01FFFE", True, ["vmlinuz"])]
    memo = stored(facts)
    assert hostfacts._load(memo, SCOPE) == {"compute-0-0": facts[0]}
    assert hostfacts._load(memo, "cd" * 16) == {}
    blob = memo.get(hostfacts.NAMESPACE, hostfacts.KEY)
    memo.remember(hostfacts.NAMESPACE, hostfacts.KEY, blob.replace(b"facts-text-1", b"facts-text-0"))
    assert hostfacts._load(memo, SCOPE) == {}


def test_damaged_or_planted_lines_discard_the_entry():
    good = stored([Facts("a", "d", "10.0.0.1", None, "0A000001", False, [])]).get(hostfacts.NAMESPACE, hostfacts.KEY)
    head = good.split(b"\n")[0]
    for line in [
        b"a\td\t10.0.0.1\t\x00\t0A000001\t0",  # a field missing
        b"a\td\t10.0.0.1\t\x00\t0A000001\tyes\t",  # a flag that is not one
        b"a\td\t10.0.0.1\t\x00\t\x00\t1\t",  # an address without its hex form
        b"a\td\t10.0.0.1\t\x00\t0A000001\t\x00\t",  # an address without its iPXE flag
        b"\td\t\x00\t\x00\t\x00\t\x00\t",  # no name
        b"a\t\t\x00\t\x00\t\x00\t\x00\t",  # no digest
        b"\xff\xfe",  # not UTF-8
    ]:
        memo = FakeMemo()
        memo.remember(hostfacts.NAMESPACE, hostfacts.KEY, good + b"\n" + line)
        assert hostfacts._load(memo, SCOPE) == {}, line
    memo = FakeMemo()
    memo.remember(hostfacts.NAMESPACE, hostfacts.KEY, head)  # no host at all: an empty description
    assert hostfacts._load(memo, SCOPE) == {}
