"""The grammars' shipped parse tables (rockscc/grammar/tables.py): current, equal in effect to
a parser built from the grammar, and never used when stale, damaged or made by another lark."""

from __future__ import annotations

import json

import lark
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rockscc.grammar import GRAMMARS, HERE, lalr_parser, tables


def built(name: str) -> lark.Lark:
    return lark.Lark((HERE / f"{name}.lark").read_text(), parser="lalr", **GRAMMARS[name])


def shipped(name: str) -> lark.Lark | None:
    return tables.load(name, (HERE / f"{name}.lark").read_text(), GRAMMARS[name])


@pytest.mark.parametrize("name", sorted(GRAMMARS))
def test_shipped_tables_are_current(name):
    """Made from this grammar text, these options and this lark (lark numbers the states in set
    order, so a file made again differs in its bytes, not in what it parses: see below)."""
    found = json.loads(tables.path_of(name).read_text())
    text = (HERE / f"{name}.lark").read_text()
    stale = f"{tables.path_of(name).name} is stale: run `python -m rockscc.grammar.tables` and commit it"
    assert (found["key"], found["lark"]) == (tables.key(text, GRAMMARS[name]), lark.__version__), stale
    assert shipped(name) is not None


def outcome(parser: lark.Lark, text: str):
    """What a parser makes of a text: its tree with every node's position, or its error and where."""
    try:
        tree = parser.parse(text)
    except lark.exceptions.UnexpectedInput as exc:
        return ("error", type(exc).__name__, exc.line, exc.column)
    except lark.exceptions.LarkError as exc:
        return ("error", type(exc).__name__, str(exc))
    if not isinstance(tree, lark.Tree):  # a bare token (cond: `x11`)
        return ("token", tree.type, str(tree))
    nodes = [
        (t.data, t.children, getattr(t.meta, "line", None), getattr(t.meta, "column", None))
        for t in tree.iter_subtrees()
    ]
    return ("tree", tree, nodes)


SAMPLES = {
    "cond": st.lists(
        st.sampled_from(
            [
                "a",
                "x.y",
                "b-c",
                "and",
                "or",
                "not",
                "in",
                "is",
                "None",
                "True",
                "False",
                "(",
                ")",
                "==",
                "!=",
                "<",
                ">=",
                "'s'",
                '"t"',
                "1",
                "-2.5",
                " ",
                "\t",
                "@",
            ]
        ),
        max_size=12,
    ).map(" ".join),
    "partition": st.lists(
        st.sampled_from(
            [
                "part",
                "/",
                "raid.01",
                "--size=10",
                "--grow",
                "--ondisk",
                "=",
                "sda",
                '"a b"',
                "'c'",
                "#x",
                "\n",
                "\r\n",
                " ",
                "volgroup",
                "Bad",
                "--",
            ]
        ),
        max_size=16,
    ).map(" ".join),
    "xlcfg": st.lists(
        st.sampled_from(
            ["name", "=", '"vm"', "'q'", "0x1f", "-3", "[", "]", ",", ";", "\n", "#c", "\\\n", " ", "disk", '"a\\"b"']
        ),
        max_size=16,
    ).map("".join),
}


@pytest.mark.parametrize("name", sorted(GRAMMARS))
def test_tables_parse_as_the_grammar_does(name):
    """Differential: on generated texts, valid and not, the parser from the shipped tables gives
    the same trees (positions included) and the same errors at the same places."""
    fresh, loaded = built(name), shipped(name)

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(SAMPLES[name])
    def check(text):
        assert outcome(loaded, text) == outcome(fresh, text)

    check()


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """Tables files read from tmp_path instead of the package (each test writes what it plants)."""
    monkeypatch.setattr(tables, "path_of", lambda name: tmp_path / f"{name}.tables.json")
    return lambda name: tmp_path / f"{name}.tables.json"


def current(name: str) -> dict:
    return json.loads(tables.dump(name))


def test_tables_of_an_edited_grammar_are_not_used(planted):
    planted("cond").write_text(tables.dump("cond"))
    text = (HERE / "cond.lark").read_text()
    assert tables.load("cond", text, GRAMMARS["cond"]) is not None
    edited = text.replace('"or"', '"OR"')
    assert tables.load("cond", edited, GRAMMARS["cond"]) is None
    assert tables.load("cond", text, {**GRAMMARS["cond"], "maybe_placeholders": True}) is None


def test_tables_of_another_lark_or_format_are_not_used(planted):
    for field, value in (("lark", "0.0.1"), ("format", tables.FORMAT + 1)):
        found = current("cond")
        found[field] = value
        planted("cond").write_text(json.dumps(found))
        assert shipped("cond") is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # truncated
        lambda text: "",
        lambda text: "\x00" * 100,
        lambda text: text.replace('"t":', '"T":', 1),  # a changed table (the digest disagrees)
        lambda text: text.replace("[0,", "[1,", 1),
        lambda text: "[]",
        lambda text: json.dumps({**json.loads(text), "tables": None}),
    ],
)
def test_damaged_tables_are_not_used_and_the_parser_is_built(planted, damage):
    planted("cond").write_text(damage(tables.dump("cond")))
    assert shipped("cond") is None
    parser = lalr_parser("cond")  # built from the grammar instead
    assert outcome(parser, "a == 'b' or not c") == outcome(built("cond"), "a == 'b' or not c")


def test_consistent_nonsense_is_refused_without_a_traceback(planted):
    """A file whose digest matches its tables but whose tables are not lark's: no parser from it."""
    found = current("cond")
    found["tables"] = {"data": {"d": [["rules", [{"t": [1, 2]}]]]}, "memo": {"d": []}}
    found["digest"] = tables._digest(found["tables"])
    planted("cond").write_text(json.dumps(found))
    assert shipped("cond") is None


def test_a_missing_file_builds_the_parser(planted):
    assert not planted("xlcfg").exists()
    assert outcome(lalr_parser("xlcfg"), 'a = "b"\n') == outcome(built("xlcfg"), 'a = "b"\n')


def test_encoding_keeps_what_json_alone_would_lose():
    value = {1: ("a", [2, {"k": (None, True)}]), "d": {"t": []}}
    assert tables._decode(json.loads(json.dumps(tables._encode(value)))) == value
    with pytest.raises(TypeError):
        tables._encode({1.5})
