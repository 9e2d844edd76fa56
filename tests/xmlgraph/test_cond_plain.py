"""cond= texts parsed without lark (grammar/cond.py `_parse_plain`): every text it accepts gets
lark's tree (the same rules, tokens of the same type and text) and the same attribute names; what
it does not accept goes to lark, whose verdict and message stand. Generated texts mix the
grammar's words with the near misses a hand-written lexer gets wrong (keywords glued to names,
`a orx`, which lark's contextual lexer reads as `a or x`; `in-x`; `None.x`; signs; no spaces)."""

from __future__ import annotations

import lark
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.errors import RocksccError
from rockscc.grammar import cond
from rockscc.grammar.cond import _parse_plain, _parser, parse_cond


def shape(node):
    """A tree as data: (rule, children) for a node, (type, text) for a token."""
    if isinstance(node, str):
        return (node.type, str(node))
    return (node.data, [shape(child) for child in node.children])


def lark_outcome(text: str):
    try:
        tree = _parser().parse(text)
    except lark.exceptions.LarkError as exc:
        return ("error", type(exc).__name__)
    names = {str(t) for t in tree.scan_values(lambda v: isinstance(v, lark.Token) and v.type == "NAME")}
    return shape(tree), names


def agrees(text: str) -> bool:
    """True when the plain parser took the text (and then it must agree with lark)."""
    plain = _parse_plain(text)
    if plain is None:
        return False
    assert lark_outcome(text) == (shape(plain.tree), set(plain.names)), text
    return True


# what node and graph files hold (the built-in tree, the Rocks corpus, the docs)
USUAL = [
    "xen",
    "kickstart_dialect != 'debian12'",
    "not xen",
    "x11 and not xen",
    'Kickstart_Dialect == "rhel5" or os == "linux"',
    "rocks_version >= 5.0",
    "rack in '0 1 2'",
    "name not in 'a b'",
    "foo is None",
    "foo is not None",
    "(a or b) and (c or not d)",
    "count < -3",
    "flag == True and other != False and third == None",
]


@pytest.mark.parametrize("text", USUAL)
def test_usual_conds_need_no_lark(text):
    assert agrees(text)


@pytest.mark.parametrize(
    "text",
    [
        "a orx",  # lark: a or x (its lexer tries only what may come next)
        "a andnot b",
        "a==b==c",
        "1-2",
        "x in",
        "(a",
        "a)",
        "a $ b",
        "a is not",
        "not",
        "x == 1.5.3",
        "in-x",
        "None.x",
    ],
)
def test_near_misses_go_to_lark(text):
    """Texts lark reads differently from a plain lexer, or refuses: the plain parser gives up."""
    assert _parse_plain(text) is None


WORDS = st.sampled_from(
    [
        "a",
        "x11",
        "xen.vm",
        "a-b",
        "_x",
        "orx",
        "andy",
        "notx",
        "isa",
        "index",
        "in-x",
        "Nonesuch",
        "None.x",
        "True_",
        "or",
        "and",
        "not",
        "is",
        "in",
        "None",
        "True",
        "False",
        "'s t'",
        '"q"',
        "''",
        "1",
        "-1",
        "2.5",
        "-0.25",
        "1.",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "=",
        "!",
        "(",
        ")",
        "$",
        "'",
    ]
)
GAPS = st.sampled_from(["", " ", " ", "  ", "\t", "\n"])


@st.composite
def texts(draw):
    parts = draw(st.lists(st.tuples(WORDS, GAPS), min_size=1, max_size=9))
    return draw(GAPS) + "".join(word + gap for word, gap in parts)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts())
def test_plain_parser_agrees_with_lark(text):
    agrees(text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab nortie(=)'\"1-.N", max_size=14))
def test_plain_parser_agrees_with_lark_on_any_text(text):
    agrees(text)


def test_evaluation_and_errors_are_lark_s():
    """A plain-parsed cond evaluates; a refused one raises lark's message with its column."""
    parse_cond.cache_clear()
    found = parse_cond("kickstart_dialect != 'debian12' and xen")
    assert isinstance(found.tree, cond._Tree)
    assert found.evaluate({"kickstart_dialect": "rhel5", "xen": "yes"})
    assert not found.evaluate({"kickstart_dialect": "debian12", "xen": "yes"})
    assert found.names == {"kickstart_dialect", "xen"}
    with pytest.raises(RocksccError, match=r'cond "a ==": syntax error at column'):
        parse_cond("a ==")


def test_every_cond_of_the_built_in_trees_needs_no_lark():
    """The conds rockscc ships (nodes/, graphs/, rolls/; XML's own entities decoded): each parsed
    without lark, as lark parses it — a build of the built-in tree imports no lark."""
    import re
    from pathlib import Path
    from xml.sax.saxutils import unescape

    top = Path(__file__).resolve().parents[2]
    found = set()
    for folder in ("nodes", "graphs", "rolls"):
        for path in (top / folder).rglob("*.xml"):
            for _quote, text in re.findall(r"""\bcond=(["'])(.*?)\1""", path.read_text()):
                found.add(unescape(text, {"&quot;": '"', "&apos;": "'"}))
    assert found  # the built-in tree has conds (an edge's, a node file's)
    for text in found:
        assert agrees(text) or not text.strip(), text
