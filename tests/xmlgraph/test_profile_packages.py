"""Profile.enable/disable keep sets beside the package lists (profile.py): the lists must be what
the plain list rules give — an enable beats a disable before or after it, first use fixes the
order — whatever the sequence, including names re-enabled after a disable and profiles made with
lists already filled."""

from hypothesis import given, settings
from hypothesis import strategies as st

from rockscc.xmlgraph.profile import Profile

NAMES = st.sampled_from(["a", "b", "c", "@base", "d-devel", "e"])
OPS = st.lists(st.tuples(st.sampled_from(["enable", "disable"]), NAMES), max_size=40)


def reference(packages: list[str], disabled: list[str], ops) -> tuple[list[str], list[str]]:
    """The rules as lists alone (the code before the sets)."""
    packages, disabled = list(packages), list(disabled)
    for op, name in ops:
        if op == "enable":
            if name in disabled:
                disabled.remove(name)
            if name not in packages:
                packages.append(name)
        elif name not in packages and name not in disabled:
            disabled.append(name)
    return packages, disabled


@settings(max_examples=300, deadline=None)
@given(OPS, st.lists(NAMES, unique=True, max_size=3), st.lists(NAMES, unique=True, max_size=3))
def test_enable_disable_match_the_list_rules(ops, packages, disabled):
    disabled = [n for n in disabled if n not in packages]
    profile = Profile("h", packages=list(packages), disabled=list(disabled))
    for op, name in ops:
        profile.enable(name) if op == "enable" else profile.disable(name)
    assert (profile.packages, profile.disabled) == reference(packages, disabled, ops)


def test_enable_after_disable_moves_the_name_and_a_later_disable_is_ignored():
    profile = Profile("h")
    profile.disable("x")
    profile.enable("y")
    profile.enable("x")
    profile.disable("x")
    profile.disable("y")
    assert profile.packages == ["y", "x"]
    assert profile.disabled == []
    profile.disable("z")
    profile.disable("z")
    assert profile.disabled == ["z"]


def test_profiles_built_with_lists_know_their_names():
    profile = Profile("h", packages=["a"], disabled=["b"])
    profile.disable("a")  # enabled before: stays enabled
    profile.enable("a")
    profile.enable("b")  # was disabled: moves to the packages
    assert profile.packages == ["a", "b"]
    assert profile.disabled == []
