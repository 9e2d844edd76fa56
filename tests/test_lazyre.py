"""rockscc.lazyre: the model's patterns are compiled on first use, not at import (issue 17: a
no-op build's start). A lazy pattern must answer exactly as the compiled one, from its first
use on, and importing the modules must compile none of them."""

from __future__ import annotations

import re
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from rockscc.lazyre import LazyPattern
from rockscc.model import hardware, names, services, store

MODULES = (names, services, hardware, store)
PATTERNS = [
    (module.__name__, attr, value)
    for module in MODULES
    for attr, value in vars(module).items()
    if isinstance(value, LazyPattern)
]
TEXT = st.one_of(
    st.text(max_size=30),
    st.text(alphabet="aZ09_.-:/+@~ \t\n[]=\"'kKmMgGiIbB", max_size=30),
    st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){3}"),
    st.from_regex(r"([0-9a-f]{2}:){5}[0-9a-f]{2}"),
    st.from_regex(r"\s?[0-9]{1,4}(\.[0-9])? ?[kmgtpKMGTP]?[iI]?[bB]?\s?", fullmatch=True),  # sizes, any case
)


def test_the_model_modules_hold_lazy_patterns():
    assert len(PATTERNS) >= 10  # names' seven, services' two, hardware's one, store's two


@settings(max_examples=150, deadline=None)
@given(text=TEXT, method=st.sampled_from(["match", "fullmatch", "search"]))
def test_a_lazy_pattern_answers_as_the_compiled_one(text, method):
    for _, _, lazy in PATTERNS:
        _same_answer(lazy, text, method)


def _same_answer(lazy: LazyPattern, text: str, method: str) -> None:
    fresh = LazyPattern(lazy.pattern, lazy.flags)  # its first use, and the module's (maybe a later one)
    compiled = re.compile(lazy.pattern, lazy.flags)
    want = getattr(compiled, method)(text)
    for pattern in (fresh, lazy, fresh):
        got = getattr(pattern, method)(text)
        assert (got and (got.span(), got.groups())) == (want and (want.span(), want.groups()))


def test_importing_the_model_compiles_no_pattern():
    code = (
        "from rockscc.lazyre import LazyPattern\n"
        "import rockscc.cli.context, rockscc.model.hardware, rockscc.model.services, rockscc.model.store\n"
        "import rockscc.model.names as n, sys\n"
        "mods = [m for k, m in sys.modules.items() if k.startswith('rockscc')]\n"
        "lazy = [v for m in mods for v in vars(m).values() if isinstance(v, LazyPattern)]\n"
        "print(len(lazy), sum('match' in vars(v) for v in lazy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) >= 10 and out[1] == "0"
