"""Parse and evaluate `cond=` expressions, `arch=`/`os=`/`release=` lists, without Python eval.

Values are typed as Rocks typed attributes: on/yes/true/y -> True, off/no/false/n -> False,
integers and floats -> numbers, anything else a string; a name with no attribute is None.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from rockscc.errors import RocksccError
from rockscc.grammar import lalr_parser

if TYPE_CHECKING:  # lark is imported on the first cond= (~25 ms a process that has none)
    from lark import Lark, Token


@lru_cache(maxsize=1)
def _parser() -> Lark:
    """Built on the first cond= (many node trees have none)."""
    return lalr_parser("cond")


_TRUE, _FALSE = {"on", "yes", "true", "y"}, {"off", "no", "false", "n"}


def typed(value: str | None) -> Any:
    """An attribute value as Rocks' cond evaluation saw it."""
    if value is None:
        return None
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


@dataclass(frozen=True)
class Cond:
    """A parsed condition: `evaluate(attrs)`; `names` are the attributes it reads."""

    text: str
    tree: Any = field(compare=False, repr=False)
    names: frozenset[str] = frozenset()

    def evaluate(self, attrs: Mapping[str, str]) -> bool:
        try:
            return bool(_eval(self.tree, attrs))
        except RecursionError:  # parsed near the stack's limit, evaluated deeper in it
            raise RocksccError(_too_deep(self.text)) from None


TRUE = Cond("", None, frozenset())


@lru_cache(maxsize=4096)
def parse_cond(text: str) -> Cond:
    """A Cond for `text`; syntax errors raise RocksccError naming the column."""
    if not text.strip():
        return TRUE
    try:
        return _parse(text)
    except RecursionError:  # both parsers recurse per nesting level: a cond nested hundreds deep
        raise RocksccError(_too_deep(text)) from None


def _too_deep(text: str) -> str:
    shown = text if len(text) <= 60 else text[:60] + "…"
    return f'cond "{shown}": nested too deeply'


def _parse(text: str) -> Cond:
    plain = _parse_plain(text)  # most conds: without importing lark (~25 ms a process)
    if plain is not None:
        return plain
    from lark import Token, Tree
    from lark.exceptions import LarkError, UnexpectedInput

    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise RocksccError(f'cond "{text}": syntax error at column {exc.column}') from None
    except LarkError as exc:
        raise RocksccError(f'cond "{text}": {exc}') from None
    names = frozenset(
        str(t)
        for t in (
            tree.scan_values(lambda v: isinstance(v, Token) and v.type == "NAME")
            if isinstance(tree, Tree)
            else [tree]
            if tree.type == "NAME"
            else []
        )
    )
    return Cond(text, tree, names)


# --- the same parse without lark -----------------------------------------------------------------
# cond.lark is small: a recursive descent over it gives lark's tree (the same `data` and children,
# tokens of the same type and text) for every text it accepts. Its lexer is lark's basic one (the
# grammar's terminals in lark's order, first match wins); lark's contextual lexer, which only
# tries the terminals the parser accepts at that point, picks the same token wherever the basic
# lexer's token is one the parser accepts, and wherever it is not, this parser gives up. Anything
# it gives up on (a token it does not expect, a character no terminal matches) goes to lark,
# whose verdict and error message stand. tests/xmlgraph/test_cond_plain.py compares the two on
# generated texts.
_KEYWORDS = ("and", "or", "not", "is", "in", "None", "True", "False")
_LEXER = re.compile(
    "|".join(
        [
            r"(?P<WS>[ \t\f\r\n]+)",
            r"(?P<NAME>(?!(?:and|or|not|is|in|None|True|False)\b)[A-Za-z_][A-Za-z0-9_.\-]*)",
            r"""(?P<STRING>'[^']*'|"[^"]*")""",
            r"(?P<NUMBER>-?\d+(?:\.\d+)?)",
            r"(?P<COMPARE>==|!=|<=|>=|<|>)",
            r"(?P<PUNCT>[()])",
            *(rf"(?P<KW_{k}>{k})" for k in _KEYWORDS),
        ]
    )
)
_LITERALS = {"None": "none", "True": "true", "False": "false"}


class _Token(str):
    """A terminal as lark's Token shows it to _eval: the text, and its `type`."""

    type: str

    def __new__(cls, type_: str, value: str) -> _Token:
        token = super().__new__(cls, value)
        token.type = type_
        return token


class _Tree:
    """A rule's node as lark's Tree shows it to _eval: `data`, `children`."""

    __slots__ = ("data", "children")

    def __init__(self, data: str, children: list) -> None:
        self.data, self.children = data, children


class _GiveUp(Exception):
    """Not a text this parser takes: lark decides."""


def _parse_plain(text: str) -> Cond | None:
    """`text` parsed as lark parses it, or None where lark must decide."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        found = _LEXER.match(text, pos)
        if found is None:
            return None
        kind = found.lastgroup
        if kind != "WS":
            value = found.group()
            tokens.append(("KW" if kind.startswith("KW_") or kind == "PUNCT" else kind, value))
        pos = found.end()
    parser = _Descent(tokens)
    try:
        tree = parser.or_expr()
        if parser.peek() is not None:
            return None
    except _GiveUp:
        return None
    return Cond(text, tree, frozenset(parser.names))


class _Descent:
    """cond.lark's rules, one method each (the grammar's ?-rules inline as lark does: only an
    alternative without an alias is replaced by its single child)."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.at, self.names = tokens, 0, set()

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def keyword(self, word: str) -> bool:
        """Take the keyword or parenthesis `word` if it comes next."""
        if self.peek() == ("KW", word):
            self.at += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.keyword(word):
            raise _GiveUp

    def or_expr(self) -> _Tree:
        items = [self.and_expr()]
        while self.keyword("or"):
            items.append(self.and_expr())
        return _Tree("or_", items)

    def and_expr(self) -> _Tree:
        items = [self.not_expr()]
        while self.keyword("and"):
            items.append(self.not_expr())
        return _Tree("and_", items)

    def not_expr(self) -> Any:
        if self.keyword("not"):
            return _Tree("not_", [self.not_expr()])
        return self.comparison()

    def comparison(self) -> Any:
        left = self.operand()
        nxt = self.peek()
        if nxt is not None and nxt[0] == "COMPARE":
            self.at += 1
            return _Tree("compare", [left, _Token("COMPARE", nxt[1]), self.operand()])
        if self.keyword("is"):
            if self.keyword("not"):
                self.expect("None")
                return _Tree("is_not_none", [left])
            self.expect("None")
            return _Tree("is_none", [left])
        if self.keyword("not"):
            self.expect("in")
            return _Tree("not_in", [left, self.operand()])
        if self.keyword("in"):
            return _Tree("in_", [left, self.operand()])
        return left

    def operand(self) -> Any:
        nxt = self.peek()
        if nxt is None:
            raise _GiveUp
        kind, value = nxt
        if kind in ("NAME", "STRING", "NUMBER"):
            self.at += 1
            if kind == "NAME":
                self.names.add(value)
            return _Tree(kind.lower(), [_Token(kind, value)])
        if kind == "KW" and value in _LITERALS:
            self.at += 1
            return _Tree(_LITERALS[value], [])
        if self.keyword("("):
            inner = self.or_expr()
            self.expect(")")
            return inner
        raise _GiveUp


def _eval(node: Any, attrs: Mapping[str, str]) -> Any:
    if node is None:
        return True
    if isinstance(node, str):  # a lark Token (a str): a bare name at the top, `cond="x11"`
        return typed(attrs.get(str(node))) if node.type == "NAME" else _literal(node)
    kind, children = node.data, node.children
    if kind == "or_":
        return any(_eval(c, attrs) for c in children)
    if kind == "and_":
        return all(_eval(c, attrs) for c in children)
    if kind == "not_":
        return not _eval(children[0], attrs)
    if kind == "name":
        return typed(attrs.get(str(children[0])))
    if kind in ("string", "number"):
        return _literal(children[0])
    if kind in ("none", "true", "false"):
        return {"none": None, "true": True, "false": False}[kind]
    if kind == "is_none":
        return _eval(children[0], attrs) is None
    if kind == "is_not_none":
        return _eval(children[0], attrs) is not None
    if kind in ("in_", "not_in"):
        left, right = _eval(children[0], attrs), _eval(children[1], attrs)
        try:
            found = left in right
        except TypeError:
            found = False
        return found if kind == "in_" else not found
    if kind == "compare":
        return _compare(_eval(children[0], attrs), str(children[1]), _eval(children[2], attrs))
    raise RocksccError(f"cond: unexpected expression {kind}")


def _literal(token: Token) -> Any:
    if token.type == "STRING":
        return str(token)[1:-1]
    text = str(token)
    return float(text) if "." in text else int(text)


def _compare(left: Any, op: str, right: Any) -> bool:
    try:
        return (
            {"==": left == right, "!=": left != right}[op]
            if op in ("==", "!=")
            else {
                "<": lambda: left < right,
                "<=": lambda: left <= right,
                ">": lambda: left > right,
                ">=": lambda: left >= right,
            }[op]()
        )
    except TypeError:  # None or a string against a number: false, as in Rocks' Python 2 it was arbitrary
        return False


def comma_list(text: str | None) -> tuple[str, ...]:
    """`"i386, x86_64"` -> ("i386", "x86_64")."""
    return tuple(p.strip() for p in (text or "").split(",") if p.strip())


@dataclass(frozen=True)
class Filter:
    """The arch/os/release/cond tests on one element or edge (absent parts always pass)."""

    arch: tuple[str, ...] = ()
    os: tuple[str, ...] = ()
    release: tuple[str, ...] = ()
    cond: Cond = TRUE

    @classmethod
    def from_attrib(cls, attrib: Mapping[str, str], where: str = "") -> Filter:
        """`where` (file:line) prefixes a cond syntax error."""
        try:
            cond = parse_cond(attrib.get("cond", ""))
        except RocksccError as exc:
            raise RocksccError(f"{where}: {exc}" if where else str(exc)) from None
        return cls(
            comma_list(attrib.get("arch")), comma_list(attrib.get("os")), comma_list(attrib.get("release")), cond
        )

    def and_(self, other: Filter) -> Filter:
        """A child overrides arch/os/release; conds are ANDed (Rocks 5.2+ edge semantics)."""
        cond = (
            other.cond
            if self.cond is TRUE
            else self.cond
            if other.cond is TRUE
            else parse_cond(f"({self.cond.text}) and ({other.cond.text})")
        )
        return Filter(other.arch or self.arch, other.os or self.os, other.release or self.release, cond)

    @cached_property  # read for every item of every host: computed once per filter
    def names(self) -> frozenset[str]:
        extra = {k for k, v in (("arch", self.arch), ("os", self.os), ("release", self.release)) if v}
        return self.cond.names | extra

    def passes(self, attrs: Mapping[str, str]) -> bool:
        for key, allowed in (("arch", self.arch), ("os", self.os), ("release", self.release)):
            if allowed and attrs.get(key) not in allowed:
                return False
        return self.cond is TRUE or self.cond.evaluate(attrs)

    def __bool__(self) -> bool:
        return bool(self.arch or self.os or self.release or self.cond is not TRUE)
