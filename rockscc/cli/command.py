"""How a command declares itself, and how its command line is parsed against that declaration."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar

from rockscc.errors import RocksccError

if TYPE_CHECKING:
    from rockscc.cli.context import Context

TRUE_WORDS = {"on", "yes", "y", "true", "1"}
FALSE_WORDS = {"off", "no", "n", "false", "0"}
OUTPUT_PARAMS = ("output-header", "output-col", "output-format")


def str2bool(value: str, name: str = "value") -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise RocksccError(f'{name}: "{value}" is not a boolean (use on/off, yes/no, true/false, 1/0)')


@dataclass(frozen=True)
class Arg:
    """A positional argument. `kind="host"` arguments are resolved to Host records."""

    name: str
    kind: str = "str"  # str | host | int
    optional: bool = False
    repeat: bool = False
    help: str = ""

    def usage(self) -> str:
        text = f"{{{self.name}}}" + (" ..." if self.repeat else "")
        return f"[{text}]" if self.optional else text


@dataclass(frozen=True)
class Param:
    """A `key=value` parameter."""

    name: str
    kind: str = "str"  # str | bool | int
    default: Any = None
    required: bool = False
    help: str = ""
    choices: tuple[str, ...] = ()
    short: str = ""  # a one-letter option spelling, e.g. "j" for `-j 4`

    def usage(self) -> str:
        kind = "|".join(self.choices) if self.choices else {"bool": "bool", "int": "int"}.get(self.kind, "string")
        text = f"{self.name}={kind}"
        return text if self.required else f"[{text}]"

    def convert(self, value: str) -> Any:
        if self.kind == "bool":
            return str2bool(value, self.name)
        if self.kind == "int":
            try:
                return int(value)
            except ValueError:
                raise RocksccError(f'{self.name}: "{value}" is not an integer') from None
        if self.choices and value not in self.choices:
            raise RocksccError(f'{self.name}: "{value}" is not one of {", ".join(self.choices)}')
        return value


class Command:
    """Base class: subclasses set `name`, `args`, `params` and implement `run(ctx, opts)`."""

    name: ClassVar[str] = ""
    args: ClassVar[list[Arg]] = []
    params: ClassVar[list[Param]] = []
    examples: ClassVar[list[str]] = []
    mutates: ClassVar[bool] = False  # run inside a locked, validated, atomically saved transaction
    extra_params: ClassVar[bool] = False  # unknown key=value pairs go to opts.extra (attribute values)

    def run(self, ctx: Context, opts: SimpleNamespace) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # --- declaration helpers -------------------------------------------------------------------
    @classmethod
    def summary(cls) -> str:
        doc = inspect.getdoc(cls) or ""
        return doc.splitlines()[0] if doc else ""

    @classmethod
    def usage(cls) -> str:
        parts = ["rockscc", cls.name] + [a.usage() for a in cls.args] + [p.usage() for p in cls.params]
        return " ".join(parts)

    @classmethod
    def help_text(cls) -> str:
        doc = inspect.getdoc(cls) or ""
        lines = [cls.usage(), ""]
        if doc:
            lines += [doc, ""]
        if cls.args:
            lines.append("Arguments:")
            lines += [f"  {a.usage():<28} {a.help}".rstrip() for a in cls.args]
            lines.append("")
        if cls.params:
            lines.append("Parameters:")
            for p in cls.params:
                default = f" (default: {p.default})" if p.default not in (None, "") else ""
                lines.append(f"  {p.usage():<28} {p.help}{default}".rstrip())
            lines.append("")
        if cls.examples:
            lines.append("Examples:")
            lines += [f"  $ {e}" for e in cls.examples]
            lines.append("")
        return "\n".join(lines)

    # --- parsing -------------------------------------------------------------------------------
    @classmethod
    def parse(cls, tokens: list[str]) -> tuple[list[str], dict[str, str]]:
        """Split tokens into positional words and `key=value` parameters (later duplicates win)."""
        positional, params = [], {}
        shorts = {f"-{p.short}": p.name for p in cls.params if p.short}
        tokens = list(tokens)
        for token in tokens:
            _one_line(token)
        while tokens:
            token = tokens.pop(0)
            if token[:2] in shorts:  # -j4 or -j 4
                value = token[2:] or (tokens.pop(0) if tokens else "")
                params[shorts[token[:2]]] = value
            elif token.startswith("--") and len(token) > 2:  # --dry-run, --out=DIR, --eval=no
                key, _, value = token[2:].partition("=")
                takes_value = any(p.name == key and p.kind != "bool" for p in cls.params)
                if "=" not in token and takes_value and tokens:
                    value = tokens.pop(0)  # --out DIR
                elif "=" not in token:
                    value = "yes"
                params[key] = value
            elif "=" in token and not token.startswith("="):
                key, value = token.split("=", 1)
                params[key.strip().lower() if key.strip().lower() in OUTPUT_PARAMS else key.strip()] = value
            else:
                positional.append(token)
        return positional, params

    @classmethod
    def bind(cls, tokens: list[str]) -> tuple[SimpleNamespace, dict[str, str]]:
        """Match tokens to the declaration; returns options and the output-* parameters."""
        positional, raw = cls.parse(tokens)
        output = {k: raw.pop(k) for k in list(raw) if k in OUTPUT_PARAMS}
        arg_names = {a.name for a in cls.args}
        known = {p.name: p for p in cls.params}
        extra = {k: raw.pop(k) for k in list(raw) if k not in known and k not in arg_names} if cls.extra_params else {}
        for key in raw:
            if key not in known and key not in arg_names:
                names = ", ".join(sorted(set(known) | arg_names)) or "none"
                raise RocksccError(f'unknown parameter "{key}" for "{cls.name}" (known: {names})')
        opts = SimpleNamespace(extra=extra)
        for name, value in _fill_args(cls, positional, raw).items():
            setattr(opts, _attr(name), value)
        for p in cls.params:
            if p.name in raw:
                setattr(opts, _attr(p.name), p.convert(raw[p.name]))
            elif p.required:
                raise RocksccError(f'parameter "{p.name}" is required\nusage: {cls.usage()}')
            else:
                setattr(opts, _attr(p.name), p.default)
        return opts, output


def _one_line(token: str) -> None:
    """Every word of a command line is one line of printable text, as every value it may set."""
    if not token.isprintable():
        from rockscc.model.codec import unprintable

        key, sep, value = token.partition("=")
        if not sep or not key.isprintable():  # a word, or a key holding the character: name the whole token
            key, value = "", token
        where = f"{key}=…" if key else '"' + token[:40].encode("unicode_escape").decode() + '"'
        raise RocksccError(f"{where}: {unprintable(value)} is not allowed (values are one line of printable text)")


def _attr(name: str) -> str:
    return name.replace("-", "_")


def _fill_args(cls: type[Command], positional: list[str], params: dict[str, str]) -> dict[str, Any]:
    """Rocks' rule: args before a repeated arg fill from the front, args after it from the back;
    a parameter of the same name may stand in for a positional argument."""
    args = list(cls.args)
    values: dict[str, Any] = {}
    words = list(positional)
    split = next((i for i, a in enumerate(args) if a.repeat), len(args))
    for arg in args[:split]:
        if arg.name in params:
            values[arg.name] = params.pop(arg.name)
        elif words:
            values[arg.name] = words.pop(0)
    for arg in reversed(args[split + 1 :]):
        if arg.name in params:
            values[arg.name] = params.pop(arg.name)
        elif words and (split < len(args) and len(words) > (0 if args[split].optional else 1)):
            values[arg.name] = words.pop()
        elif words and split == len(args):
            values[arg.name] = words.pop()
    if split < len(args):
        rep = args[split]
        extra = params.pop(rep.name, None)
        values[rep.name] = words + ([extra] if extra is not None else [])
        words = []
    if words:
        raise RocksccError(f'unexpected argument "{words[0]}"\nusage: {cls.usage()}')
    for arg in args:
        if arg.repeat:
            if not values[arg.name] and not arg.optional:
                raise RocksccError(f"missing {arg.name} argument\nusage: {cls.usage()}")
        elif arg.name not in values:
            if not arg.optional:
                raise RocksccError(f"missing {arg.name} argument\nusage: {cls.usage()}")
            values[arg.name] = None
        elif arg.kind == "int":
            try:
                values[arg.name] = int(values[arg.name])
            except ValueError:
                raise RocksccError(f'{arg.name}: "{values[arg.name]}" is not an integer') from None
    return values
