"""Parse and evaluate `cond=` expressions, `arch=`/`os=`/`release=` lists, without Python eval.

Values are typed as Rocks typed attributes: on/yes/true/y -> True, off/no/false/n -> False,
integers and floats -> numbers, anything else a string; a name with no attribute is None.
"""

from __future__ import annotations

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
        return bool(_eval(self.tree, attrs))


TRUE = Cond("", None, frozenset())


@lru_cache(maxsize=4096)
def parse_cond(text: str) -> Cond:
    """A Cond for `text`; syntax errors raise RocksccError naming the column."""
    if not text.strip():
        return TRUE
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
