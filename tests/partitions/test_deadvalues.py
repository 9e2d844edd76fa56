"""canonical(): which unread constants are blanked, and every way a program keeps its text."""

from __future__ import annotations

import pytest

from rockscc.partitions.deadvalues import canonical


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            "import rocks_partition\nnodename = 'compute-0-1'\np = rocks_partition.RocksPartition()\n",
            "import rocks_partition\nnodename = ''\np = rocks_partition.RocksPartition()\n",
        ),
        (
            "from os import path\nname = 'é-ü'  # bytes, not characters\ny = 1\n",
            "from os import path\nname = ''  # bytes, not characters\ny = 1\n",
        ),
    ],
)
def test_unread_module_constants_are_blanked(body, expected):
    assert canonical(body) == expected


@pytest.mark.parametrize(
    "why, body",
    [
        ("read by name", "x = 'a'\nprint(x)\n"),
        ("read in an f-string", "x = 'a'\nprint(f'{x}')\n"),
        ("a parameter of that name", "x = 'a'\ndef f(x):\n    return x\n"),
        ("declared global", "x = 'a'\ndef f():\n    global x\n    x = 'b'\n"),
        ("bound twice", "x = 'a'\nx = 'b'\n"),
        ("deleted", "x = 'a'\ndel x\n"),
        ("a function of that name", "x = 'a'\ndef x():\n    pass\n"),
        ("over several lines", "x = '''a\nb'''\n"),
        ("globals()", "x = 'a'\nprint('%(x)s' % globals())\n"),
        ("eval", "x = 'a'\neval('x')\n"),
        ("getattr", "import os\nx = 'a'\ngetattr(os, 'x')\n"),
        ("sys", "import sys\nx = 'a'\n"),
        ("an unlisted import", "import pickle\nx = 'a'\n"),
        ("a relative import", "from . import y\nx = 'a'\n"),
        ("/proc", "x = 'a'\nopen('/proc/self/cmdline').read()\n"),
        ("the sandbox's own directory", "x = 'a'\nopen('/tmp/.rockscc/pre').read()\n"),
        ("Python 2", "print 'hello'\nx = 'a'\n"),
        ("not a string", "x = 5\n"),
    ],
)
def test_programs_that_might_read_their_values_are_kept_as_written(why, body):
    assert canonical(body) == body, why


# --- template matching: a program differing only inside its dead constants is not parsed again ---
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rockscc.partitions import deadvalues  # noqa: E402

SEED = (
    "import rocks_partition\n"
    "nodename = '{name}'\n"
    'membership = "{membership}"  # recorded, never read\n'
    "label = u'{name}'; other = 'kept'\n"
    "p = rocks_partition.RocksPartition()\n"
    "print(other)\n"
)
HOSTILE = st.lists(
    st.sampled_from(["a", "-", ".", " ", "'", '"', "\\", "\n", "\r", "é", "{", "#", "/proc", ".rockscc"]), max_size=8
).map("".join)


def parsed(body: str) -> str:
    """canonical() by parsing alone: no lru_cache, no template."""
    spans = deadvalues.dead_spans(body)
    return deadvalues._blank(body, spans) if spans else body


@settings(max_examples=300, deadline=None)
@given(first=st.from_regex(r"[a-z0-9.-]{0,10}", fullmatch=True), name=HOSTILE, membership=HOSTILE)
def test_a_template_gives_exactly_what_parsing_gives(first, name, membership):
    deadvalues._templates.clear()
    canonical.cache_clear()
    assert canonical(SEED.format(name=first, membership="Compute")) == parsed(
        SEED.format(name=first, membership="Compute")
    )
    assert deadvalues._templates  # the seed's shape was remembered
    body = SEED.replace("{name}", name).replace("{membership}", membership)
    assert canonical(body) == parsed(body)


def test_a_matching_program_is_not_parsed(monkeypatch):
    deadvalues._templates.clear()
    canonical.cache_clear()
    canonical(SEED.format(name="compute-0-0", membership="Compute"))
    monkeypatch.setattr(deadvalues.ast, "parse", lambda *a: pytest.fail("parsed"))
    assert canonical(SEED.format(name="compute-0-1", membership="NAS")) == canonical(
        SEED.format(name="compute-0-0", membership="Compute")
    )


@pytest.mark.parametrize(
    "value",
    ["x' ; import sys; y='", 'a"b', "a\\'", "/proc", "a.rockscc", "a\nb", "é"],
)
def test_values_that_could_leave_or_change_the_literal_are_parsed(value, monkeypatch):
    deadvalues._templates.clear()
    canonical.cache_clear()
    canonical(SEED.format(name="compute-0-0", membership="Compute"))
    body = SEED.replace("{name}", value).replace("{membership}", "Compute")
    calls = []
    real = deadvalues.ast.parse
    monkeypatch.setattr(deadvalues.ast, "parse", lambda *a: calls.append(1) or real(*a))
    assert canonical(body) == parsed(body)
    assert calls or any(p in body for p in deadvalues.SOURCE_PATHS)
