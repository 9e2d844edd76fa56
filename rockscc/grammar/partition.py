"""Kickstart partitioning directives (`/tmp/partition-info`, `/tmp/user_partition_info`) to a
typed list, with line and column in every error."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from rockscc.errors import RocksccError
from rockscc.grammar import lalr_parser

# command -> (options taking a value, flag options); None: accept any option (bootloader)
_VALUED_PART = {
    "size",
    "maxsize",
    "ondisk",
    "ondrive",
    "fstype",
    "onpart",
    "usepart",
    "bytes-per-inode",
    "fsoptions",
    "label",
    "start",
    "end",
    "passphrase",
    "fsprofile",
    "mkfsoptions",
    "type",
}
OPTIONS: dict[str, tuple[set[str], set[str]] | None] = {
    "clearpart": ({"drives", "list", "disklabel"}, {"all", "linux", "none", "initlabel"}),
    "zerombr": (set(), set()),
    "ignoredisk": ({"drives", "only-use"}, {"interactive"}),
    "part": (_VALUED_PART, {"grow", "asprimary", "noformat", "recommended", "encrypted", "hibernation"}),
    "raid": (
        {"level", "device", "spares", "fstype", "bytes-per-inode", "fsoptions", "label", "passphrase", "mkfsoptions"},
        {"noformat", "useexisting", "encrypted"},
    ),
    "volgroup": ({"pesize", "reserved-space", "reserved-percent"}, {"noformat", "useexisting"}),
    "logvol": (
        {"vgname", "name", "size", "maxsize", "percent", "fstype", "fsoptions", "label", "passphrase", "mkfsoptions"},
        {"grow", "noformat", "useexisting", "recommended", "encrypted", "hibernation"},
    ),
    "bootloader": None,
    "autopart": ({"type", "fstype"}, {"encrypted", "nolvm", "nohome", "noboot", "noswap"}),
}
ALIASES = {"partition": "part", "ondrive": "ondisk"}


@dataclass
class Directive:
    command: str
    words: list[str]
    options: dict[str, str | bool] = field(default_factory=dict)
    line: int = 0

    def opt(self, name: str, default=None):
        return self.options.get(name, default)

    def text(self) -> str:
        parts = [self.command, *self.words]
        for key, value in self.options.items():
            parts.append(f"--{key}" if value is True else f"--{key}={value}")
        return " ".join(parts)


@cache
def _parser() -> Lark:
    return lalr_parser("partition")


def parse_directives(text: str, source: str = "partition-info") -> list[Directive]:
    try:
        tree = _parser().parse(text if text.endswith("\n") else text + "\n")
    except UnexpectedInput as exc:
        raise RocksccError(f"{source}:{exc.line}:{exc.column}: cannot read this partitioning line") from None
    return [_directive(line, source) for line in tree.children if isinstance(line, Tree)]


def _directive(line: Tree, source: str) -> Directive:
    command_token: Token = line.children[0]
    command = ALIASES.get(str(command_token), str(command_token))
    where = f"{source}:{command_token.line}:{command_token.column}"
    if command not in OPTIONS:
        raise RocksccError(f"{where}: {command_token} is not a partitioning command ({', '.join(sorted(OPTIONS))})")
    spec = OPTIONS[command]
    directive = Directive(command, [], {}, command_token.line)
    items = list(line.children[1:])
    while items:
        item = items.pop(0)
        if item.data == "word":
            directive.words.append(_value(item.children[0]))
            continue
        token, value = item.children[0], (_value(item.children[1]) if len(item.children) > 1 else None)
        name = str(token)[2:]
        name = ALIASES.get(name, name)
        at = f"{source}:{token.line}:{token.column}"
        if spec is None:
            directive.options[name] = value if value is not None else True
            continue
        valued, flags = spec
        if name in valued:
            if value is None:  # `--size 1000`: the value is the next word
                if not items or items[0].data != "word":
                    raise RocksccError(f"{at}: {command} --{name} needs a value")
                value = _value(items.pop(0).children[0])
            directive.options[name] = value
        elif name in flags:
            if value is not None:
                raise RocksccError(f"{at}: {command} --{name} takes no value")
            directive.options[name] = True
        else:
            raise RocksccError(f"{at}: {command} has no option --{name}")
    return directive


def _value(token) -> str:
    text = str(token)
    return text[1:-1] if text[:1] in "\"'" else text
