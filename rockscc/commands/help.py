"""`rockscc help`: list every command."""

from __future__ import annotations

from rockscc.cli import registry
from rockscc.cli.command import Arg, Command
from rockscc.cli.dispatch import listing
from rockscc.cli.main import USAGE


class Help(Command):
    """List the commands, or those starting with the given words."""

    name = "help"
    args = [Arg("words", repeat=True, optional=True, help="show only commands starting with these words")]

    def run(self, ctx, opts) -> None:
        chosen = registry.subtree(opts.words) if opts.words else registry.names()
        ctx.out(USAGE)
        ctx.out("Commands:")
        ctx.out(listing(chosen))
